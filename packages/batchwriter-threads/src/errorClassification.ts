// What an insert error means for the documents it hit, decided from the driver's own error
// classes, codes and labels (never from message text). Pure.
import {
  MongoError,
  MongoErrorLabel,
  MongoNetworkError,
  MongoOperationTimeoutError,
  MongoServerError,
  MongoServerSelectionError,
  MongoWriteConcernError,
} from 'mongodb';

export type ErrorClass = 'duplicate' | 'retryable' | 'fatal';

/** Duplicate key: E11000, the legacy E11001, and 12582 (duplicate key on update/mongos). */
export const DUPLICATE_KEY_CODES: ReadonlySet<number> = new Set([11000, 11001, 12582]);

/** Server codes that say "not now" rather than "not this document". */
export const RETRYABLE_CODES: ReadonlySet<number> = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  50, // MaxTimeMSExpired
  64, // WriteConcernFailed
  89, // NetworkTimeout
  91, // ShutdownInProgress
  112, // WriteConflict
  134, // ReadConcernMajorityNotAvailableYet
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
  10058, // LegacyNotPrimary
  462, // IngressRequestRateLimitExceeded
]);

const RETRYABLE_LABELS = [MongoErrorLabel.RetryableWriteError, MongoErrorLabel.RetryableError, MongoErrorLabel.SystemOverloadedError, MongoErrorLabel.ResetPool];

/** Class of one document's write error (an entry of a bulk write's writeErrors). */
export function classifyWriteErrorCode(code: number | undefined): ErrorClass {
  if (code !== undefined && DUPLICATE_KEY_CODES.has(code)) return 'duplicate';
  if (code !== undefined && RETRYABLE_CODES.has(code)) return 'retryable';
  return 'fatal';
}

/** Class of an error that failed a whole insert attempt. */
export function classifyError(err: unknown): ErrorClass {
  if (err instanceof MongoNetworkError || err instanceof MongoServerSelectionError || err instanceof MongoOperationTimeoutError || err instanceof MongoWriteConcernError) {
    return 'retryable';
  }
  if (err instanceof MongoError) {
    if (RETRYABLE_LABELS.some((label) => err.hasErrorLabel(label))) return 'retryable';
    if (err instanceof MongoServerError && typeof err.code === 'number') return classifyWriteErrorCode(err.code);
    return 'fatal';
  }
  // Our own per-attempt deadline (AbortSignal.timeout) surfaces as a DOMException.
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'retryable';
  return 'fatal';
}

/** The labels of a driver error, as plain data for crossing threads. */
export function labelsOf(err: unknown): string[] {
  return err instanceof MongoError ? [...err.errorLabels] : [];
}

/** A stable code string for a dead-letter record. */
export function codeOf(err: unknown): string {
  if (err instanceof MongoServerError && err.code !== undefined) return String(err.code);
  if (err instanceof Error) return err.name;
  return 'unknown';
}
