// What crosses between the main thread and the workers: plain data only (structured
// clone), never Error instances or driver objects.
import type { MongoClientOptions, WriteConcernSettings } from 'mongodb';

/** Why a document went to the dead-letter file. */
export type DeadLetterReason = 'duplicate_key' | 'write_error' | 'retries_exhausted' | 'worker_crashed' | 'shutdown' | 'invalid_document';

/** Given to each worker once, through Piscina's workerData. */
export interface WorkerConfig {
  sab: SharedArrayBuffer;
  /** Name of the BroadcastChannel on which the main thread announces deadline and close. */
  channel: string;
  uri: string;
  db: string;
  collection: string;
  clientOptions: MongoClientOptions;
  writeConcern: WriteConcernSettings | undefined;
  retries: number;
  retryBackoffMinMs: number;
  retryBackoffMaxMs: number;
  attemptTimeoutMs: number;
}

export interface InsertTask {
  kind: 'insert';
  batchId: number;
  /** Physical byte range in the ring's byte area. */
  start: number;
  end: number;
  count: number;
}

export interface PingTask {
  kind: 'ping';
}

export type WorkerTask = InsertTask | PingTask;

export interface DocumentFailure {
  /** Position of the document in its batch. */
  index: number;
  reason: DeadLetterReason;
  code: string;
  labels: string[];
  message: string;
  attempts: number;
}

export interface InsertResult {
  inserted: number;
  duplicates: number;
  failures: DocumentFailure[];
}

export interface PingResult {
  ok: boolean;
  /** Redacted message when not ok. */
  message?: string;
  maxMessageSizeBytes?: number;
  maxBsonObjectSize?: number;
  maxWriteBatchSize?: number;
}

/** Messages on the BroadcastChannel. */
export type ControlMessage = { type: 'deadline' } | { type: 'close' };
