// 200,000 documents through each write path, and a mix of every shape: the collection
// holds exactly the accepted `_id`s, each document equal to what was written.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BSON, type Document } from 'mongodb';
import { BatchWriter } from '@scope/batchwriter-threads';
import { generateDocs, generateMixed } from '@scope/testkit';
import { useFreshDatabase, sharedTypeProfile, sharedUri } from './helpers/sharedServer.js';
import { assertBalanced, assertCollectionHolds } from './helpers/verify.js';

const N = 200_000;
const fresh = useFreshDatabase(test, 'paths');
const dbName = fresh.name;
const db = () => fresh.client().db(dbName);

async function writerFor(collection: string): Promise<BatchWriter> {
  return BatchWriter.create({ uri: sharedUri(), db: dbName, collection, maxBatchDocs: 2000 });
}

async function finish(writer: BatchWriter, collection: string, written: Document[]): Promise<void> {
  await writer.flush();
  const s = writer.stats();
  assert.is(s.accepted, written.length);
  assert.is(s.inserted, written.length, 'accepted = inserted when nothing fails');
  assert.is(s.deadLettered, 0);
  const h = writer.health();
  assert.is(h.queueDepthDocs, 0);
  assert.is(h.queueUtilPct, 0);
  assertBalanced(writer);
  await writer.close();
  await assertCollectionHolds(db().collection(collection), written);
}

test('write(): 200,000 documents', async () => {
  const docs = generateDocs('small', N, 11);
  const writer = await writerFor('write');
  for (const doc of docs) await writer.write(doc);
  await finish(writer, 'write', docs);
});

test('tryWrite(): 200,000 documents, retrying when the ring is full', async () => {
  const docs = generateDocs('small', N, 12);
  const writer = await BatchWriter.create({ uri: sharedUri(), db: dbName, collection: 'tryWrite', queueBytes: 4 * 1024 * 1024, maxBatchDocs: 2000 });
  let refused = 0;
  for (const doc of docs) {
    while (!writer.tryWrite(doc)) {
      refused++;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  assert.is(writer.stats().rejectedFull, refused);
  await finish(writer, 'tryWrite', docs);
});

test('writeMany(): 200,000 documents in arrays of 1,000', async () => {
  const docs = generateDocs('small', N, 13);
  const writer = await writerFor('writeMany');
  for (let i = 0; i < docs.length; i += 1000) await writer.writeMany(docs.slice(i, i + 1000));
  await finish(writer, 'writeMany', docs);
});

test('writeRaw(): 200,000 pre-encoded documents, half without _id (spliced in)', async () => {
  const docs = generateDocs('small', N, 14);
  for (let i = 0; i < docs.length; i += 2) docs[i] = { _id: new BSON.ObjectId(), ...docs[i] };
  const writer = await writerFor('writeRaw');
  for (const doc of docs) await writer.writeRaw(BSON.serialize(doc));
  await writer.flush();
  assert.is(writer.stats().inserted, N);
  await writer.close();
  // The spliced `_id`s are the writer's: match by seq, compare everything else.
  const back = new Map<number, Document>();
  for await (const d of db().collection('writeRaw').find({}, { promoteValues: false, promoteLongs: false, promoteBuffers: false })) {
    back.set(Number(d.seq), d);
  }
  assert.is(back.size, N);
  for (const doc of docs) {
    const got = back.get(doc.seq as number)!;
    assert.ok(got, `missing seq ${doc.seq}`);
    assert.ok(got._id instanceof BSON.ObjectId);
    if (doc._id) assert.ok((doc._id as BSON.ObjectId).equals(got._id), 'an _id given in raw BSON is kept');
    const { _id: _a, ...wantRest } = doc;
    const { _id: _b, ...gotRest } = got;
    assert.is(Buffer.compare(BSON.serialize(wantRest), BSON.serialize(gotRest)), 0, `seq ${doc.seq} differs`);
  }
});

test('a mix of every shape, each BSON type intact', async () => {
  const docs = [...generateMixed(20_000, 15, ['small', 'medium', 'allTypes', 'large'], sharedTypeProfile()), ...generateDocs('huge', 40, 16)];
  const writer = await writerFor('mixed');
  await writer.writeMany(docs);
  await finish(writer, 'mixed', docs);
});

test.run();
