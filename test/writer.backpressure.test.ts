// Backpressure with the server paused (SIGSTOP): tryWrite turns false once the ring is
// full, write() waits, an abort rejects it, and after resume everything accepted arrives.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MongoClient } from 'mongodb';
import { BatchWriter, BatchWriterError } from '@scope/batchwriter-threads';
import { generateDocs, startServer, typeProfileFor } from '@scope/testkit';
import { assertBalanced, assertCollectionHolds } from './helpers/verify.js';

test('a paused server fills the ring; tryWrite false, write waits, abort rejects; resume delivers all', async () => {
  const server = await startServer({ own: true });
  const client = new MongoClient(server.uri);
  try {
    const writer = await BatchWriter.create({
      uri: server.uri,
      db: 'bp',
      collection: 'docs',
      queueBytes: 256 * 1024,
      maxBatchDocs: 100,
      workers: 1,
      retries: -1,
      attemptTimeoutMs: 1000,
      retryBackoffMaxMs: 200,
    });
    const docs = generateDocs('small', 5000, 31, typeProfileFor(server.kind));
    server.pause();
    const accepted = [];
    for (const doc of docs) {
      if (!writer.tryWrite(doc)) break;
      accepted.push(doc);
    }
    assert.ok(accepted.length > 500 && accepted.length < docs.length, `accepted ${accepted.length} before the ring filled`);
    assert.is(writer.stats().rejectedFull, 1);
    const health = writer.health();
    assert.is(health.queueDepthDocs, accepted.length);
    assert.ok(health.queueUtilPct > 90, `util ${health.queueUtilPct}%`);

    // write() waits while full...
    const next = docs[accepted.length]!;
    let settled = false;
    const waiting = writer.write(next).then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.not.ok(settled, 'write() resolved while the ring was full');

    // ...and an aborted wait rejects with a typed error, enqueuing nothing.
    const controller = new AbortController();
    const aborted = writer.write(docs[accepted.length + 1]!, { signal: controller.signal });
    controller.abort();
    const err = await aborted.then(() => undefined, (e: unknown) => e);
    assert.instance(err, BatchWriterError);
    assert.is((err as BatchWriterError).code, 'ERR_ABORTED');

    server.resume();
    await waiting;
    accepted.push(next);
    await writer.flush();
    assert.is(writer.stats().accepted, accepted.length);
    assert.is(writer.stats().deadLettered, 0);
    assertBalanced(writer);
    await writer.close();
    await assertCollectionHolds(client.db('bp').collection('docs'), accepted);
  } finally {
    server.resume();
    await client.close();
    await server.stop();
  }
});

test.run();
