// A URI with user:password: the password appears in no error message, log line, event,
// health, stats, close summary, dead-letter record or CLI output, whatever goes wrong.
//
// FerretDB 1.24 (SQLite backend) and credentials: with the driver's default mechanism it
// refuses to authenticate ("Unsupported authentication mechanism SCRAM-SHA-1/256", code 18);
// with authMechanism=PLAIN it accepts any user and password without checking them. So the
// failing cases run with the default mechanism (and against a closed port), and the working
// writer runs with PLAIN: the password still travels in the URI through every code path.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { MongoClient, type Document } from 'mongodb';
import { BatchWriter, BatchWriterError, type BatchWriterOptions } from '@scope/batchwriter-threads';
import { generateDocs, startServer, typeProfileFor, type TestServer } from '@scope/testkit';
import { assertAccounting, recordingLogger, safeStringify, sleep, tempDir, timeEachTest, waitUntil } from './helpers/outcome.js';

timeEachTest(test);

const USER = 'ingest-svc';
const PASSWORD = 'Zq7:s3cr/t@P4ss%w0rd';
const NEEDLES = [PASSWORD, encodeURIComponent(PASSWORD), 'Zq7:s3cr', 's3cr/t@P4ss', 'P4ss%w0rd'];

function withCredentials(uri: string, query = ''): string {
  const u = uri.replace(/^mongodb:\/\//, `mongodb://${encodeURIComponent(USER)}:${encodeURIComponent(PASSWORD)}@`);
  return query ? `${u}${u.includes('?') ? '&' : '?'}${query}` : u;
}

/** Everything the library produced, as text, checked for the password. */
class Collected {
  private readonly parts: string[] = [];
  add(label: string, value: unknown): void {
    this.parts.push(`${label}: ${typeof value === 'string' ? value : `${safeStringify(value)} ${inspect(value, { depth: 8 })}`}`);
  }
  get size(): number {
    return this.parts.length;
  }
  assertClean(): void {
    const text = this.parts.join('\n');
    for (const needle of NEEDLES) {
      const at = text.indexOf(needle);
      assert.ok(at < 0, `the password (${JSON.stringify(needle)}) leaked: …${text.slice(Math.max(0, at - 200), at + 60)}…`);
    }
  }
}

function collectErrorText(collected: Collected, label: string, err: unknown): void {
  assert.instance(err, Error);
  const e = err as Error & { details?: unknown; cause?: unknown };
  collected.add(`${label} message`, e.message);
  collected.add(`${label} stack`, e.stack ?? '');
  collected.add(`${label} string`, String(e));
  collected.add(`${label} details`, e.details ?? {});
  collected.add(`${label} inspect`, inspect(e, { depth: 8 }));
}

/** Watches a writer: every event, and health/stats snapshots while it runs. */
function watch(writer: BatchWriter, collected: Collected, label: string): () => void {
  for (const event of ['deadLetter', 'error', 'drain', 'batch']) writer.on(event, (payload: unknown) => collected.add(`${label} event ${event}`, payload ?? null));
  const timer = setInterval(() => {
    collected.add(`${label} health`, writer.health());
    collected.add(`${label} stats`, writer.stats());
  }, 100);
  return () => {
    clearInterval(timer);
    collected.add(`${label} final health`, writer.health());
  };
}

async function closedPort(): Promise<number> {
  return new Promise((resolvePort) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolvePort(typeof addr === 'object' && addr ? addr.port : 1));
    });
  });
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, ['packages/batchwriter-threads/dist/cli.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MONGODB_URI: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolveRun({ code, stdout, stderr }));
  });
}

test('create() with credentials fails without showing the password: closed port, refused mechanism, bad option', async () => {
  const collected = new Collected();
  const logger = recordingLogger();
  const server = await startServer({ own: true });
  try {
    const cases: [string, BatchWriterOptions, string][] = [
      ['closed port', { uri: withCredentials(`mongodb://127.0.0.1:${await closedPort()}/`), db: 'creds', collection: 'c', attemptTimeoutMs: 1000, logger }, 'ERR_CONNECT'],
      ['closed port, PLAIN', { uri: withCredentials(`mongodb://127.0.0.1:${await closedPort()}/`, 'authMechanism=PLAIN'), db: 'creds', collection: 'c', attemptTimeoutMs: 1000, logger }, 'ERR_CONNECT'],
      ['mechanism refused by the server', { uri: withCredentials(server.uri), db: 'creds', collection: 'c', attemptTimeoutMs: 3000, logger }, 'ERR_CONNECT'],
      ['bad scheme', { uri: withCredentials('mongodb://127.0.0.1:1/').replace('mongodb://', 'http://mongodb://'), db: 'creds', collection: 'c', logger }, 'ERR_INVALID_OPTION'],
      ['bad db name', { uri: withCredentials(server.uri, 'authMechanism=PLAIN'), db: 'bad/db', collection: 'c', logger }, 'ERR_INVALID_OPTION'],
      ['bad option value', { uri: withCredentials(server.uri, 'authMechanism=PLAIN'), db: 'creds', collection: 'c', workers: 0, logger }, 'ERR_INVALID_OPTION'],
    ];
    for (const [label, options, code] of cases) {
      const err = await BatchWriter.create(options).then(
        async (w) => {
          await w.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      assert.instance(err, BatchWriterError, `${label}: create() did not fail`);
      assert.is((err as BatchWriterError).code, code, `${label}: ${(err as Error).message}`);
      collectErrorText(collected, label, err);
    }
    assert.ok(collected.size > 0);
    for (const line of logger.lines) collected.add('log', line);
    collected.assertClean();
  } finally {
    await server.stop();
  }
});

test('a working writer with user:password through conflicts, a worker death, a killed server, a close deadline and a CLI replay: no output holds the password', async () => {
  const server: TestServer = await startServer({ own: true });
  const tmp = await tempDir('creds');
  const collected = new Collected();
  const logger = recordingLogger();
  const admin = new MongoClient(server.uri, { serverSelectionTimeoutMS: 20_000 });
  // FerretDB takes any password with PLAIN; a real mongod gets the user created first.
  let uri = withCredentials(server.uri, 'authMechanism=PLAIN');
  try {
    if (server.kind !== 'ferretdb') {
      await admin.db('admin').command({ createUser: USER, pwd: PASSWORD, roles: ['root'] });
      uri = withCredentials(server.uri, 'authSource=admin');
    }
    const profile = typeProfileFor(server.kind);
    const collection = admin.db('creds').collection('events');
    await collection.createIndex({ key: 1 }, { unique: true });
    const base = { uri, db: 'creds', collection: 'events', logger, retryBackoffMinMs: 20, retryBackoffMaxMs: 100 };

    // 1. Conflicts on a unique index and a worker terminated mid-batch.
    const first: Document[] = generateDocs('small', 6_000, 61, profile).map((d, i) => ({ ...d, key: `k${i}` }));
    await collection.insertMany(first.slice(0, 50).map((d) => ({ key: d.key, owner: 'earlier' })));
    const w1 = await BatchWriter.create({ ...base, workers: 2, maxBatchDocs: 250, queueBytes: 1024 * 1024, deadLetter: { dir: join(tmp.path, 'w1') } });
    const stop1 = watch(w1, collected, 'w1');
    const writing = w1.writeMany(first);
    await waitUntil(() => w1.stats().inserted >= 2_000 && w1.health().inflightBatches > 0, 60_000, 'batches in flight');
    await (w1 as unknown as { pool: { threads: { terminate(): Promise<number> }[] } }).pool.threads[0]!.terminate();
    await writing;
    await w1.flush();
    stop1();
    const s1 = await w1.close();
    collected.add('w1 summary', s1);
    assertAccounting(s1);
    assert.is(s1.deadLettered, 50);
    for (const file of s1.deadLetterFiles) collected.add(`file ${file}`, await readFile(file, 'utf8'));

    // 2. The server killed mid-stream and kept down: retries run out.
    const second: Document[] = generateDocs('small', 6_000, 62, profile).map((d, i) => ({ ...d, key: `m${i}` }));
    const w2 = await BatchWriter.create({ ...base, workers: 2, maxBatchDocs: 500, retries: 1, clientOptions: { serverSelectionTimeoutMS: 300 }, deadLetter: { dir: join(tmp.path, 'w2') } });
    const stop2 = watch(w2, collected, 'w2');
    const writing2 = w2.writeMany(second);
    await waitUntil(() => w2.stats().inserted >= 1_000, 60_000, '1,000 inserted');
    await server.kill();
    await writing2;
    await w2.flush();
    stop2();
    const s2 = await w2.close();
    collected.add('w2 summary', s2);
    assertAccounting(s2);
    assert.ok(s2.deadLettered > 0, 'the kill dead-lettered nothing');
    for (const file of s2.deadLetterFiles) collected.add(`file ${file}`, await readFile(file, 'utf8'));
    const writeAfterClose = await w2.write({ late: true }).then(() => undefined, (e: unknown) => e);
    collectErrorText(collected, 'write after close', writeAfterClose);
    await server.restart();

    // 3. The server paused under close()'s deadline.
    const w3 = await BatchWriter.create({ ...base, workers: 1, maxBatchDocs: 500, attemptTimeoutMs: 30_000, deadLetter: { dir: join(tmp.path, 'w3') } });
    const stop3 = watch(w3, collected, 'w3');
    server.pause();
    await w3.writeMany(generateDocs('small', 2_000, 63, profile).map((d, i) => ({ ...d, key: `p${i}` })));
    await sleep(300);
    const s3 = await w3.close({ timeoutMs: 1000 });
    stop3();
    server.resume();
    collected.add('w3 summary', s3);
    assertAccounting(s3);
    assert.ok(s3.timedOut && s3.deadLettered > 0);
    for (const file of s3.deadLetterFiles) collected.add(`file ${file}`, await readFile(file, 'utf8'));

    // 4. The CLI replays the dead letters of the kill with the same URI (and a usage error quoting it).
    const cli = await runCli(['replay', ...s2.deadLetterFiles, '--uri', uri, '--db', 'creds', '--collection', 'events', '--dead-letter-dir', join(tmp.path, 'cli')]);
    collected.add('cli stdout', cli.stdout);
    collected.add('cli stderr', cli.stderr);
    assert.is(cli.code, 0, `cli failed: ${cli.stderr}`);
    const usage = await runCli(['replay', s2.deadLetterFiles[0]!, `--uri=${uri}`, '--db', 'creds', '--collection', 'events', '--workers', 'many']);
    collected.add('cli usage stderr', usage.stderr);
    assert.is(usage.code, 2);
    const badUri = await runCli(['replay', s2.deadLetterFiles[0]!, '--uri', withCredentials(`mongodb://127.0.0.1:${await closedPort()}/`), '--db', 'creds', '--collection', 'events', '--attempt-timeout-ms', '500']);
    collected.add('cli unreachable stderr', badUri.stderr + badUri.stdout);
    assert.is(badUri.code, 1);

    for (const line of logger.lines) collected.add('log', line);
    assert.ok(logger.lines.some((l) => l.includes('worker died')), 'the worker death was logged');
    collected.assertClean();
  } finally {
    server.resume();
    await admin.close().catch(() => {});
    await server.stop();
    await tmp.remove();
  }
});

test.run();
