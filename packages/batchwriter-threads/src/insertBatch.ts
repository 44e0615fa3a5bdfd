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
    const attemptTimer = AbortSignal.timeout(ctx.attemptTimeoutMs);
    const options: AbortableInsertOptions = { ordered: false, signal: AbortSignal.any([attemptTimer, ctx.deadline]) };
    if (ctx.writeConcern) options.writeConcern = ctx.writeConcern;
    try {
      await ctx.collection.insertMany(batch, options);
      result.inserted += pending.length;
      pending = [];
      continue;
    } catch (thrown) {
      // The driver wraps every failure of insertMany in a MongoBulkWriteError, a network
      // error or a timeout too (then with no writeErrors): only a reply with per-document
      // results may be settled document by document; anything else failed the whole attempt.
      const err = unwrapDriverError(thrown);
      lastError = err;
      if (ctx.deadline.aborted) {
        // The aborted attempt may have stored some of these; replay counts them as duplicates.
        for (const i of pending) fail(i, 'shutdown', err, attempt, 'shutdown');
        break;
      }
      if (err instanceof MongoBulkWriteError) {
        pending = await settleBulkError(err, pending, docs, attempt, ctx, result, fail);
      } else if (attemptTimer.aborted) {
        // Our own per-attempt timeout, whatever the driver made of it (MongoOperationTimeoutError,
        // a connection checkout timeout, a DOMException...): try again.
      } else if (classifyError(err) === 'fatal') {
        for (const i of pending) fail(i, 'write_error', err, attempt);
        pending = [];
      }
      // retryable: the whole remainder goes round again (what an earlier part of it stored
      // comes back as duplicate `_id`s)
    }
  }
  return result;
}

/**
 * A MongoBulkWriteError that carries the error which stopped the bulk write (network,
 * timeout, server selection, a command error) rather than per-document results: that error.
 * Its writeErrors are empty, so settling it document by document would count every
 * document as inserted.
 */
function unwrapDriverError(err: unknown): unknown {
  if (err instanceof MongoBulkWriteError && err.errorResponse instanceof Error) return err.errorResponse;
  return err;
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
  // The server says which index refused the document (MongoDB: keyPattern): `_id` means
  // already inserted, any other index a real conflict. Where it does not say (FerretDB),
  // look the `_id`s up.
  const unknown: { index: number; error: WriteError }[] = [];
  for (const d of duplicates) {
    const onId = duplicateOnId(d.error);
    if (onId === true) result.duplicates += 1;
    else if (onId === false) fail(d.index, 'duplicate_key', writeErrorAsError(d.error), attempt);
    else unknown.push(d);
  }
  if (unknown.length > 0) {
    const present = await idsPresent(ctx, unknown.map((d) => docs[d.index]?._id));
    unknown.forEach(({ index, error }, k) => {
      if (present === undefined) retry.push(index);
      else if (present[k]) result.duplicates += 1;
      else fail(index, 'duplicate_key', writeErrorAsError(error), attempt);
    });
  }
  return retry.sort((a, b) => a - b);
}

/** True/false when the write error names the index it hit (`keyPattern`); undefined when it does not. */
function duplicateOnId(we: WriteError): boolean | undefined {
  const raw = (we as unknown as { err?: { keyPattern?: unknown } }).err;
  const pattern = raw?.keyPattern;
  if (pattern === null || typeof pattern !== 'object') return undefined;
  const keys = Object.keys(pattern);
  return keys.length === 1 && keys[0] === '_id';
}

/** How many `_id` lookups run at once. */
const LOOKUP_CONCURRENCY = 4;

/**
 * For each of `ids`, whether the collection holds it. A duplicate-key error on a document
 * whose `_id` is there means "already inserted"; otherwise another unique index refused it. One equality
 * lookup per `_id`: every server answers those from the `_id` index (FerretDB 1.x scans the
 * whole collection for `$in`, which on a large collection outlasts the attempt timeout).
 */
async function idsPresent(ctx: InsertContext, ids: unknown[]): Promise<boolean[] | undefined> {
  const found = ids.map(() => false);
  let next = 0;
  const lookOne = async (): Promise<void> => {
    while (next < ids.length) {
      const k = next++;
      const signal = AbortSignal.any([AbortSignal.timeout(ctx.attemptTimeoutMs), ctx.deadline]);
      // Matched by the server with its own comparison rules, so no client-side key to get wrong.
      found[k] = (await ctx.collection.findOne({ _id: ids[k] as never }, { projection: { _id: 1 }, signal })) !== null;
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(LOOKUP_CONCURRENCY, ids.length) }, lookOne));
    return found;
  } catch {
    return undefined; // not now: retry the documents, the next attempt will tell
  }
}

function writeErrorAsError(we: WriteError): MongoServerError {
  return new MongoServerError({ message: we.errmsg ?? `write error ${we.code}`, code: we.code, errmsg: we.errmsg });
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err ?? 'unknown error');
}
