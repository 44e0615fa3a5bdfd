// SIGSTOP of the server. Longer than attemptTimeoutMs, then SIGCONT: every document
// arrives, once. Paused while close({ timeoutMs: 2000 }) runs: close returns within the
// deadline plus 1 s and every document not stored is in dead letter as `shutdown`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import type { Document } from 'mongodb';
import { BatchWriter, replayDeadLetters, type DeadLetterEvent } from '@scope/batchwriter-threads';
import { generateDocs, idKey, typeProfileFor } from '@scope/testkit';
import { withOwnServer } from './helpers/sharedServer.js';
import { assertAccounting, collectionContents, readDeadLetters, reconcile, sleep, tempDir, timeEachTest, waitUntil } from './helpers/outcome.js';

timeEachTest(test);


test('server paused longer than attemptTimeoutMs, then resumed: everything arrives, once', async () => {
  await withOwnServer(async (server, client) => {
    const tmp = await tempDir('pause');
    try {
      const total = 20_000;
      const docs: Document[] = generateDocs('small', total, 41, typeProfileFor(server.kind));
      const writer = await BatchWriter.create({
        uri: server.uri,
        db: 'faults',
        collection: 'pause',
        workers: 2,
        maxBatchDocs: 250,
        queueBytes: 2 * 1024 * 1024,
        attemptTimeoutMs: 2000,
        retries: 30,
        retryBackoffMinMs: 50,
        retryBackoffMaxMs: 500,
        deadLetter: { dir: tmp.path },
      });
      const writing = writer.writeMany(docs);
      await waitUntil(() => writer.stats().inserted >= 5_000, 120_000, '5,000 inserted');
      server.pause();
      const atPause = writer.stats();
      await sleep(5_000); // 2.5 × attemptTimeoutMs
      const duringPause = writer.stats();
      server.resume();
      await writing;
      await writer.flush();
      const summary = await writer.close();
      console.log(`    paused at ${atPause.inserted} inserted; during the pause: ${duringPause.retries - atPause.retries} retries; end: ${JSON.stringify({ inserted: summary.inserted, duplicates: summary.duplicates, retries: summary.retries, deadLettered: summary.deadLettered })}`);

      assertAccounting(summary);
      assert.is(summary.accepted, total);
      assert.is(summary.deadLettered, 0);
      assert.equal(summary.deadLetterFiles, []);
      assert.ok(duringPause.retries > atPause.retries, 'no attempt timed out during the pause: the fault missed');
      assert.is(summary.inserted + summary.duplicates, total);
      const r = await reconcile(client.db('faults').collection('pause'), docs, []);
      assert.is(r.inCollection, total);
    } finally {
      await tmp.remove();
    }
  });
});

test('close({ timeoutMs: 2000 }) with the server paused returns in under 3 s; every unsent document is in dead letter as shutdown', async () => {
  await withOwnServer(async (server, client) => {
    const tmp = await tempDir('close-deadline');
    try {
      // Thousands of documents unsent at the deadline, each serialized into the dead-letter file
      // within the extra second close() may take.
      const total = 8_000;
      const docs: Document[] = generateDocs('small', total, 42, typeProfileFor(server.kind));
      const options = {
        uri: server.uri,
        db: 'faults',
        collection: 'closeDeadline',
        workers: 2,
        maxBatchDocs: 500,
        attemptTimeoutMs: 30_000,
        retries: 5,
        retryBackoffMinMs: 50,
        retryBackoffMaxMs: 500,
        deadLetter: { dir: join(tmp.path, 'dead') },
      };
      const writer = await BatchWriter.create(options);
      const events: DeadLetterEvent[] = [];
      writer.on('deadLetter', (e: DeadLetterEvent) => events.push(e));
      await writer.writeMany(docs.slice(0, 6_000));
      await waitUntil(() => writer.stats().inserted >= 2_000, 120_000, '2,000 inserted');
      server.pause();
      await writer.writeMany(docs.slice(6_000)); // queued behind the paused server
      await sleep(200);
      const started = performance.now();
      const summary = await writer.close({ timeoutMs: 2000 });
      const elapsed = performance.now() - started;
      console.log(`    close took ${Math.round(elapsed)} ms; ${JSON.stringify({ inserted: summary.inserted, duplicates: summary.duplicates, deadLettered: summary.deadLettered, timedOut: summary.timedOut })}`);
      assert.ok(elapsed < 3000, `close({ timeoutMs: 2000 }) took ${Math.round(elapsed)} ms`);
      assert.is(summary.timedOut, true);
      assertAccounting(summary);
      assert.is(summary.accepted, total);
      assert.ok(summary.deadLettered > 0);
      assert.ok(writer.health().isClosed);

      const letters = await readDeadLetters(summary.deadLetterFiles);
      assert.is(letters.length, summary.deadLettered);
      assert.is(events.length, summary.deadLettered);
      for (const l of letters) assert.is(l.reason, 'shutdown');

      server.resume();
      await sleep(1000); // what the paused server had already received, it now stores
      const collection = client.db('faults').collection('closeDeadline');
      const before = await collectionContents(collection);
      // Nothing in neither place. Documents whose attempt was cut off at the deadline may have
      // been stored by the server after all: those are in both, and replay counts them as duplicates.
      const r = await reconcile(collection, docs, letters, { allowBoth: true });
      const dead = new Set(letters.map((l) => idKey(l.doc._id)));
      for (const d of docs) if (!before.ids.has(idKey(d._id))) assert.ok(dead.has(idKey(d._id)), 'a document not stored is not in dead letter');
      assert.is(r.inCollection - r.inBoth.length, summary.inserted + summary.duplicates);
      console.log(`    stored ${r.inCollection}, dead-lettered ${r.inDeadLetter}, of which stored after all ${r.inBoth.length}`);

      const replayed = await replayDeadLetters(summary.deadLetterFiles, { ...options, deadLetter: { dir: join(tmp.path, 'replay') } });
      assert.is(replayed.read, letters.length);
      assert.is(replayed.deadLettered, 0);
      assert.is(replayed.inserted, letters.length - r.inBoth.length);
      assert.is(replayed.duplicates, r.inBoth.length);
      assert.is((await reconcile(collection, docs, [])).inCollection, total);
    } finally {
      await tmp.remove();
    }
  });
});

test.run();
