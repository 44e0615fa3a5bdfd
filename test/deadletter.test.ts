// The dead-letter sink: JSON Lines with canonical Extended JSON, files 0600 in a 0700
// directory, rotation by bytes; `deadLetter: false` reports through the event and the
// counters only; a sink that cannot write reports an error and the writer goes on; replay
// brings every BSON type back and inserts nothing twice.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFile, copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BSON, type Collection, type Document } from 'mongodb';
import { BatchWriter, BatchWriterError, replayDeadLetters, type DeadLetterEvent, type ReplayProgress } from '@scope/batchwriter-threads';
import { generateDocs, idKey, readBackById, sameDocument } from '@scope/testkit';
import { connectShared, freshDbName, sharedTypeProfile, sharedUri } from './helpers/sharedServer.js';
import { assertAccounting, readDeadLetters, reconcile, recordingLogger, tempDir, timeEachTest } from './helpers/outcome.js';

const client = await connectShared();
timeEachTest(test);

/** A collection with a unique index on `key` where the given documents' keys are already taken by other `_id`s. */
async function conflictingCollection(prefix: string, docs: Document[], taken: Document[]): Promise<Collection> {
  const collection = client.db(freshDbName(prefix)).collection('docs');
  await collection.createIndex({ key: 1 }, { unique: true });
  if (taken.length > 0) await collection.insertMany(taken.map((d) => ({ _id: new BSON.ObjectId(), key: d.key, owner: 'earlier' })));
  assert.ok(docs.length > 0);
  return collection;
}

function keyed(count: number, seed: number, shape: 'small' | 'allTypes' = 'small'): Document[] {
  return generateDocs(shape, count, seed, sharedTypeProfile()).map((d, i) => ({ _id: new BSON.ObjectId(), key: `k-${seed}-${i}`, ...d }));
}

test('dead-letter files are 0600 in a 0700 directory, rotated by bytes, one canonical Extended JSON record per document', async () => {
  const tmp = await tempDir('dl-modes');
  try {
    const docs = keyed(1_000, 21);
    const conflicting = docs.slice(100, 220);
    const collection = await conflictingCollection('dlmodes', docs, conflicting);
    const dir = join(tmp.path, 'nested', 'dead');
    const writer = await BatchWriter.create({
      uri: sharedUri(),
      db: collection.dbName,
      collection: collection.collectionName,
      workers: 1,
      deadLetter: { dir, filePrefix: 'events', rotateBytes: 4096, fsyncEvery: 1 },
    });
    await writer.writeMany(docs);
    await writer.flush();
    const summary = await writer.close();
    assertAccounting(summary);
    assert.is(summary.deadLettered, 120);
    assert.is(summary.inserted, 880);

    assert.is((await stat(dir)).mode & 0o777, 0o700, 'dead-letter directory mode');
    const names = (await readdir(dir)).sort();
    assert.ok(names.length > 5, `expected rotation into many files, got ${names.length}`);
    assert.equal(names.map((n) => join(dir, n)).sort(), [...summary.deadLetterFiles].sort());
    for (const name of names) {
      assert.match(name, /^events-.*\.jsonl$/);
      const info = await stat(join(dir, name));
      assert.is(info.mode & 0o777, 0o600, `${name} mode`);
      // A file ends at the first record that takes it past rotateBytes.
      const lines = (await readFile(join(dir, name), 'utf8')).trimEnd().split('\n');
      const withoutLast = info.size - Buffer.byteLength(lines[lines.length - 1]!) - 1;
      assert.ok(withoutLast <= 4096, `${name}: ${info.size} bytes`);
    }

    const letters = await readDeadLetters(summary.deadLetterFiles);
    assert.is(letters.length, 120);
    const expected = new Map(conflicting.map((d) => [idKey(d._id), d]));
    for (const l of letters) {
      const raw = JSON.parse(l.line) as Record<string, unknown>;
      assert.equal(Object.keys(raw), ['ts', 'reason', 'code', 'message', 'attempts', 'db', 'collection', 'doc']);
      assert.ok(!Number.isNaN(Date.parse(raw.ts as string)));
      assert.is(raw.reason, 'duplicate_key');
      assert.is(raw.code, '11000');
      assert.type(raw.message, 'string');
      assert.is(raw.db, collection.dbName);
      assert.is(raw.collection, collection.collectionName);
      // Canonical, not relaxed: every number says its type.
      const doc = raw.doc as Record<string, Record<string, string>>;
      assert.type(doc._id!.$oid, 'string');
      assert.type(doc.seq!.$numberInt, 'string');
      assert.type(doc.latencyMs!.$numberDouble ?? doc.latencyMs!.$numberInt, 'string');
      const original = expected.get(idKey(l.doc._id));
      assert.ok(original, 'dead letter for a document without a conflict');
      assert.ok(sameDocument(original, l.doc), 'dead-lettered document differs from the one written');
    }
    await reconcile(collection, docs, letters, { preexisting: 120 });
  } finally {
    await tmp.remove();
  }
});

test('deadLetter: false still reports every failed document through the deadLetter event and counts it', async () => {
  const tmp = await tempDir('dl-off');
  const cwdBefore = await readdir(process.cwd());
  try {
    const docs = keyed(600, 22);
    const conflicting = docs.filter((_, i) => i % 100 < 10);
    const collection = await conflictingCollection('dloff', docs, conflicting);
    const writer = await BatchWriter.create({ uri: sharedUri(), db: collection.dbName, collection: collection.collectionName, workers: 1, deadLetter: false });
    const events: DeadLetterEvent[] = [];
    writer.on('deadLetter', (e: DeadLetterEvent) => events.push(e));
    await writer.writeMany(docs);
    await writer.flush();
    assert.is(writer.stats().deadLettered, 60);
    const summary = await writer.close();
    assertAccounting(summary);
    assert.is(summary.deadLettered, 60);
    assert.is(summary.inserted, 540);
    assert.equal(summary.deadLetterFiles, []);
    assert.is(events.length, 60);
    const expected = new Map(conflicting.map((d) => [idKey(d._id), d]));
    for (const e of events) {
      assert.is(e.reason, 'duplicate_key');
      assert.is(e.db, collection.dbName);
      assert.is(e.collection, collection.collectionName);
      assert.is(e.code, '11000');
      assert.ok(e.doc, 'the event carries the document');
      assert.ok(sameDocument(expected.get(idKey(e.doc!._id))!, e.doc!), 'the event document differs from the one written');
    }
    assert.is(new Set(events.map((e) => idKey(e.doc!._id))).size, 60);
    // Nothing written anywhere: no new files in the working directory.
    assert.equal(await readdir(process.cwd()), cwdBefore);
    const r = await reconcile(collection, docs, events.map((e) => ({ doc: e.doc! })), { preexisting: 60 });
    assert.is(r.inCollection, 540);
  } finally {
    await tmp.remove();
  }
});

test('a dead-letter file that cannot be written is an error event and a counter; the writer goes on', async () => {
  const tmp = await tempDir('dl-fail');
  try {
    const blocker = join(tmp.path, 'not-a-dir');
    await writeFile(blocker, 'a file where the directory should be');
    const docs = keyed(300, 23);
    const conflicting = docs.slice(0, 30);
    const collection = await conflictingCollection('dlfail', docs, conflicting);
    const logger = recordingLogger();
    const writer = await BatchWriter.create({ uri: sharedUri(), db: collection.dbName, collection: collection.collectionName, workers: 1, logger, deadLetter: { dir: join(blocker, 'dead') } });
    const errors: Error[] = [];
    const events: DeadLetterEvent[] = [];
    writer.on('error', (err: Error) => errors.push(err));
    writer.on('deadLetter', (e: DeadLetterEvent) => events.push(e));
    await writer.writeMany(docs);
    await writer.flush();
    assert.ok(errors.length >= 1, 'no error event');
    assert.instance(errors[0], BatchWriterError);
    assert.is((errors[0] as BatchWriterError).code, 'ERR_DEAD_LETTER_WRITE');
    assert.is(events.length, 30, 'the deadLetter event still fires for each document');
    assert.is(writer.health().lastError?.code, 'ERR_DEAD_LETTER_WRITE');
    // Still writing.
    const more = keyed(200, 24);
    await writer.writeMany(more);
    await writer.flush();
    const summary = await writer.close();
    assertAccounting(summary);
    assert.is(summary.deadLettered, 30);
    assert.is(summary.inserted, 470);
    assert.is(await collection.countDocuments({ owner: { $exists: false } }), 470);
  } finally {
    await tmp.remove();
  }
});

test('replay brings every BSON type back; replaying twice inserts nothing twice; bad lines are counted, not fatal', async () => {
  const tmp = await tempDir('dl-replay');
  try {
    const docs = keyed(400, 25, 'allTypes');
    const collection = await conflictingCollection('dlreplay', docs, docs);
    const options = { uri: sharedUri(), db: collection.dbName, collection: collection.collectionName, workers: 1, deadLetter: { dir: join(tmp.path, 'first') } };
    const writer = await BatchWriter.create(options);
    await writer.writeMany(docs);
    await writer.flush();
    const summary = await writer.close();
    assertAccounting(summary);
    assert.is(summary.deadLettered, 400, 'every document conflicts');
    const letters = await readDeadLetters(summary.deadLetterFiles);
    assert.is(letters.length, 400);

    // The conflict goes away (the earlier owners leave); replay completes the collection.
    await collection.deleteMany({ owner: 'earlier' });
    const progress: ReplayProgress[] = [];
    const replayOptions = { ...options, deadLetter: { dir: join(tmp.path, 'replay') } };
    const first = await replayDeadLetters(summary.deadLetterFiles, replayOptions, (p) => progress.push(p));
    assert.equal(
      { read: first.read, inserted: first.inserted, duplicates: first.duplicates, deadLettered: first.deadLettered, malformedLines: first.malformedLines, rejected: first.rejected },
      { read: 400, inserted: 400, duplicates: 0, deadLettered: 0, malformedLines: 0, rejected: 0 },
    );
    assert.equal(first.deadLetterFiles, []);
    const last = progress[progress.length - 1]!;
    assert.is(last.totalLines, 400);
    assert.is(last.settled, 400);

    const back = await readBackById(collection);
    assert.is(back.size, 400);
    for (const doc of docs) assert.ok(sameDocument(doc, back.get(idKey(doc._id))!), `replayed ${idKey(doc._id)} came back with different types or values`);

    // Again, from a directory, with junk mixed in: all duplicates, nothing new.
    const again = join(tmp.path, 'again');
    await mkdir(again);
    for (const [i, file] of summary.deadLetterFiles.entries()) await copyFile(file, join(again, `dl-${i}.jsonl`));
    await appendFile(join(again, 'dl-0.jsonl'), 'not json\n\n{}\n{"doc":{"_id":{"$oid":"not-an-object-id"}}}\n[1,2]\n');
    await writeFile(join(again, 'ignored.txt'), 'not a .jsonl file\n');
    const second = await replayDeadLetters(again, replayOptions);
    assert.equal(
      { read: second.read, inserted: second.inserted, duplicates: second.duplicates, deadLettered: second.deadLettered, malformedLines: second.malformedLines },
      { read: 400, inserted: 0, duplicates: 400, deadLettered: 0, malformedLines: 4 },
    );
    assert.is(await collection.countDocuments(), 400);
  } finally {
    await tmp.remove();
  }
});

test.after(async () => {
  await client.close();
});

test.run();
