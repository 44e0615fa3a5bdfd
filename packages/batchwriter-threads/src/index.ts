export { BatchWriter, MAX_WORKER_DEATHS_PER_BATCH, type BatchEvent, type CloseSummary, type DeadLetterEvent, type Health, type Stats, type WriteOptions } from './writer.js';
export { BatchWriterError, type BatchWriterErrorCode } from './errors.js';
export { defaults, presets, resolveOptions, type BatchWriterOptions, type DeadLetterOptions, type Logger } from './options.js';
export type { DeadLetter, DeadLetterRecord } from './deadLetterSink.js';
export type { DeadLetterReason } from './protocol.js';
export { replayDeadLetters, type ReplayProgress, type ReplayProgressCallback, type ReplaySummary } from './replay.js';
