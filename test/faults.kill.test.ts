// kill -9 of the server in the middle of 100,000 writes. Restarted within the retry budget:
// every document arrives exactly once and nothing is dead-lettered. Kept down past the
// budget: every document that did not arrive is in the dead-letter file; the only other
// dead letters are documents of the batches in flight at the kill that the server stored
// but never acknowledged (FerretDB commits 100 at a time); replaying the file completes the
// collection and counts those as duplicates. Each test runs its own server (the shared one
// is never killed).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import type { Document } from 'mongodb';
import { BatchWriter, replayDeadLetters } from '@scope/batchwriter-threads';
import { generateDocs, idKey, typeProfileFor } from '@scope/testkit';
import { withOwnServer } from './helpers/sharedServer.js';
import { assertAccounting, collectionContents, readDeadLetters, reconcile, sleep, tempDir, timeEachTest, waitUntil } from './helpers/outcome.js';

timeEachTest(test);

const TOTAL = 100_000;


test('kill -9 during 100,000 writes, restart within the retry budget: every _id exactly once, no dead letters', async () => {
  await withOwnServer(async (server, client) => {
    const tmp = await tempDir('kill-restart');
    try {
      const docs: Document[] = generateDocs('small', TOTAL, 31, typeProfileFor(server.kind));
      const writer = await BatchWriter.create({
        uri: server.uri,
        db: 'faults',
        collection: 'killRestart',
        workers: 2,
        // FerretDB stores a batch that holds a duplicate one document at a time (ms each): keep
        // batches small enough that such a batch, after the restart, fits in one attempt.
        maxBatchDocs: 500,
        // A small ring, so the app is still writing (and waiting for space) when the server dies.
        queueBytes: 4 * 1024 * 1024,
        attemptTimeoutMs: 5000,
        // While the server is down an attempt fails after 300 ms instead of waiting out attemptTimeoutMs.
        clientOptions: { serverSelectionTimeoutMS: 300 },
        // The budget: 30 retries of 0.3 to 5 s each plus backoff, far more than the 3 s outage.
        retries: 30,
        retryBackoffMinMs: 50,
        retryBackoffMaxMs: 500,
        deadLetter: { dir: tmp.path },
      });
      const writing = writer.writeMany(docs);
      await waitUntil(() => writer.stats().inserted >= 30_000, 120_000, '30,000 inserted');
      const acceptedAtKill = writer.stats().accepted;
      await server.kill();
      await sleep(3000);
      assert.ok(writer.stats().accepted < TOTAL, 'the app was still writing when the server died');
      await server.restart();
      await writing;
      await writer.flush();
      const summary = await writer.close();
      console.log(`    at kill: accepted ${acceptedAtKill}; after: ${JSON.stringify({ inserted: summary.inserted, duplicates: summary.duplicates, retries: summary.retries, deadLettered: summary.deadLettered })}`);

      assertAccounting(summary);
      assert.is(summary.accepted, TOTAL);
      assert.is(summary.deadLettered, 0);
      assert.is(summary.inserted + summary.duplicates, TOTAL);
      assert.ok(summary.retries > 0, 'the kill did not make any attempt fail: the fault missed');
      assert.equal(summary.deadLetterFiles, []);
      const r = await reconcile(client.db('faults').collection('killRestart'), docs, []);
      assert.is(r.inCollection, TOTAL);
    } finally {
      await tmp.remove();
    }
  });
});

test('kill -9 during 100,000 writes, kept down past the retry budget: inserted + dead-lettered = accepted, the dead-letter file holds every missing _id (and besides only what the dying server stored unacknowledged), replay completes the collection', async () => {
  await withOwnServer(async (server, client) => {
    const tmp = await tempDir('kill-down');
    try {
      const docs: Document[] = generateDocs('small', TOTAL, 32, typeProfileFor(server.kind));
      const options = {
        uri: server.uri,
        db: 'faults',
        collection: 'killDown',
        workers: 2,
        maxBatchDocs: 2000,
        queueBytes: 8 * 1024 * 1024,
        attemptTimeoutMs: 5000,
        clientOptions: { serverSelectionTimeoutMS: 300 },
        retries: 2,
        retryBackoffMinMs: 20,
        retryBackoffMaxMs: 100,
        deadLetter: { dir: join(tmp.path, 'dead') },
      };
      const writer = await BatchWriter.create(options);
      const writing = writer.writeMany(docs);
      await waitUntil(() => writer.stats().inserted >= 30_000, 120_000, '30,000 inserted');
      const atKill = writer.stats();
      await server.kill();
      // Down for good while the rest is written: every remaining batch runs out of retries.
      await writing;
      await writer.flush();
      const summary = await writer.close();
      console.log(`    while down: ${JSON.stringify({ inserted: summary.inserted, duplicates: summary.duplicates, retries: summary.retries, deadLettered: summary.deadLettered })}`);

      assertAccounting(summary);
      assert.is(summary.accepted, TOTAL);
      assert.is(summary.inserted + summary.deadLettered + summary.duplicates, TOTAL);
      assert.ok(summary.deadLettered > 0, 'nothing was dead-lettered: the server was not down long enough');
      const letters = await readDeadLetters(summary.deadLetterFiles);
      assert.is(letters.length, summary.deadLettered);
      for (const l of letters) assert.is(l.reason, 'retries_exhausted');

      await server.restart();
      const collection = client.db('faults').collection('killDown');
      const before = await collectionContents(collection);
      // Every missing document is in the dead letters, nothing is in neither place.
      const r = await reconcile(collection, docs, letters, { allowBoth: true });
      const missing = new Set(docs.filter((d) => !before.ids.has(idKey(d._id))).map((d) => idKey(d._id)));
      const dead = new Set(letters.map((l) => idKey(l.doc._id)));
      for (const k of missing) assert.ok(dead.has(k), `${k} is missing and not in dead letter`);
      // The only dead letters the collection also holds are those of batches the server was
      // storing when it died (FerretDB commits 100 documents at a time, so a killed insert can
      // leave part of its batch stored without an acknowledgement): at most the in-flight batches.
      const inflightCapacity = 2 * 2 * 2000;
      console.log(`    at kill: ${JSON.stringify({ accepted: atKill.accepted, inserted: atKill.inserted })}; missing ${missing.size}, dead-lettered ${dead.size}, stored but unacknowledged ${r.inBoth.length}`);
      assert.ok(r.inBoth.length <= inflightCapacity, `${r.inBoth.length} dead letters are in the collection: more than the in-flight batches could hold`);
      assert.is(dead.size, missing.size + r.inBoth.length);
      assert.is(r.inCollection, summary.inserted + summary.duplicates + r.inBoth.length);

      const replayed = await replayDeadLetters(summary.deadLetterFiles, { ...options, maxBatchDocs: 500, retries: 10, attemptTimeoutMs: 10_000, deadLetter: { dir: join(tmp.path, 'replay') } });
      assert.is(replayed.read, letters.length);
      assert.is(replayed.inserted, missing.size);
      assert.is(replayed.duplicates, r.inBoth.length);
      assert.is(replayed.deadLettered, 0);
      assert.is(replayed.malformedLines, 0);
      const after = await reconcile(collection, docs, []);
      assert.is(after.inCollection, TOTAL);
    } finally {
      await tmp.remove();
    }
  });
});

test.run();
