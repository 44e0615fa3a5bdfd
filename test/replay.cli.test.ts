// The `batchwriter-threads replay` command, run as users run it (node dist/cli.js): it
// completes the collection from dead-letter files, a second run inserts nothing twice,
// documents that fail again make it exit 1, usage errors exit 2.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BSON, type Document } from 'mongodb';
import { BatchWriter, type ReplaySummary } from '@scope/batchwriter-threads';
import { generateDocs, idKey, readBackById, sameDocument } from '@scope/testkit';
import { connectShared, freshDbName, sharedTypeProfile, sharedUri } from './helpers/sharedServer.js';
import { assertAccounting, readDeadLetters, reconcile, tempDir, timeEachTest } from './helpers/outcome.js';

timeEachTest(test);
const client = await connectShared();
const CLI = 'packages/batchwriter-threads/dist/cli.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MONGODB_URI: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolveRun({ code, stdout, stderr }));
  });
}

function summaryOf(run: Run): ReplaySummary {
  const line = run.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as ReplaySummary;
  } catch {
    throw new Error(`no JSON summary on stdout (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
}

test('replay completes the collection from dead-letter files; a second run inserts nothing; types survive', async () => {
  const tmp = await tempDir('cli');
  try {
    const collection = client.db(freshDbName('cli')).collection('docs');
    await collection.createIndex({ key: 1 }, { unique: true });
    const docs: Document[] = [
      ...generateDocs('small', 1_500, 71, sharedTypeProfile()),
      ...generateDocs('allTypes', 300, 72, sharedTypeProfile()).map((d) => ({ ...d, seq: 10_000 + (d.seq as number) })),
    ].map((d, i) => ({ _id: new BSON.ObjectId(), key: `k${i}`, ...d }));
    // A third of the keys are taken: those documents are dead-lettered.
    const taken = docs.filter((_, i) => i % 3 === 0);
    await collection.insertMany(taken.map((d) => ({ key: d.key, owner: 'earlier' })));
    const writer = await BatchWriter.create({ uri: sharedUri(), db: collection.dbName, collection: collection.collectionName, workers: 1, deadLetter: { dir: join(tmp.path, 'dead') } });
    await writer.writeMany(docs);
    await writer.flush();
    const summary = await writer.close();
    assertAccounting(summary);
    assert.is(summary.deadLettered, taken.length);

    // Still conflicting: the replay dead-letters them again and exits 1.
    const again = await runCli(['replay', join(tmp.path, 'dead'), '--uri', sharedUri(), '--db', collection.dbName, '--collection', collection.collectionName, '--workers', '1', '--dead-letter-dir', join(tmp.path, 'again'), '--json']);
    assert.is(again.code, 1, again.stderr);
    const s0 = summaryOf(again);
    assert.equal([s0.read, s0.inserted, s0.deadLettered], [taken.length, 0, taken.length]);
    assert.is(s0.deadLetterFiles.length > 0, true);
    assert.ok((await readdir(join(tmp.path, 'again'))).every((n) => n.startsWith('replay-')));
    const reLettered = await readDeadLetters(s0.deadLetterFiles);
    assert.equal(new Set(reLettered.map((l) => idKey(l.doc._id))), new Set(taken.map((d) => idKey(d._id))));

    // The conflict resolved: replay completes the collection, exit 0, human summary by default.
    await collection.deleteMany({ owner: 'earlier' });
    const first = await runCli(['replay', ...summary.deadLetterFiles, '--uri', sharedUri(), '--db', collection.dbName, '--collection', collection.collectionName, '--dead-letter-dir', join(tmp.path, 'first')]);
    assert.is(first.code, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`replayed ${taken.length} dead-lettered document`));
    assert.match(first.stdout, new RegExp(`inserted:\\s+${taken.length}`));
    const r = await reconcile(collection, docs, []);
    assert.is(r.inCollection, docs.length);
    const back = await readBackById(collection);
    for (const d of taken) assert.ok(sameDocument(d, back.get(idKey(d._id))!), `replayed ${idKey(d._id)} differs from what was written`);

    // Twice: nothing inserted, all duplicates, still exit 0; the MONGODB_URI fallback works.
    const second = await runCli(['replay', ...summary.deadLetterFiles, '--db', collection.dbName, '--collection', collection.collectionName, '--dead-letter-dir', join(tmp.path, 'second'), '--json', '--quiet'], { MONGODB_URI: sharedUri() });
    assert.is(second.code, 0, second.stderr);
    const s2 = summaryOf(second);
    assert.equal([s2.read, s2.inserted, s2.duplicates, s2.deadLettered, s2.malformedLines], [taken.length, 0, taken.length, 0, 0]);
    assert.is(second.stderr, '', '--quiet prints no progress');
    assert.is(await collection.countDocuments(), docs.length);
  } finally {
    await tmp.remove();
  }
});

test('usage errors exit 2 with the usage text; --help exits 0', async () => {
  const uri = sharedUri();
  const cases: [string[], RegExp][] = [
    [[], /missing command/],
    [['import', 'x.jsonl'], /unknown command/],
    [['replay', '--uri', uri, '--db', 'd', '--collection', 'c'], /at least one dead-letter file/],
    [['replay', 'x.jsonl', '--uri', uri, '--collection', 'c'], /--db is required/],
    [['replay', 'x.jsonl', '--uri', uri, '--db', 'd'], /--collection is required/],
    [['replay', 'x.jsonl', '--db', 'd', '--collection', 'c'], /--uri is required/],
    [['replay', 'x.jsonl', '--uri', uri, '--db', 'd', '--collection', 'c', '--workers', 'four'], /--workers must be an integer/],
    [['replay', 'x.jsonl', '--uri', uri, '--db', 'd', '--collection', 'c', '--frobnicate'], /Unknown option/],
    [['replay', '/nonexistent/dead.jsonl', '--uri', uri, '--db', 'd', '--collection', 'c'], /cannot read dead-letter path/],
    [['replay', CLI, '--uri', uri, '--db', 'd', '--collection', 'c', '--workers', '0'], /option workers is 0/],
  ];
  for (const [args, message] of cases) {
    const run = await runCli(args);
    assert.is(run.code, 2, `${args.join(' ')}: exit ${run.code}\n${run.stderr}`);
    assert.match(run.stderr, message, args.join(' '));
  }
  const help = await runCli(['--help']);
  assert.is(help.code, 0);
  assert.match(help.stdout, /usage: batchwriter-threads replay/);
});

test('on a terminal the progress is a bar on stderr', async () => {
  const tmp = await tempDir('cli-tty');
  try {
    const collection = client.db(freshDbName('clitty')).collection('docs');
    await collection.createIndex({ key: 1 }, { unique: true });
    const docs: Document[] = generateDocs('small', 300, 73, sharedTypeProfile()).map((d, i) => ({ _id: new BSON.ObjectId(), key: `k${i}`, ...d }));
    await collection.insertMany(docs.map((d) => ({ key: d.key })));
    const writer = await BatchWriter.create({ uri: sharedUri(), db: collection.dbName, collection: collection.collectionName, workers: 1, deadLetter: { dir: join(tmp.path, 'dead') } });
    await writer.writeMany(docs);
    await writer.flush();
    const summary = await writer.close();
    assert.is(summary.deadLettered, 300);
    await collection.deleteMany({});
    // `script` gives the command a pseudo-terminal.
    const command = [process.execPath, CLI, 'replay', join(tmp.path, 'dead'), '--uri', sharedUri(), '--db', collection.dbName, '--collection', collection.collectionName].map((a) => `'${a}'`).join(' ');
    const run = await new Promise<Run>((resolveRun) => {
      const child = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MONGODB_URI: '', TERM: 'xterm' } });
      let stdout = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.on('exit', (code) => resolveRun({ code, stdout, stderr: '' }));
      child.on('error', () => resolveRun({ code: -1, stdout: '', stderr: 'no script command' }));
    });
    if (run.code === -1) return; // no `script` on this machine: nothing to check
    assert.is(run.code, 0, run.stdout);
    assert.match(run.stdout, /replay \[[█░]+\] 100% \| 300\/300/);
    assert.match(run.stdout, /inserted:\s+300/);
    assert.is(await collection.countDocuments(), 300);
  } finally {
    await tmp.remove();
  }
});

test.after(async () => {
  await client.close();
});

test.run();
