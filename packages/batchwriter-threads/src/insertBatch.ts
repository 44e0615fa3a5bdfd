// One batch, from decoded documents to an outcome: unordered inserts, retried with backoff
// for what may succeed later, duplicate `_id`s counted as already inserted, and every
// other document failed with its reason. Runs in a worker; no thread code in here.
import { MongoBulkWriteError, MongoServerError, type Collection, type Document, type BulkWriteOptions, type WriteError } from 'mongodb';
import { classifyError, classifyWriteErrorCode, codeOf, labelsOf } from './errorClassification.js';
import type { DocumentFailure, InsertResult } from './protocol.js';
import { backoffMs, mayAttempt, sleep, type RetryLimits } from './retryPolicy.js';

export interface InsertContext extends RetryLimits {
  collection: Collection;
  writeConcern: BulkWriteOptions['writeConcern'];
  attemptTimeoutMs: number;
  /** Aborts when close()'s deadline passes: attempts and backoff sleeps end at once. */
  deadline: AbortSignal;
  /** Scrubs credentials from messages. */
  redact(text: string): string;
  onRetry(): void;
  onAttempt(bytes: number): void;
}

/** `insertMany` with a signal: the driver honours it, its option types do not list it. */
type AbortableInsertOptions = BulkWriteOptions & { signal: AbortSignal };

export async function insertWithRetries(docs: Document[], sizes: number[], ctx: InsertContext): Promise<InsertResult> {
  const result: InsertResult = { inserted: 0, duplicates: 0, failures: [] };
  let pending = docs.map((_, i) => i);
  let lastError: unknown;
  const fail = (index: number, reason: DocumentFailure['reason'], err: unknown, attempts: number, code?: string): void => {
    result.failures.push({ index, reason, code: code ?? codeOf(err), labels: labelsOf(err), message: ctx.redact(messageOf(err)), attempts });
  };

  for (let attempt = 1; pending.length > 0; attempt++) {
    if (!mayAttempt(attempt, ctx)) {
      for (const i of pending) fail(i, 'retries_exhausted', lastError, attempt - 1);
      break;
    }
    if (attempt > 1) {
      ctx.onRetry();
      await sleep(backoffMs(attempt, ctx), ctx.deadline);
    }
    if (ctx.deadline.aborted) {
      for (const i of pending) fail(i, 'shutdown', lastError ?? 'close() deadline passed', attempt - 1, 'shutdown');
      break;
    }

    const batch = pending.map((i) => docs[i] as Document);
    ctx.onAttempt(pending.reduce((sum, i) => sum + (sizes[i] ?? 0), 0));
    const options: AbortableInsertOptions = {
      ordered: false,
      signal: AbortSignal.any([AbortSignal.timeout(ctx.attemptTimeoutMs), ctx.deadline]),
    };
    if (ctx.writeConcern) options.writeConcern = ctx.writeConcern;
    try {
      await ctx.collection.insertMany(batch, options);
      result.inserted += pending.length;
      pending = [];
      continue;
    } catch (err) {
      lastError = err;
      if (ctx.deadline.aborted) {
        // The aborted attempt may have stored some of these; replay counts them as duplicates.
        for (const i of pending) fail(i, 'shutdown', err, attempt, 'shutdown');
        break;
      }
      if (err instanceof MongoBulkWriteError) {
        pending = await settleBulkError(err, pending, docs, attempt, ctx, result, fail);
      } else if (classifyError(err) === 'fatal') {
        for (const i of pending) fail(i, 'write_error', err, attempt);
        pending = [];
      }
      // retryable: the whole remainder goes round again
    }
  }
  return result;
}

/** Sorts the documents of a partly failed unordered insert; returns those to retry. */
async function settleBulkError(
  err: MongoBulkWriteError,
  pending: number[],
  docs: Document[],
  attempt: number,
  ctx: InsertContext,
  result: InsertResult,
  fail: (index: number, reason: DocumentFailure['reason'], err: unknown, attempts: number, code?: string) => void,
): Promise<number[]> {
  const writeErrors: WriteError[] = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
  const failedAt = new Set<number>();
  const retry: number[] = [];
  const duplicates: { index: number; error: WriteError }[] = [];
  for (const we of writeErrors) {
    const index = pending[we.index];
    if (index === undefined) continue;
    failedAt.add(we.index);
    const cls = classifyWriteErrorCode(we.code);
    if (cls === 'duplicate') duplicates.push({ index, error: we });
    else if (cls === 'retryable') retry.push(index);
    else fail(index, 'write_error', writeErrorAsError(we), attempt);
  }
  // Without a write-concern error every document not listed in writeErrors was stored. With
  // one, they were written but not acknowledged as asked: send them again (duplicates then).
  const wcFailed = err.result?.getWriteConcernError() !== undefined;
  for (let k = 0; k < pending.length; k++) {
    if (failedAt.has(k)) continue;
    if (wcFailed) retry.push(pending[k] as number);
    else result.inserted += 1;
  }
  if (duplicates.length > 0) {
    const already = await idsPresent(ctx, duplicates.map((d) => docs[d.index]?._id));
    for (const { index, error } of duplicates) {
      if (already === undefined) retry.push(index);
      else if (already.has(idKey(docs[index]?._id))) result.duplicates += 1;
      else fail(index, 'duplicate_key', writeErrorAsError(error), attempt);
    }
  }
  return retry.sort((a, b) => a - b);
}

/**
 * Which of `ids` the collection holds. A duplicate-key error on a document whose `_id` is
 * there means "already inserted"; otherwise another unique index refused it. Asking the
 * collection works on every server (FerretDB does not report the offending index).
 */
async function idsPresent(ctx: InsertContext, ids: unknown[]): Promise<Set<string> | undefined> {
  try {
    const found = await ctx.collection
      .find({ _id: { $in: ids as never[] } }, { projection: { _id: 1 }, signal: AbortSignal.any([AbortSignal.timeout(ctx.attemptTimeoutMs), ctx.deadline]) })
      .toArray();
    return new Set(found.map((d) => idKey(d._id)));
  } catch {
    return undefined; // not now: retry the documents, the next attempt will tell
  }
}

function idKey(id: unknown): string {
  if (id !== null && typeof id === 'object' && 'toHexString' in id && typeof id.toHexString === 'function') return `oid:${id.toHexString()}`;
  return `v:${typeof id}:${String(id)}`;
}

function writeErrorAsError(we: WriteError): MongoServerError {
  return new MongoServerError({ message: we.errmsg ?? `write error ${we.code}`, code: we.code, errmsg: we.errmsg });
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err ?? 'unknown error');
}
