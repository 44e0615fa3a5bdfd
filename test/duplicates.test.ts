// Duplicate keys: a duplicate `_id` means "already inserted" (counted, not an error); a
// duplicate on another unique index is a real conflict and goes to dead letter as
// `duplicate_key`. Checked in the database and the dead-letter files.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BSON, type Document } from 'mongodb';
import { BatchWriter, type DeadLetterEvent } from '@scope/batchwriter-threads';
import { generateDocs, idKey, readBackById, sameDocument } from '@scope/testkit';
import { connectShared, freshDbName, sharedTypeProfile, sharedUri } from './helpers/sharedServer.js';
import { assertAccounting, readDeadLetters, reconcile, tempDir, timeEachTest } from './helpers/outcome.js';

const client = await connectShared();
timeEachTest(test);

test('10 % of the _ids already in the collection: 90 % inserted, 10 % duplicates, no dead letters', async () => {
  const dir = await tempDir('dup-id');
  try {
    const collection = client.db(freshDbName('dupid')).collection('events');
    const docs: Document[] = generateDocs('small', 10_000, 11, sharedTypeProfile()).map((d) => ({ _id: new BSON.ObjectId(), ...d }));
    // In runs of 100 (FerretDB inserts a chunk with a duplicate one document at a time: slow if every chunk had one).
    const pre = docs.filter((_, i) => i % 1000 >= 300 && i % 1000 < 400);
    for (let i = 0; i < pre.length; i += 1000) await collection.insertMany(pre.slice(i, i + 1000).map((d) => ({ ...d })));

    const writer = await BatchWriter.create({ uri: sharedUri(), db: collection.dbName, collection: collection.collectionName, workers: 2, maxBatchDocs: 500, deadLetter: { dir: dir.path } });
    const events: DeadLetterEvent[] = [];
    writer.on('deadLetter', (e: DeadLetterEvent) => events.push(e));
    await writer.writeMany(docs);
    await writer.flush();
    const summary = await writer.close();

    assert.is(summary.accepted, 10_000);
    assert.is(summary.inserted, 9_000);
    assert.is(summary.duplicates, 1_000);
    assert.is(summary.deadLettered, 0);
    assert.is(events.length, 0);
    assert.equal(summary.deadLetterFiles, []);
    assertAccounting(summary);
    const r = await reconcile(collection, docs, []);
    assert.is(r.inCollection, 10_000);
    // What is stored is what was written, field for field (the pre-inserted ones too).
    const back = await readBackById(collection);
    for (const doc of docs) assert.ok(sameDocument(doc, back.get(idKey(doc._id))!), `document ${idKey(doc._id)} differs`);
  } finally {
    await dir.remove();
  }
});

test('a unique index on another field: conflicting documents go to dead letter as duplicate_key, all others are inserted', async () => {
  const dir = await tempDir('dup-key');
  try {
    const collection = client.db(freshDbName('dupkey')).collection('accounts');
    await collection.createIndex({ email: 1 }, { unique: true });
    const docs: Document[] = generateDocs('small', 5_000, 12, sharedTypeProfile()).map((d, i) => ({ _id: new BSON.ObjectId(), email: `user${i}@example.test`, ...d }));
    // 5 % of the addresses already belong to someone else (another _id), in runs of 25.
    const conflicting = docs.filter((_, i) => i % 500 >= 200 && i % 500 < 225);
    await collection.insertMany(conflicting.map((d) => ({ _id: new BSON.ObjectId(), email: d.email, owner: 'earlier' })));
    const conflictIds = new Set(conflicting.map((d) => idKey(d._id)));

    const writer = await BatchWriter.create({ uri: sharedUri(), db: collection.dbName, collection: collection.collectionName, workers: 2, maxBatchDocs: 400, deadLetter: { dir: dir.path } });
    const events: DeadLetterEvent[] = [];
    writer.on('deadLetter', (e: DeadLetterEvent) => events.push(e));
    await writer.writeMany(docs);
    await writer.flush();
    const summary = await writer.close();

    assert.is(summary.accepted, 5_000);
    assert.is(summary.inserted, 4_750);
    assert.is(summary.duplicates, 0);
    assert.is(summary.deadLettered, 250);
    assertAccounting(summary);
    assert.is(events.length, 250);

    const letters = await readDeadLetters(summary.deadLetterFiles);
    assert.is(letters.length, 250);
    for (const l of letters) {
      assert.is(l.reason, 'duplicate_key');
      assert.ok(conflictIds.has(idKey(l.doc._id)), `dead letter for ${idKey(l.doc._id)}, which had no conflict`);
      assert.is(l.db, collection.dbName);
      assert.is(l.collection, collection.collectionName);
      assert.ok(l.attempts >= 1);
    }
    // The dead letter holds the document exactly as written.
    const byId = new Map(docs.map((d) => [idKey(d._id), d]));
    for (const l of letters) assert.ok(sameDocument(byId.get(idKey(l.doc._id))!, l.doc), `dead-lettered ${idKey(l.doc._id)} differs from what was written`);

    const r = await reconcile(collection, docs, letters, { preexisting: 250 });
    assert.is(r.inCollection, 4_750);
    assert.is(r.inDeadLetter, 250);
  } finally {
    await dir.remove();
  }
});

test('both at once in the same batches: _id duplicates are counted, other-index conflicts dead-lettered', async () => {
  const dir = await tempDir('dup-both');
  try {
    const collection = client.db(freshDbName('dupboth')).collection('accounts');
    await collection.createIndex({ email: 1 }, { unique: true });
    const docs: Document[] = generateDocs('small', 4_000, 13, sharedTypeProfile()).map((d, i) => ({ _id: new BSON.ObjectId(), email: `user${i}@example.test`, ...d }));
    const sameId = docs.filter((_, i) => i % 400 < 20); // already inserted, identical
    const otherOwner = docs.filter((_, i) => i % 400 >= 20 && i % 400 < 40); // address taken by another _id
    await collection.insertMany(sameId.map((d) => ({ ...d })));
    await collection.insertMany(otherOwner.map((d) => ({ _id: new BSON.ObjectId(), email: d.email })));

    const writer = await BatchWriter.create({ uri: sharedUri(), db: collection.dbName, collection: collection.collectionName, workers: 2, maxBatchDocs: 250, deadLetter: { dir: dir.path } });
    await writer.writeMany(docs);
    await writer.flush();
    const summary = await writer.close();

    assert.is(summary.inserted, 3_600);
    assert.is(summary.duplicates, 200);
    assert.is(summary.deadLettered, 200);
    assertAccounting(summary);
    const letters = await readDeadLetters(summary.deadLetterFiles);
    const expected = new Set(otherOwner.map((d) => idKey(d._id)));
    assert.equal(new Set(letters.map((l) => idKey(l.doc._id))), expected);
    assert.ok(letters.every((l) => l.reason === 'duplicate_key'));
    await reconcile(collection, docs, letters, { preexisting: 200 });
  } finally {
    await dir.remove();
  }
});

test.after(async () => {
  await client.close();
});

test.run();
