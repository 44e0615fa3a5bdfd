// The batch cutter against a real server: batches never exceed maxBatchDocs or
// maxBatchBytes, and a lone document is not held longer than maxDelayMs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BSON } from 'mongodb';
import { BatchWriter, type BatchEvent } from '@scope/batchwriter-threads';
import { generateDocs, generateMixed } from '@scope/testkit';
import { useFreshDatabase, sharedTypeProfile, sharedUri } from './helpers/sharedServer.js';
import { assertBalanced, assertCollectionHolds } from './helpers/verify.js';

const fresh = useFreshDatabase(test, 'batching');
const dbName = fresh.name;
const db = () => fresh.client().db(dbName);

test('with maxBatchDocs 100 no batch exceeds 100 documents', async () => {
  const writer = await BatchWriter.create({ uri: sharedUri(), db: dbName, collection: 'docs100', maxBatchDocs: 100 });
  const batches: BatchEvent[] = [];
  writer.on('batch', (b: BatchEvent) => batches.push(b));
  const docs = generateDocs('small', 20_000, 21);
  await writer.writeMany(docs);
  await writer.flush();
  assert.ok(batches.length >= 200, `only ${batches.length} batches for 20,000 docs`);
  assert.ok(batches.every((b) => b.docs <= 100), `a batch of ${Math.max(...batches.map((b) => b.docs))} docs`);
  assert.is(batches.reduce((n, b) => n + b.docs, 0), 20_000);
  assertBalanced(writer);
  await writer.close();
  await assertCollectionHolds(db().collection('docs100'), docs);
});

test('with maxBatchBytes 64 KiB no batch exceeds 64 KiB', async () => {
  const limit = 64 * 1024;
  const writer = await BatchWriter.create({ uri: sharedUri(), db: dbName, collection: 'bytes64k', maxBatchBytes: limit, maxBatchDocs: 100_000 });
  const batches: BatchEvent[] = [];
  writer.on('batch', (b: BatchEvent) => batches.push(b));
  const docs = generateMixed(6000, 22, ['small', 'medium', 'large', 'allTypes'], sharedTypeProfile());
  await writer.writeMany(docs);
  await writer.flush();
  const biggest = Math.max(...batches.map((b) => b.bytes));
  assert.ok(biggest <= limit, `a batch of ${biggest} bytes`);
  assert.ok(biggest > limit / 2, 'batches are filled towards the byte limit');
  assertBalanced(writer);
  await writer.close();
  await assertCollectionHolds(db().collection('bytes64k'), docs);
});

test('one lone document lands within maxDelayMs + 250 ms', async () => {
  const maxDelayMs = 200;
  const writer = await BatchWriter.create({ uri: sharedUri(), db: dbName, collection: 'lone', maxDelayMs, maxBatchDocs: 1000 });
  const collection = db().collection('lone');
  await collection.findOne({}); // warm our own connection so the poll measures the writer
  const [doc] = generateDocs('small', 1, 23);
  const started = performance.now();
  await writer.write(doc!);
  let landedAfter = Infinity;
  while (performance.now() - started < 5000) {
    if (await collection.findOne({ _id: doc!._id as never })) {
      landedAfter = performance.now() - started;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.ok(landedAfter <= maxDelayMs + 250, `landed after ${Math.round(landedAfter)} ms`);
  await writer.close();
});

test('wrap-around: 256 KiB ring, 50,000 mixed-size documents, nothing lost or garbled', async () => {
  const writer = await BatchWriter.create({ uri: sharedUri(), db: dbName, collection: 'wrap', queueBytes: 256 * 1024, maxBatchDocs: 200, maxBatchBytes: 48 * 1024 });
  const docs = generateMixed(50_000, 24, ['small', 'medium', 'small', 'large', 'allTypes'], sharedTypeProfile());
  const totalBytes = docs.reduce((n, d) => n + BSON.calculateObjectSize(d), 0);
  await writer.writeMany(docs);
  await writer.flush();
  assert.ok(totalBytes > 20 * 256 * 1024, 'the stream is many times the ring');
  assert.is(writer.stats().inserted, 50_000);
  assertBalanced(writer);
  await writer.close();
  await assertCollectionHolds(db().collection('wrap'), docs);
});

test.run();
