// The dead-letter file: JSON Lines, one failed document per line with its reason, the
// document in canonical Extended JSON (types survive the round trip), rotated by size,
// fsynced every N records, files 0600 in a 0700 directory. Writes are queued so records
// land in order; a failed write is reported, never thrown into the writer.
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { BSON, type Document } from 'mongodb';
import type { ResolvedDeadLetterOptions } from './options.js';
import type { DeadLetterReason } from './protocol.js';

export interface DeadLetter {
  reason: DeadLetterReason;
  code: string;
  message: string;
  attempts: number;
  /** The document, decoded with its BSON types kept; absent when its bytes did not decode. */
  doc?: Document;
  /** The raw bytes, base64, when they did not decode. */
  raw?: string;
}

export interface DeadLetterRecord extends DeadLetter {
  ts: string;
  db: string;
  collection: string;
}

export class DeadLetterSink {
  private readonly options: ResolvedDeadLetterOptions;
  private readonly where: { db: string; collection: string };
  private readonly onError: (err: Error) => void;
  private file: FileHandle | undefined;
  private fileBytes = 0;
  private sinceSync = 0;
  private sequence = 0;
  private queue: Promise<void> = Promise.resolve();
  /** Paths of every file this sink created. */
  readonly files: string[] = [];

  constructor(options: ResolvedDeadLetterOptions, where: { db: string; collection: string }, onError: (err: Error) => void) {
    this.options = options;
    this.where = where;
    this.onError = onError;
  }

  /** Queues records for the file; resolves once they are written (or the write failed and was reported). */
  write(letters: DeadLetter[]): Promise<void> {
    const ts = new Date().toISOString();
    const lines = letters.map((l) => this.line(l, ts));
    this.queue = this.queue.then(() => this.append(lines)).catch((err: Error) => this.onError(err));
    return this.queue;
  }

  private line(letter: DeadLetter, ts: string): string {
    const record: Record<string, unknown> = { ts, reason: letter.reason };
    if (this.options.includeReason) {
      record.code = letter.code;
      record.message = letter.message;
    }
    record.attempts = letter.attempts;
    record.db = this.where.db;
    record.collection = this.where.collection;
    if (letter.doc) record.doc = BSON.EJSON.serialize(letter.doc, { relaxed: false });
    else record.raw = letter.raw;
    return `${JSON.stringify(record)}\n`;
  }

  /**
   * Writes the records of one call with one write per file (not one per record: a batch of
   * thousands of dead letters at close()'s deadline must not take seconds), then fsyncs once
   * `fsyncEvery` or more records are unsynced.
   */
  private async append(lines: string[]): Promise<void> {
    let chunk: string[] = [];
    let chunkBytes = 0;
    const writeChunk = async (): Promise<void> => {
      if (chunk.length === 0) return;
      await this.file!.appendFile(chunk.join(''));
      this.fileBytes += chunkBytes;
      this.sinceSync += chunk.length;
      chunk = [];
      chunkBytes = 0;
      if (this.sinceSync >= this.options.fsyncEvery) {
        await this.file!.sync();
        this.sinceSync = 0;
      }
    };
    for (const line of lines) {
      const bytes = Buffer.byteLength(line);
      const size = this.fileBytes + chunkBytes;
      if (!this.file) {
        await this.rotate();
      } else if (size > 0 && size + bytes > this.options.rotateBytes) {
        await writeChunk();
        await this.rotate();
      }
      chunk.push(line);
      chunkBytes += bytes;
      // fsyncEvery = 1 keeps its meaning: each record is on disk before the next is written.
      if (this.options.fsyncEvery === 1) await writeChunk();
    }
    await writeChunk();
  }

  private async rotate(): Promise<void> {
    await this.closeFile();
    await mkdir(this.options.dir, { recursive: true, mode: 0o700 });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const path = join(this.options.dir, `${this.options.filePrefix}-${stamp}-${process.pid}-${++this.sequence}.jsonl`);
    this.file = await open(path, 'a', 0o600);
    this.files.push(path);
    this.fileBytes = 0;
  }

  private async closeFile(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    if (file) {
      if (this.sinceSync > 0) await file.sync();
      this.sinceSync = 0;
      await file.close();
    }
  }

  /** Waits for queued records, syncs and closes the current file. */
  async close(): Promise<void> {
    this.queue = this.queue.then(() => this.closeFile()).catch((err: Error) => this.onError(err));
    await this.queue;
  }
}
