// A worker thread that dies mid-batch: the pool replaces it, the batch goes out again from
// the ring (no document lost, none doubled), and after 3 deaths on the same batch its
// documents are dead-lettered as `worker_crashed`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Worker } from 'node:worker_threads';
import { MongoClient, type Document } from 'mongodb';
import { BatchWriter, MAX_WORKER_DEATHS_PER_BATCH } from '@scope/batchwriter-threads';
import { generateDocs, idKey, startServer, typeProfileFor } from '@scope/testkit';
import { connectShared, freshDbName, sharedTypeProfile, sharedUri } from './helpers/sharedServer.js';
import { assertAccounting, readDeadLetters, reconcile, sleep, tempDir, timeEachTest, waitUntil } from './helpers/outcome.js';

timeEachTest(test);

interface PoolInternals {
  threads: Worker[];
}

/** The writer's Piscina pool (private; reached on purpose to inject the fault). */
function poolOf(writer: BatchWriter): PoolInternals {
  return (writer as unknown as { pool: PoolInternals }).pool;
}

test('terminating worker threads while batches are in flight loses and doubles nothing', async () => {
  const client = await connectShared();
  const tmp = await tempDir('worker-death');
  try {
    const total = 60_000;
    const collection = client.db(freshDbName('workerdeath')).collection('docs');
    const docs: Document[] = generateDocs('small', total, 51, sharedTypeProfile());
    const writer = await BatchWriter.create({
      uri: sharedUri(),
      db: collection.dbName,
      collection: collection.collectionName,
      workers: 2,
      maxBatchDocs: 500,
      queueBytes: 4 * 1024 * 1024,
      attemptTimeoutMs: 10_000,
      deadLetter: { dir: tmp.path },
    });
    const pool = poolOf(writer);
    const writing = writer.writeMany(docs);
    const kills: { inserted: number; inflight: number; terminated: number }[] = [];
    let terminated = 0;
    for (const at of [10_000, 25_000, 40_000]) {
      // Terminate a thread; if it happened to be between batches (nothing re-dispatched), the next one.
      const before = writer.stats().workerRestarts;
      for (let tries = 0; tries < 6 && writer.stats().workerRestarts === before; tries++) {
        await waitUntil(() => writer.stats().inserted >= at && writer.health().inflightBatches > 0 && pool.threads.length === 2, 120_000, `${at} inserted with batches in flight`);
        await pool.threads[terminated++ % 2]!.terminate();
        await sleep(50);
      }
      kills.push({ inserted: writer.stats().inserted, inflight: writer.health().inflightBatches, terminated });
    }
    await writing;
    await writer.flush();
    await waitUntil(() => writer.health().workersAlive === 2, 30_000, 'the pool to replace the workers');
    const summary = await writer.close();
    console.log(`    terminated at ${JSON.stringify(kills)}; ${JSON.stringify({ inserted: summary.inserted, duplicates: summary.duplicates, workerRestarts: summary.workerRestarts, deadLettered: summary.deadLettered })}`);

    assertAccounting(summary);
    assert.is(summary.accepted, total);
    assert.is(summary.deadLettered, 0);
    assert.equal(summary.deadLetterFiles, []);
    assert.is(summary.workerRestarts, 3, 'three terminations hit a batch in flight');
    assert.is(summary.inserted + summary.duplicates, total);
    const r = await reconcile(collection, docs, []);
    assert.is(r.inCollection, total);
  } finally {
    await tmp.remove();
    await client.close();
  }
});

test(`a batch whose worker dies ${MAX_WORKER_DEATHS_PER_BATCH} times is dead-lettered as worker_crashed; the writer goes on`, async () => {
  const server = await startServer({ own: true });
  const client = new MongoClient(server.uri, { serverSelectionTimeoutMS: 20_000 });
  const tmp = await tempDir('worker-crashed');
  try {
    const writer = await BatchWriter.create({
      uri: server.uri,
      db: 'faults',
      collection: 'crashed',
      workers: 1,
      inflightPerWorker: 1,
      maxBatchDocs: 100,
      attemptTimeoutMs: 60_000,
      deadLetter: { dir: tmp.path },
    });
    const pool = poolOf(writer);
    const generated: Document[] = generateDocs('small', 1_100, 52, typeProfileFor(server.kind));
    const doomed = generated.slice(0, 100);
    const after = generated.slice(100);
    // The server is paused, so the batch stays in flight inside the worker until it is terminated.
    server.pause();
    await writer.writeMany(doomed);
    let sent = 0;
    for (let death = 1; death <= MAX_WORKER_DEATHS_PER_BATCH; death++) {
      // The worker counts the bytes of an attempt just before sending it: then it is mid-batch.
      // (Terminating a worker that is still starting up would make Piscina stop replacing workers.)
      await waitUntil(() => writer.stats().bytesSent > sent && writer.health().inflightBatches === 1, 30_000, `the batch to reach worker #${death}`);
      sent = writer.stats().bytesSent;
      await sleep(100);
      await pool.threads[0]!.terminate();
    }
    await writer.flush();
    server.resume();
    assert.is(writer.stats().deadLettered, 100);
    assert.is(writer.stats().workerRestarts, MAX_WORKER_DEATHS_PER_BATCH);

    // A replacement worker takes the next documents.
    await writer.writeMany(after);
    await writer.flush();
    const summary = await writer.close();
    assertAccounting(summary);
    assert.is(summary.inserted, 1_000);
    assert.is(summary.deadLettered, 100);

    const letters = await readDeadLetters(summary.deadLetterFiles);
    assert.is(letters.length, 100);
    for (const l of letters) assert.is(l.reason, 'worker_crashed');
    assert.equal(new Set(letters.map((l) => idKey(l.doc._id))), new Set(doomed.map((d) => idKey(d._id))));
    // The first attempt reached the paused server before its worker died: the server may store
    // it once resumed, so those documents can be both stored and dead-lettered (replay then
    // counts them as duplicates). Nothing is in neither place, nothing is stored twice.
    const r = await reconcile(client.db('faults').collection('crashed'), generated, letters, { allowBoth: true });
    assert.is(r.inCollection - r.inBoth.length, 1_000);
  } finally {
    server.resume();
    await client.close().catch(() => {});
    await server.stop();
    await tmp.remove();
  }
});

test.run();
