// Unit tests of option validation and presets (no threads, no server).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BatchWriterError, defaults, presets, resolveOptions, type BatchWriterOptions } from '@scope/batchwriter-threads';

const base: BatchWriterOptions = { uri: 'mongodb://127.0.0.1:27017/', db: 'app', collection: 'events' };

function rejects(overrides: Record<string, unknown>, option: string): BatchWriterError {
  try {
    resolveOptions({ ...base, ...overrides } as BatchWriterOptions);
  } catch (err) {
    assert.instance(err, BatchWriterError);
    const e = err as BatchWriterError;
    assert.is(e.code, 'ERR_INVALID_OPTION');
    assert.is(e.details.option, option);
    assert.ok(e.message.includes(option), `message names ${option}: ${e.message}`);
    assert.ok(/must be/.test(e.message), `message says what is allowed: ${e.message}`);
    return e;
  }
  assert.unreachable(`${JSON.stringify(overrides)} was accepted`);
  throw new Error('unreachable');
}

test('defaults fill every option', () => {
  const o = resolveOptions(base);
  assert.is(o.maxBatchDocs, 1000);
  assert.is(o.maxBatchBytes, 8 * 1024 * 1024);
  assert.is(o.maxDelayMs, 50);
  assert.is(o.queueBytes, 64 * 1024 * 1024);
  assert.ok(o.workers >= 1 && o.workers <= 4);
  assert.is(o.inflightPerWorker, 2);
  assert.is(o.retries, 3);
  assert.is(o.retryBackoffMinMs, 10);
  assert.is(o.retryBackoffMaxMs, 1000);
  assert.is(o.attemptTimeoutMs, 5000);
  assert.is(o.deadLetter, false);
  assert.is(defaults.maxBatchDocs, 1000);
});

for (const [name, preset] of Object.entries(presets)) {
  test(`preset ${name} passes validation`, () => {
    const o = resolveOptions({ ...base, ...preset });
    for (const [key, value] of Object.entries(preset)) assert.equal((o as unknown as Record<string, unknown>)[key], value);
  });
}

const bad: [string, unknown, string?][] = [
  ['maxBatchDocs', 0],
  ['maxBatchDocs', 100_001],
  ['maxBatchDocs', 1.5],
  ['maxBatchDocs', '100'],
  ['maxBatchBytes', 10],
  ['maxDelayMs', -1],
  ['queueBytes', 1000],
  ['workers', 0],
  ['workers', NaN],
  ['inflightPerWorker', 0],
  ['retries', -2],
  ['retryBackoffMinMs', -5],
  ['attemptTimeoutMs', 0],
  ['writeConcern', 'majority'],
  ['clientOptions', 5],
  ['clientOptions', { fn: () => 1 }],
  ['logger', 'console'],
  ['signal', {}],
  ['deadLetter', 'dir'],
  ['deadLetter', { dir: '' }, 'deadLetter.dir'],
  ['deadLetter', { dir: '/tmp/x', fsyncEvery: 0 }, 'fsyncEvery'],
  ['deadLetter', { dir: '/tmp/x', filePrefix: '../evil' }, 'deadLetter.filePrefix'],
  ['uri', ''],
  ['uri', 'http://127.0.0.1'],
  ['db', ''],
  ['db', 'a.b'],
  ['collection', 42],
];

for (const [option, value, named] of bad) {
  test(`${option} = ${typeof value === 'object' ? JSON.stringify(value) : String(value)} is refused`, () => {
    rejects({ [option]: value }, named ?? option);
  });
}

test('retryBackoffMaxMs below retryBackoffMinMs is refused', () => {
  rejects({ retryBackoffMinMs: 500, retryBackoffMaxMs: 100 }, 'retryBackoffMaxMs');
});

test('retries -1 means until the close deadline', () => {
  assert.is(resolveOptions({ ...base, retries: -1 }).retries, -1);
});

test('a bad URI never shows its password in the error', () => {
  const e = rejects({ uri: 'http://alice:s3cr3t-pw@127.0.0.1/' }, 'uri');
  assert.not.ok(e.message.includes('s3cr3t-pw'), e.message);
  assert.not.ok(JSON.stringify(e.details).includes('s3cr3t-pw'));
});

test.run();
