// Writer options: their types, defaults, the presets of the Go package, and validation.
// Pure: `resolveOptions` turns what the user gave into a complete, checked object or
// throws a BatchWriterError naming the option, the value and what is allowed.
import { availableParallelism } from 'node:os';
import type { MongoClientOptions, WriteConcernSettings } from 'mongodb';
import { BatchWriterError } from './errors.js';
import { redactUri } from './redact.js';

export const MIB = 1024 * 1024;
/** The server's document size limit (maxBsonObjectSize). */
export const MAX_DOCUMENT_BYTES = 16 * MIB;
/** The server's maxWriteBatchSize: more documents than this in one insert are split by the driver. */
export const MAX_BATCH_DOCS = 100_000;
/** A batch travels as one insert command: keep it under the server's 48 MB message size. */
export const MAX_BATCH_BYTES = 32 * MIB;

export interface DeadLetterOptions {
  /** Directory for the JSON Lines files; created 0700. */
  dir: string;
  /** File name prefix [`deadletter`]. */
  filePrefix?: string;
  /** fsync after this many records [100]; 1 = after every record. */
  fsyncEvery?: number;
  /** Start a new file past this many bytes [64 MiB]. */
  rotateBytes?: number;
  /** Write the error code and message into each record [true]. */
  includeReason?: boolean;
}

/** A pino-style logger; every method optional. The library never prints on its own. */
export interface Logger {
  debug?(obj: object, msg?: string): void;
  info?(obj: object, msg?: string): void;
  warn?(obj: object, msg?: string): void;
  error?(obj: object, msg?: string): void;
}

export interface BatchWriterOptions {
  /** MongoDB connection string; each worker opens its own client with it. */
  uri: string;
  db: string;
  collection: string;
  maxBatchDocs?: number;
  maxBatchBytes?: number;
  maxDelayMs?: number;
  queueBytes?: number;
  workers?: number;
  inflightPerWorker?: number;
  /** Attempts after the first; -1 = until success or the close deadline. */
  retries?: number;
  retryBackoffMinMs?: number;
  retryBackoffMaxMs?: number;
  attemptTimeoutMs?: number;
  writeConcern?: WriteConcernSettings;
  /** Passed to each worker's MongoClient; must be structured-cloneable (plain data). */
  clientOptions?: MongoClientOptions;
  deadLetter?: DeadLetterOptions | false;
  logger?: Logger;
  /** Aborting it starts `close()`. */
  signal?: AbortSignal;
}

export interface ResolvedDeadLetterOptions {
  dir: string;
  filePrefix: string;
  fsyncEvery: number;
  rotateBytes: number;
  includeReason: boolean;
}

export interface ResolvedOptions {
  uri: string;
  db: string;
  collection: string;
  maxBatchDocs: number;
  maxBatchBytes: number;
  maxDelayMs: number;
  queueBytes: number;
  workers: number;
  inflightPerWorker: number;
  retries: number;
  retryBackoffMinMs: number;
  retryBackoffMaxMs: number;
  attemptTimeoutMs: number;
  writeConcern: WriteConcernSettings | undefined;
  clientOptions: MongoClientOptions;
  deadLetter: ResolvedDeadLetterOptions | false;
  logger: Logger;
  signal: AbortSignal | undefined;
}

type Tunables = Omit<BatchWriterOptions, 'uri' | 'db' | 'collection' | 'logger' | 'signal' | 'deadLetter' | 'clientOptions'>;

export const defaults = {
  maxBatchDocs: 1000,
  maxBatchBytes: 8 * MIB,
  maxDelayMs: 50,
  queueBytes: 64 * MIB,
  workers: Math.min(4, availableParallelism()),
  inflightPerWorker: 2,
  retries: 3,
  retryBackoffMinMs: 10,
  retryBackoffMaxMs: 1000,
  attemptTimeoutMs: 5000,
} satisfies Required<Omit<Tunables, 'writeConcern'>>;

/**
 * The Go package's presets, translated: its queue size in documents becomes ring bytes for
 * the typical document of the preset, its flush interval `maxDelayMs`, its batch size
 * `maxBatchDocs`.
 */
export const presets = {
  /** Many small documents (logs, events, metrics): big batches, big ring, short delay. */
  highThroughputSmallDocuments: {
    maxBatchDocs: 5000,
    maxBatchBytes: 16 * MIB,
    maxDelayMs: 100,
    queueBytes: 256 * MIB,
    inflightPerWorker: 2,
    retries: 3,
    retryBackoffMinMs: 10,
    retryBackoffMaxMs: 1000,
    attemptTimeoutMs: 10_000,
  },
  /** Few, large documents: small batches by count, byte-bounded, longer timeouts. */
  largeDocumentsLowThroughput: {
    maxBatchDocs: 100,
    maxBatchBytes: 16 * MIB,
    maxDelayMs: 500,
    queueBytes: 128 * MIB,
    inflightPerWorker: 1,
    retries: 5,
    retryBackoffMinMs: 100,
    retryBackoffMaxMs: 5000,
    attemptTimeoutMs: 30_000,
  },
  /** Nothing may be lost: majority + journal, retry until the close deadline. */
  criticalReliability: {
    maxBatchDocs: 500,
    maxBatchBytes: 8 * MIB,
    maxDelayMs: 50,
    queueBytes: 64 * MIB,
    inflightPerWorker: 1,
    retries: -1,
    retryBackoffMinMs: 50,
    retryBackoffMaxMs: 5000,
    attemptTimeoutMs: 30_000,
    writeConcern: { w: 'majority', journal: true },
  },
  /** Small and quick to fail, for tests and local development. */
  developmentTesting: {
    maxBatchDocs: 100,
    maxBatchBytes: 1 * MIB,
    maxDelayMs: 10,
    queueBytes: 8 * MIB,
    workers: 1,
    inflightPerWorker: 1,
    retries: 1,
    retryBackoffMinMs: 10,
    retryBackoffMaxMs: 100,
    attemptTimeoutMs: 2000,
  },
} as const satisfies Record<string, Tunables>;

function invalid(option: string, value: unknown, allowed: string): BatchWriterError {
  const shown = typeof value === 'string' ? JSON.stringify(value) : typeof value === 'bigint' ? `${value}n` : String(value);
  return new BatchWriterError('ERR_INVALID_OPTION', `option ${option} is ${shown}; it must be ${allowed}`, { option, value, allowed });
}

function int(opts: Record<string, unknown>, name: string, fallback: number, min: number, max: number, extra?: number): number {
  const value = opts[name];
  if (value === undefined) return fallback;
  const ok = typeof value === 'number' && Number.isInteger(value) && ((value >= min && value <= max) || value === extra);
  if (!ok) {
    const range = `an integer from ${min} to ${max}${extra === undefined ? '' : ` (or ${extra})`}`;
    throw invalid(name, value, range);
  }
  return value;
}

function nonEmptyString(opts: Record<string, unknown>, name: string): string {
  const value = opts[name];
  if (typeof value !== 'string' || value.length === 0) throw invalid(name, name === 'uri' ? redactUri(String(value)) : value, 'a non-empty string');
  return value;
}

function resolveDeadLetter(value: unknown): ResolvedDeadLetterOptions | false {
  if (value === undefined || value === false) return false;
  if (typeof value !== 'object' || value === null) throw invalid('deadLetter', value, 'false or an object { dir, ... }');
  const dl = value as Record<string, unknown>;
  if (typeof dl.dir !== 'string' || dl.dir.length === 0) throw invalid('deadLetter.dir', dl.dir, 'a directory path');
  const prefix = dl.filePrefix ?? 'deadletter';
  if (typeof prefix !== 'string' || !/^[\w.-]+$/.test(prefix)) throw invalid('deadLetter.filePrefix', prefix, 'letters, digits, ".", "_" or "-"');
  if (dl.includeReason !== undefined && typeof dl.includeReason !== 'boolean') throw invalid('deadLetter.includeReason', dl.includeReason, 'a boolean');
  return {
    dir: dl.dir,
    filePrefix: prefix,
    fsyncEvery: int(dl, 'fsyncEvery', 100, 1, 1_000_000),
    rotateBytes: int(dl, 'rotateBytes', 64 * MIB, 4096, Number.MAX_SAFE_INTEGER),
    includeReason: dl.includeReason ?? true,
  };
}

/** Checks every option and fills in the defaults. Throws ERR_INVALID_OPTION on the first bad one. */
export function resolveOptions(input: BatchWriterOptions): ResolvedOptions {
  if (typeof input !== 'object' || input === null) throw invalid('options', input, 'an object');
  const opts = input as unknown as Record<string, unknown>;
  const uri = nonEmptyString(opts, 'uri');
  if (!/^mongodb(\+srv)?:\/\//.test(uri)) throw invalid('uri', redactUri(uri), 'a mongodb:// or mongodb+srv:// connection string');
  const db = nonEmptyString(opts, 'db');
  const collection = nonEmptyString(opts, 'collection');
  if (/[/\\. "$\0]/.test(db)) throw invalid('db', db, 'a database name without / \\ . space " $ or NUL');
  if (collection.includes('$') || collection.includes('\0')) throw invalid('collection', collection, 'a collection name without $ or NUL');

  const maxBatchDocs = int(opts, 'maxBatchDocs', defaults.maxBatchDocs, 1, MAX_BATCH_DOCS);
  const maxBatchBytes = int(opts, 'maxBatchBytes', defaults.maxBatchBytes, 1024, MAX_BATCH_BYTES);
  const maxDelayMs = int(opts, 'maxDelayMs', defaults.maxDelayMs, 0, 60_000);
  const queueBytes = int(opts, 'queueBytes', defaults.queueBytes, 64 * 1024, 2 ** 31 - 4096);
  const workers = int(opts, 'workers', defaults.workers, 1, 64);
  const inflightPerWorker = int(opts, 'inflightPerWorker', defaults.inflightPerWorker, 1, 64);
  const retries = int(opts, 'retries', defaults.retries, 0, 1000, -1);
  const retryBackoffMinMs = int(opts, 'retryBackoffMinMs', defaults.retryBackoffMinMs, 0, 600_000);
  const retryBackoffMaxMs = int(opts, 'retryBackoffMaxMs', defaults.retryBackoffMaxMs, 0, 600_000);
  if (retryBackoffMaxMs < retryBackoffMinMs) throw invalid('retryBackoffMaxMs', retryBackoffMaxMs, `at least retryBackoffMinMs (${retryBackoffMinMs})`);
  const attemptTimeoutMs = int(opts, 'attemptTimeoutMs', defaults.attemptTimeoutMs, 100, 600_000);

  const writeConcern = opts.writeConcern;
  if (writeConcern !== undefined && (typeof writeConcern !== 'object' || writeConcern === null)) {
    throw invalid('writeConcern', writeConcern, 'an object such as { w: "majority", journal: true }');
  }
  const clientOptions = opts.clientOptions ?? {};
  if (typeof clientOptions !== 'object' || clientOptions === null) throw invalid('clientOptions', clientOptions, 'an object');
  try {
    structuredClone(clientOptions);
  } catch {
    throw invalid('clientOptions', '[object]', 'plain data (it is sent to worker threads): no functions, class instances or sockets');
  }
  const logger = opts.logger ?? {};
  if (typeof logger !== 'object' || logger === null) throw invalid('logger', logger, 'a pino-style object with debug/info/warn/error methods');
  const signal = opts.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalid('signal', signal, 'an AbortSignal');

  return {
    uri,
    db,
    collection,
    maxBatchDocs,
    maxBatchBytes,
    maxDelayMs,
    queueBytes,
    workers,
    inflightPerWorker,
    retries,
    retryBackoffMinMs,
    retryBackoffMaxMs,
    attemptTimeoutMs,
    writeConcern: writeConcern as WriteConcernSettings | undefined,
    clientOptions: clientOptions as MongoClientOptions,
    deadLetter: resolveDeadLetter(opts.deadLetter),
    logger: logger as Logger,
    signal: signal as AbortSignal | undefined,
  };
}
