// One batch, from decoded documents to an outcome: unordered inserts, retried with backoff
// for what may succeed later, duplicate `_id`s counted as already inserted, and every
// other document failed with its reason. Runs in a worker; no thread code in here.
import { BSON, MongoBulkWriteError, MongoServerError, type Collection, type Document, type BulkWriteOptions, type WriteError } from 'mongodb';
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

/** A document the server refused as a duplicate key, not yet known to be on `_id` or on another index. */
interface Duplicate {
  index: number;
  error: WriteError;
}

export async function insertWithRetries(docs: Document[], sizes: number[], ctx: InsertContext): Promise<InsertResult> {
  const result: InsertResult = { inserted: 0, duplicates: 0, failures: [] };
  let pending = docs.map((_, i) => i);
  /** Refused as duplicate keys; their `_id`s still to be looked up (asked again, not re-inserted, when a lookup fails). */
  let unresolved: Duplicate[] = [];
  let lastError: unknown;
  const fail = (index: number, reason: DocumentFailure['reason'], err: unknown, attempts: number, code?: string): void => {
    result.failures.push({ index, reason, code: code ?? codeOf(err), labels: labelsOf(err), message: ctx.redact(messageOf(err)), attempts });
  };
  const remaining = (): number[] => [...pending, ...unresolved.map((d) => d.index)].sort((a, b) => a - b);

  for (let attempt = 1; pending.length > 0 || unresolved.length > 0; attempt++) {
    if (!mayAttempt(attempt, ctx)) {
      for (const i of remaining()) fail(i, 'retries_exhausted', lastError, attempt - 1);
      break;
    }
    if (attempt > 1) {
      ctx.onRetry();
      await sleep(backoffMs(attempt, ctx), ctx.deadline);
    }
    if (ctx.deadline.aborted) {
      for (const i of remaining()) fail(i, 'shutdown', lastError ?? 'close() deadline passed', attempt - 1, 'shutdown');
      break;
    }

    if (pending.length > 0) {
      const batch = pending.map((i) => docs[i] as Document);
      ctx.onAttempt(pending.reduce((sum, i) => sum + (sizes[i] ?? 0), 0));
      const attemptTimer = AbortSignal.timeout(ctx.attemptTimeoutMs);
      const options: AbortableInsertOptions = { ordered: false, signal: AbortSignal.any([attemptTimer, ctx.deadline]) };
      if (ctx.writeConcern) options.writeConcern = ctx.writeConcern;
      try {
        await ctx.collection.insertMany(batch, options);
        result.inserted += pending.length;
        pending = [];
      } catch (thrown) {
        // The driver wraps every failure of insertMany in a MongoBulkWriteError, a network
        // error or a timeout too (then with no writeErrors): only a reply with per-document
        // results may be settled document by document; anything else failed the whole attempt.
        const err = unwrapDriverError(thrown);
        lastError = err;
        if (ctx.deadline.aborted) {
          // The aborted attempt may have stored some of these; replay counts them as duplicates.
          for (const i of remaining()) fail(i, 'shutdown', err, attempt, 'shutdown');
          break;
        }
        if (err instanceof MongoBulkWriteError) {
          const settled = settleBulkError(err, pending, attempt, result, fail);
          pending = settled.retry;
          unresolved.push(...settled.duplicates);
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

    if (unresolved.length > 0) {
      // The `_id` there: inserted before (an earlier attempt, an earlier run). Not there:
      // another unique index refused the document, a real conflict.
      try {
        const present = await idsPresent(ctx, unresolved.map((d) => docs[d.index]?._id));
        unresolved.forEach(({ index, error }, k) => {
          if (present[k]) result.duplicates += 1;
          else fail(index, 'duplicate_key', writeErrorAsError(error), attempt);
        });
        unresolved = [];
      } catch (err) {
        lastError = err; // not now: ask again after the backoff
      }
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

/**
 * Sorts the documents of a partly failed unordered insert: counts what was stored, fails
 * what cannot be, and returns those to insert again and the duplicate keys still to be
 * looked up.
 */
function settleBulkError(
  err: MongoBulkWriteError,
  pending: number[],
  attempt: number,
  result: InsertResult,
  fail: (index: number, reason: DocumentFailure['reason'], err: unknown, attempts: number, code?: string) => void,
): { retry: number[]; duplicates: Duplicate[] } {
  const writeErrors: WriteError[] = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
  const failedAt = new Set<number>();
  const retry: number[] = [];
  const duplicates: Duplicate[] = [];
  for (const we of writeErrors) {
    const index = pending[we.index];
    if (index === undefined) continue;
    failedAt.add(we.index);
    const cls = classifyWriteErrorCode(we.code);
    if (cls === 'duplicate') {
      // The server says which index refused the document (MongoDB: keyPattern): `_id` means
      // already inserted, any other index a real conflict. Where it does not say (FerretDB),
      // the caller looks the `_id` up.
      const onId = duplicateOnId(we);
      if (onId === true) result.duplicates += 1;
      else if (onId === false) fail(index, 'duplicate_key', writeErrorAsError(we), attempt);
      else duplicates.push({ index, error: we });
    } else if (cls === 'retryable') retry.push(index);
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
  return { retry: retry.sort((a, b) => a - b), duplicates };
}

/** True/false when the write error names the index it hit (`keyPattern`); undefined when it does not. */
function duplicateOnId(we: WriteError): boolean | undefined {
  const raw = (we as unknown as { err?: { keyPattern?: unknown } }).err;
  const pattern = raw?.keyPattern;
  if (pattern === null || typeof pattern !== 'object') return undefined;
  const keys = Object.keys(pattern);
  return keys.length === 1 && keys[0] === '_id';
}

/** Up to this many `_id`s are looked up one by one; more with one `$in` query. */
const LOOKUP_ONE_BY_ONE_MAX = 8;

/**
 * For each of `ids`, whether the collection holds it. A duplicate-key error on a document
 * whose `_id` is there means "already inserted"; otherwise another unique index refused it.
 * A few `_id`s are looked up one by one (equality on `_id` is the one query every server
 * answers without reading other documents); more with a single `$in` query (FerretDB 1.x
 * answers both by scanning the collection, so one scan beats one per `_id`). Throws when
 * the server does not answer in time: the caller asks again after a backoff.
 */
async function idsPresent(ctx: InsertContext, ids: unknown[]): Promise<boolean[]> {
  const signal = (): AbortSignal => AbortSignal.any([AbortSignal.timeout(ctx.attemptTimeoutMs), ctx.deadline]);
  if (ids.length <= LOOKUP_ONE_BY_ONE_MAX) {
    // Matched by the server with its own comparison rules: no client-side key to get wrong.
    return Promise.all(ids.map(async (id) => (await ctx.collection.findOne({ _id: id as never }, { projection: { _id: 1 }, signal: signal() })) !== null));
  }
  const found = await ctx.collection
    .find({ _id: { $in: ids as never[] } }, { projection: { _id: 1 }, promoteValues: false, promoteLongs: false, promoteBuffers: false, signal: signal() })
    .toArray();
  const keys = new Set(found.map((d) => idKey(d._id)));
  return ids.map((id) => keys.has(idKey(id)));
}

/**
 * A type-exact key for an `_id` as the worker decodes it (promoteValues off, so an Int32
 * stays an Int32 and a Double a Double): the same value read back the same way gives the same key.
 */
function idKey(id: unknown): string {
  return BSON.EJSON.stringify({ id } as Document, { relaxed: false });
}

function writeErrorAsError(we: WriteError): MongoServerError {
  return new MongoServerError({ message: we.errmsg ?? `write error ${we.code}`, code: we.code, errmsg: we.errmsg });
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err ?? 'unknown error');
}
