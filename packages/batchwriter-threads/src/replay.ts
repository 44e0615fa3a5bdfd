// Replay: reads dead-letter files (JSON Lines, see deadLetterSink.ts) line by line and
// writes each document back through a BatchWriter. Documents carry their `_id`, so a
// document that is already in the collection comes back as a duplicate, not a second copy:
// replaying twice inserts nothing twice.
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BSON, type Document } from 'mongodb';
import { BatchWriterError } from './errors.js';
import type { BatchWriterOptions } from './options.js';
import { BatchWriter, type CloseSummary } from './writer.js';

export interface ReplaySummary {
  /** Dead-letter records read (lines that held a document). */
  read: number;
  /** Documents stored by this replay. */
  inserted: number;
  /** Documents whose `_id` the collection already held (inserted earlier). */
  duplicates: number;
  /** Documents that failed again (in the replay writer's own dead letter, if it has one). */
  deadLettered: number;
  /** Lines that are not dead-letter records (not JSON, no document, bad Extended JSON). */
  malformedLines: number;
  /** Records whose document the writer refused before sending (not a document, too large, invalid BSON). */
  rejected: number;
  /** The dead-letter files read, in order. */
  files: string[];
  /** Dead-letter files the replay writer wrote (documents that failed again). */
  deadLetterFiles: string[];
}

export interface ReplayProgress {
  /** Records in all files (lines that are not blank); known once they are counted. */
  totalLines: number | undefined;
  /** Non-blank lines read so far. */
  linesRead: number;
  read: number;
  inserted: number;
  duplicates: number;
  deadLettered: number;
  malformedLines: number;
  rejected: number;
  /** Lines fully dealt with: inserted + duplicates + deadLettered + malformedLines + rejected. */
  settled: number;
}

export type ReplayProgressCallback = (progress: ReplayProgress) => void;

const PROGRESS_EVERY_MS = 200;

/**
 * Writes every document of the given dead-letter files (or of the `*.jsonl` files in the
 * given directories) back through a new BatchWriter made with `writerOptions`, then closes
 * it. Files are streamed line by line. `onProgress`, when given, is called a few times a
 * second and once at the end (the files are then counted first so that a total is known).
 */
export async function replayDeadLetters(paths: string | string[], writerOptions: BatchWriterOptions, onProgress?: ReplayProgressCallback): Promise<ReplaySummary> {
  const files = await expandPaths(Array.isArray(paths) ? paths : [paths]);
  const counts = { read: 0, malformedLines: 0, rejected: 0, linesRead: 0 };
  let totalLines: number | undefined;

  const writer = await BatchWriter.create(writerOptions);
  let closed: CloseSummary | undefined;
  const progress = (): ReplayProgress => {
    const s = closed ?? writer.stats();
    const settled = s.inserted + s.duplicates + s.deadLettered + counts.malformedLines + counts.rejected;
    return { totalLines, linesRead: counts.linesRead, read: counts.read, inserted: s.inserted, duplicates: s.duplicates, deadLettered: s.deadLettered, malformedLines: counts.malformedLines, rejected: counts.rejected, settled };
  };
  const timer = onProgress ? setInterval(() => onProgress(progress()), PROGRESS_EVERY_MS) : undefined;
  timer?.unref();

  try {
    if (onProgress) {
      totalLines = 0;
      for (const file of files) totalLines += await countLines(file);
      onProgress(progress());
    }
    reading: for (const file of files) {
      const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
      try {
        for await (const line of lines) {
          if (line.trim() === '') continue;
          counts.linesRead++;
          const parsed = parseLine(line);
          if (parsed === undefined) {
            counts.malformedLines++;
            continue;
          }
          counts.read++;
          try {
            if ('raw' in parsed) await writer.writeRaw(parsed.raw);
            else await writer.write(parsed.doc);
          } catch (err) {
            // The writer was closed under us (writerOptions.signal aborted): stop reading.
            if (err instanceof BatchWriterError && err.code === 'ERR_CLOSED') break reading;
            if (err instanceof BatchWriterError) counts.rejected++;
            else throw err;
          }
        }
      } finally {
        lines.close();
      }
    }
    // Everything settles (inserted, duplicate or dead-lettered) before close; close then has nothing left to cut short.
    await writer.flush();
  } finally {
    closed = await writer.close();
    if (timer) clearInterval(timer);
  }
  onProgress?.(progress());
  return {
    read: counts.read,
    inserted: closed.inserted,
    duplicates: closed.duplicates,
    deadLettered: closed.deadLettered,
    malformedLines: counts.malformedLines,
    rejected: counts.rejected,
    files,
    deadLetterFiles: closed.deadLetterFiles,
  };
}

type Parsed = { doc: Document } | { raw: Uint8Array };

/** One dead-letter line to the document it holds; undefined when it is not a record. */
function parseLine(line: string): Parsed | undefined {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return undefined;
  const { doc, raw } = record as { doc?: unknown; raw?: unknown };
  if (typeof doc === 'object' && doc !== null && !Array.isArray(doc)) {
    try {
      // Canonical Extended JSON back to BSON values, types kept (Int32 stays Int32, Long stays Long).
      const value: unknown = BSON.EJSON.deserialize(doc as Document, { relaxed: false });
      if (typeof value !== 'object' || value === null || Array.isArray(value) || '_bsontype' in value) return undefined;
      return { doc: value as Document };
    } catch {
      return undefined;
    }
  }
  if (typeof raw === 'string' && raw.length > 0) return { raw: Buffer.from(raw, 'base64') };
  return undefined;
}

/** Files as given; a directory stands for the `*.jsonl` files in it, in name order. */
async function expandPaths(paths: string[]): Promise<string[]> {
  if (paths.length === 0) throw new BatchWriterError('ERR_INVALID_OPTION', 'replayDeadLetters needs at least one dead-letter file or directory', { option: 'paths' });
  const files: string[] = [];
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch (err) {
      throw new BatchWriterError('ERR_INVALID_OPTION', `cannot read dead-letter path ${path}: ${(err as Error).message}`, { option: 'paths', value: path }, { cause: err });
    }
    if (info.isDirectory()) {
      const names = (await readdir(path)).filter((n) => n.endsWith('.jsonl')).sort();
      files.push(...names.map((n) => join(path, n)));
    } else {
      files.push(path);
    }
  }
  return files;
}

/** Non-blank lines of a file, counted over raw bytes (no decoding). */
async function countLines(file: string): Promise<number> {
  let count = 0;
  let sawContent = false;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (byte === 0x0a) {
        if (sawContent) count++;
        sawContent = false;
      } else if (byte !== 0x0d && byte !== 0x20 && byte !== 0x09) {
        sawContent = true;
      }
    }
  }
  return sawContent ? count + 1 : count;
}

