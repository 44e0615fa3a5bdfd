// Creating and closing: bad options and unreachable servers fail fast and clearly; close()
// is idempotent and refuses later writes; an abort signal or `await using` closes; a
// process that used a writer exits by itself.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { BatchWriter, BatchWriterError } from '@scope/batchwriter-threads';
import { generateDocs } from '@scope/testkit';
import { useFreshDatabase, sharedUri } from './helpers/sharedServer.js';
import { assertBalanced } from './helpers/verify.js';

const fresh = useFreshDatabase(test, 'lifecycle');
const dbName = fresh.name;
const db = () => fresh.client().db(dbName);

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

test('create() rejects a bad option with ERR_INVALID_OPTION naming it', async () => {
  const err = await BatchWriter.create({ uri: sharedUri(), db: dbName, collection: 'x', maxBatchDocs: 0 }).then(() => undefined, (e: unknown) => e);
  assert.instance(err, BatchWriterError);
  assert.is((err as BatchWriterError).code, 'ERR_INVALID_OPTION');
  assert.match((err as Error).message, /maxBatchDocs/);
  assert.match((err as Error).message, /\b0\b/);
});

test('create() against a closed port fails with ERR_CONNECT within attemptTimeoutMs + 1 s', async () => {
  const port = await closedPort();
  const started = Date.now();
  const err = await BatchWriter.create({ uri: `mongodb://127.0.0.1:${port}/`, db: dbName, collection: 'x', attemptTimeoutMs: 1000 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  const took = Date.now() - started;
  assert.instance(err, BatchWriterError);
  assert.is((err as BatchWriterError).code, 'ERR_CONNECT');
  assert.ok(took < 2000, `took ${took} ms`);
});

test('create() against a host that does not resolve fails with ERR_CONNECT, not a hang', async () => {
  const started = Date.now();
  const err = await BatchWriter.create({ uri: 'mongodb://no-such-host.invalid:27017/', db: dbName, collection: 'x', attemptTimeoutMs: 1000 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.is((err as BatchWriterError).code, 'ERR_CONNECT');
  assert.ok(Date.now() - started < 2000);
});

test('close() drains, is idempotent, and later writes get ERR_CLOSED', async () => {
  const writer = await BatchWriter.create({ uri: sharedUri(), db: dbName, collection: 'close', maxDelayMs: 1000 });
  const docs = generateDocs('small', 3000, 51);
  for (const doc of docs) writer.tryWrite(doc);
  const first = writer.close();
  const second = writer.close();
  assert.is(first, second, 'the same promise');
  const summary = await first;
  assert.is(summary.accepted, 3000);
  assert.is(summary.inserted, 3000);
  assert.is(summary.timedOut, false);
  assert.is(await db().collection('close').countDocuments(), 3000);
  assert.ok(writer.health().isClosed);
  assertBalanced(writer);
  for (const attempt of [() => writer.tryWrite({ a: 1 }), () => writer.tryWriteRaw(new Uint8Array(5))]) {
    try {
      attempt();
      assert.unreachable('write after close');
    } catch (err) {
      assert.is((err as BatchWriterError).code, 'ERR_CLOSED');
    }
  }
  const late = await writer.write({ a: 1 }).then(() => undefined, (e: unknown) => e);
  assert.is((late as BatchWriterError).code, 'ERR_CLOSED');
});

test('aborting the signal option closes the writer; `await using` closes too', async () => {
  const controller = new AbortController();
  const writer = await BatchWriter.create({ uri: sharedUri(), db: dbName, collection: 'signal', signal: controller.signal });
  await writer.write({ n: 1 });
  controller.abort();
  const summary = await writer.close();
  assert.is(summary.inserted, 1);
  assert.ok(writer.health().isClosed);

  let disposed: BatchWriter | undefined;
  {
    await using w = await BatchWriter.create({ uri: sharedUri(), db: dbName, collection: 'dispose' });
    await w.write({ n: 2 });
    disposed = w;
  }
  assert.ok(disposed.health().isClosed);
  assert.is(await db().collection('dispose').countDocuments(), 1);
});

const child = resolve('test/helpers/writerChild.mjs'); // suites run from the repo root

for (const mode of ['close', 'idle'] as const) {
  test(`a process that ${mode === 'close' ? 'writes and closes' : 'writes, flushes and leaves the writer open'} exits by itself within 2 s`, async () => {
    const proc = spawn(process.execPath, [child, sharedUri(), dbName, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
    let doneAt = 0;
    let out = '';
    proc.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (!doneAt && out.includes('done')) doneAt = Date.now();
    });
    const exited = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        resolve(null);
      }, 30_000);
      proc.on('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
    assert.is(exited, 0, `child output: ${out}`);
    assert.ok(doneAt > 0, 'the child finished its work');
    assert.ok(Date.now() - doneAt < 2000, `exited ${Date.now() - doneAt} ms after its work was done`);
  });
}

test.run();
