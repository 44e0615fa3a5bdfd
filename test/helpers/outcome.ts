// What the fault, duplicate and dead-letter suites check after each run: the writer's
// counters add up, and the collection plus the dead-letter files hold every accepted `_id`
// (read from the database and the files, not taken from the counters).
import type { Test } from 'uvu';
import * as assert from 'uvu/assert';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BSON, type Collection, type Document } from 'mongodb';
import { idKey } from '@scope/testkit';
import type { DeadLetterReason, Logger, Stats } from '@scope/batchwriter-threads';

/** accepted = inserted + duplicates + deadLettered, after every test. */
export function assertAccounting(stats: Stats, label = ''): void {
  assert.is(stats.inserted + stats.duplicates + stats.deadLettered, stats.accepted, `${label} accepted (${stats.accepted}) != inserted (${stats.inserted}) + duplicates (${stats.duplicates}) + deadLettered (${stats.deadLettered})`);
}

export interface ParsedDeadLetter {
  ts: string;
  reason: DeadLetterReason;
  code?: string;
  message?: string;
  attempts: number;
  db: string;
  collection: string;
  /** Decoded with BSON types kept. */
  doc: Document;
  /** The line as written. */
  line: string;
}

/** Every record of the given dead-letter files, documents decoded from canonical Extended JSON. */
export async function readDeadLetters(files: string[]): Promise<ParsedDeadLetter[]> {
  const out: ParsedDeadLetter[] = [];
  for (const file of files) {
    const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
    for await (const line of lines) {
      if (line.trim() === '') continue;
      const record = JSON.parse(line) as Omit<ParsedDeadLetter, 'doc' | 'line'> & { doc: Document };
      out.push({ ...record, doc: BSON.EJSON.deserialize(record.doc, { relaxed: false }) as Document, line });
    }
  }
  return out;
}

/** `_id` key → number of documents in the collection with it, and `seq` → count. */
export async function collectionContents(collection: Collection): Promise<{ ids: Map<string, number>; seqs: Map<string, number>; total: number }> {
  const ids = new Map<string, number>();
  const seqs = new Map<string, number>();
  let total = 0;
  for await (const doc of collection.find({}, { projection: { _id: 1, seq: 1 }, promoteValues: false })) {
    total++;
    const id = idKey(doc._id);
    ids.set(id, (ids.get(id) ?? 0) + 1);
    const seq = doc.seq === undefined ? undefined : String(doc.seq.valueOf?.() ?? doc.seq);
    if (seq !== undefined) seqs.set(seq, (seqs.get(seq) ?? 0) + 1);
  }
  return { ids, seqs, total };
}

export interface Reconciled {
  inCollection: number;
  inDeadLetter: number;
  /** Accepted documents found both in the collection and in the dead letters. */
  inBoth: string[];
  /** Accepted documents found in neither. */
  lost: string[];
}

/**
 * Checks that every written document is in the collection exactly once or in the dead
 * letters exactly once (or, when `allowBoth`, possibly both: an attempt cut off by a dead
 * server may have been stored without an acknowledgement), that nothing else is there, and
 * that no document appears twice in the collection under any `_id` (`seq` is unique per doc).
 */
export async function reconcile(collection: Collection, written: Document[], letters: { doc: Document }[], opts: { allowBoth?: boolean; preexisting?: number } = {}): Promise<Reconciled> {
  const { ids, seqs, total } = await collectionContents(collection);
  const writtenKeys = new Set(written.map((d) => idKey(d._id)));
  assert.is(writtenKeys.size, written.length, 'the test wrote documents with repeated _ids');
  for (const [seq, n] of seqs) assert.is(n, 1, `seq ${seq} stored ${n} times`);
  assert.is(total, ids.size, 'some _id appears twice in the collection');
  const extra = [...ids.keys()].filter((k) => !writtenKeys.has(k));
  assert.is(extra.length, opts.preexisting ?? 0, `documents in the collection that were never written: ${extra.slice(0, 3).join(', ')}`);

  const dlCount = new Map<string, number>();
  for (const l of letters) {
    const k = idKey(l.doc._id);
    assert.ok(writtenKeys.has(k), `dead letter for a document never written: ${k}`);
    dlCount.set(k, (dlCount.get(k) ?? 0) + 1);
  }
  for (const [k, n] of dlCount) assert.is(n, 1, `${k} dead-lettered ${n} times`);

  const inBoth: string[] = [];
  const lost: string[] = [];
  let inCollection = 0;
  for (const k of writtenKeys) {
    const c = ids.has(k);
    const d = dlCount.has(k);
    if (c) inCollection++;
    if (c && d) inBoth.push(k);
    if (!c && !d) lost.push(k);
  }
  assert.is(lost.length, 0, `${lost.length} accepted documents are neither in the collection nor in dead letter, e.g. ${lost.slice(0, 3).join(', ')}`);
  if (!opts.allowBoth) assert.is(inBoth.length, 0, `${inBoth.length} documents are both in the collection and in dead letter, e.g. ${inBoth.slice(0, 3).join(', ')}`);
  return { inCollection, inDeadLetter: dlCount.size, inBoth, lost };
}

export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `bwt-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` every 10 ms until it holds; throws after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** A logger that keeps every call, for tests that read what the library logged. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const record = (level: string) => (obj: object, msg?: string) => {
    lines.push(`${level} ${msg ?? ''} ${safeStringify(obj)}`);
  };
  return { lines, debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
}

export function safeStringify(value: unknown): string {
  try {
    return BSON.EJSON.stringify(value as Document, { relaxed: false });
  } catch {
    try {
      return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    } catch {
      return String(value);
    }
  }
}

/** Prints each test's duration after it (suites with fault injection take a while; this shows where). */
export function timeEachTest(suite: Test): void {
  const started = new Map<string, number>();
  suite.before.each((ctx: Record<string, unknown>) => {
    started.set(String(ctx.__test__), Date.now());
  });
  suite.after.each((ctx: Record<string, unknown>) => {
    const name = String(ctx.__test__);
    console.log(`  [${((Date.now() - (started.get(name) ?? Date.now())) / 1000).toFixed(1)} s] ${name}`);
  });
}
