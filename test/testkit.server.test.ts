// The testkit's server is real: the driver talks to it, it survives kill -9 with what it
// committed, pause makes operations time out, and nothing it started outlives its process.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BSON, MongoClient, type InsertOneOptions } from 'mongodb';
import { generateDocs, idKey, readBackById, sameDocument, typeProfileFor, type Shape } from '@scope/testkit';
import { connectShared, freshDbName, sharedTypeProfile, withOwnServer } from './helpers/sharedServer.js';

test('the driver inserts 10,000 documents of every shape and reads them back equal', async () => {
  const client = await connectShared();
  try {
    const collection = client.db(freshDbName('roundtrip')).collection('docs');
    const shapes: [Shape, number][] = [['small', 4000], ['medium', 3000], ['large', 1500], ['huge', 100], ['allTypes', 1400]];
    const written: Record<string, unknown>[] = [];
    let seed = 1;
    for (const [shape, count] of shapes) {
      const docs = generateDocs(shape, count, seed++, sharedTypeProfile()).map((d) => ({ _id: new BSON.ObjectId(), ...d }));
      for (let i = 0; i < docs.length; i += 500) await collection.insertMany(docs.slice(i, i + 500));
      written.push(...docs);
    }
    assert.is(written.length, 10_000);
    const back = await readBackById(collection);
    assert.is(back.size, 10_000);
    for (const doc of written) {
      const got = back.get(idKey(doc._id));
      assert.ok(got, `missing ${idKey(doc._id)}`);
      assert.ok(sameDocument(doc, got), `document ${idKey(doc._id)} came back different`);
    }
  } finally {
    await client.close();
  }
});


test('kill -9 then restart: committed data survives and the driver reconnects', async () => {
  await withOwnServer(async (server) => {
    const client = new MongoClient(server.uri, { serverSelectionTimeoutMS: 10_000 });
    try {
      const collection = client.db('faults').collection('kill');
      const docs = generateDocs('small', 500, 3, typeProfileFor(server.kind));
      await collection.insertMany(docs);
      const oldPid = server.pid;
      await server.kill();
      assert.not.ok(isAlive(oldPid!), 'server still alive after kill');
      await server.restart();
      assert.ok(server.pid && server.pid !== oldPid);
      assert.is(await collection.countDocuments(), 500);
      await collection.insertOne({ after: 'restart' });
      assert.is(await collection.countDocuments(), 501);
    } finally {
      await client.close();
    }
  });
});

test('pause makes an operation with a 500 ms timeout fail; resume lets the next succeed', async () => {
  await withOwnServer(async (server) => {
    const client = new MongoClient(server.uri, { serverSelectionTimeoutMS: 10_000 });
    try {
      const collection = client.db('faults').collection('pause');
      await collection.insertOne({ before: true });
      server.pause();
      const started = Date.now();
      // The driver's own timeoutMS has no effect in driver 7; an abort signal is how an
      // operation gets a deadline (the driver honours `signal` here, its types do not list it).
      const error = await collection.insertOne({ during: true }, { signal: AbortSignal.timeout(500) } as InsertOneOptions).then(() => undefined, (e: Error) => e);
      assert.ok(error, 'insert against a paused server succeeded');
      assert.ok(Date.now() - started < 5000, 'the 500 ms timeout was not honoured');
      server.resume();
      await collection.insertOne({ after: true }, { signal: AbortSignal.timeout(10_000) } as InsertOneOptions);
      assert.ok(await collection.findOne({ after: true }));
      assert.ok(await collection.findOne({ before: true }));
    } finally {
      server.resume();
      await client.close();
    }
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie waiting to be reaped is dead for our purpose.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function waitDead(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !isAlive(pid);
}

const childScript = resolve('test/helpers/serverChild.mjs'); // suites run from the repo root

for (const ending of ['returns', 'throws', 'sigkill'] as const) {
  test(`no server outlives a test process that ${ending}`, async () => {
    const child = spawn(process.execPath, [childScript, ending], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TESTKIT_SERVER: 'ferretdb' } });
    const pid = await new Promise<number>((resolvePid, reject) => {
      let buf = '';
      child.stdout.on('data', (c: Buffer) => {
        buf += c.toString();
        const m = /server-pid (\d+)/.exec(buf);
        if (m) resolvePid(Number(m[1]));
      });
      child.on('exit', () => reject(new Error(`child exited before reporting a pid: ${buf}`)));
    });
    // startServer() resolved only once the server answered on its port, so it did run; a
    // child that returns or throws may already have taken it down by now.
    assert.ok(pid > 0);
    if (ending === 'sigkill') {
      assert.ok(isAlive(pid), 'the server runs while its test process is alive');
      child.kill('SIGKILL');
    }
    assert.ok(await waitDead(pid, 5000), `server pid ${pid} still alive after its test process ended (${ending})`);
  });
}

test.run();
