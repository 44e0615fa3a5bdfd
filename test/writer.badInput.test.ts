// Bad input is refused at once with its own code; nothing is enqueued and the writer
// keeps working: 1,000 good documents written around the bad ones all arrive.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BSON, type MongoClient } from 'mongodb';
import { BatchWriter, BatchWriterError, type BatchWriterErrorCode } from '@scope/batchwriter-threads';
import { generateDocs } from '@scope/testkit';
import { connectShared, freshDbName, sharedUri } from './helpers/sharedServer.js';
import { assertBalanced, assertCollectionHolds } from './helpers/verify.js';

const dbName = freshDbName('badinput');

const circular: Record<string, unknown> = { a: 1 };
circular.self = circular;
const deepCircular: Record<string, unknown> = { list: [] };
(deepCircular.list as unknown[]).push({ back: deepCircular });

const validRaw = BSON.serialize({ ok: 1 });
const wrongLength = Buffer.from(validRaw);
wrongLength.writeInt32LE(validRaw.length + 3, 0);
const badNested = Buffer.from(BSON.serialize({ nested: { a: 1 } }));
badNested.writeInt32LE(200, 14); // nested document claims more bytes than it has
const badType = Buffer.from(validRaw);
badType[4] = 0x77; // no such element type

const objectCases: [string, unknown, BatchWriterErrorCode][] = [
  ['null', null, 'ERR_NOT_PLAIN_OBJECT'],
  ['a string', 'hello', 'ERR_NOT_PLAIN_OBJECT'],
  ['a number', 42, 'ERR_NOT_PLAIN_OBJECT'],
  ['an array', [{ a: 1 }], 'ERR_NOT_PLAIN_OBJECT'],
  ['a Map', new Map([['a', 1]]), 'ERR_NOT_PLAIN_OBJECT'],
  ['a Buffer', Buffer.from('x'), 'ERR_NOT_PLAIN_OBJECT'],
  ['a Date', new Date(), 'ERR_NOT_PLAIN_OBJECT'],
  ['a circular object', circular, 'ERR_CIRCULAR'],
  ['a cycle through an array', deepCircular, 'ERR_CIRCULAR'],
  ['a function value', { f: () => 1 }, 'ERR_UNENCODABLE'],
  ['a symbol value', { s: Symbol('x') }, 'ERR_UNENCODABLE'],
  ['a nested function', { a: { b: [1, { c: function named() {} }] } }, 'ERR_UNENCODABLE'],
  ['a Map value', { m: new Map() }, 'ERR_UNENCODABLE'],
  ['a bigint beyond int64', { n: 2n ** 70n }, 'ERR_UNENCODABLE'],
  ['over 16 MiB', { blob: 'x'.repeat(16 * 1024 * 1024 + 10) }, 'ERR_DOC_TOO_LARGE'],
  ['over queueBytes', { blob: 'x'.repeat(300 * 1024) }, 'ERR_DOC_TOO_LARGE'],
];

const rawCases: [string, unknown, BatchWriterErrorCode][] = [
  ['not bytes', { a: 1 }, 'ERR_INVALID_BSON'],
  ['too short', Buffer.from([1, 2]), 'ERR_INVALID_BSON'],
  ['a length that does not match', wrongLength, 'ERR_INVALID_BSON'],
  ['two documents back to back', Buffer.concat([validRaw, validRaw]), 'ERR_INVALID_BSON'],
  ['no terminating zero', Buffer.concat([Buffer.from([6, 0, 0, 0, 10, 0])]), 'ERR_INVALID_BSON'],
  ['a broken nested document', badNested, 'ERR_INVALID_BSON'],
  ['an unknown element type', badType, 'ERR_INVALID_BSON'],
  ['over queueBytes', BSON.serialize({ blob: 'x'.repeat(300 * 1024) }), 'ERR_DOC_TOO_LARGE'],
];

function expectCode(fn: () => unknown, code: BatchWriterErrorCode, what: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.instance(caught, BatchWriterError, `${what}: expected BatchWriterError ${code}, got ${String(caught)}`);
  assert.is((caught as BatchWriterError).code, code, `${what}: ${(caught as Error).message}`);
  assert.ok((caught as Error).message.length > 20, 'the message says what to do');
}

async function expectRejection(promise: Promise<unknown>, code: BatchWriterErrorCode, what: string): Promise<void> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  assert.instance(err, BatchWriterError, `${what}: write() resolved`);
  assert.is((err as BatchWriterError).code, code, `${what}: ${(err as Error).message}`);
}

test('each bad input gets its code from every write path; 1,000 good documents around them arrive', async () => {
  const client: MongoClient = await connectShared();
  const writer = await BatchWriter.create({ uri: sharedUri(), db: dbName, collection: 'docs', queueBytes: 256 * 1024 });
  try {
    const good = generateDocs('small', 1000, 41);
    let g = 0;
    const writeSomeGood = async (): Promise<void> => {
      for (let k = 0; k < 20 && g < good.length; k++) await writer.write(good[g++]!);
    };
    for (const [what, value, code] of objectCases) {
      await writeSomeGood();
      expectCode(() => writer.tryWrite(value as never), code, `tryWrite(${what})`);
      await expectRejection(writer.write(value as never), code, `write(${what})`);
      await expectRejection(writer.writeMany([value as never]), code, `writeMany([${what}])`);
    }
    for (const [what, value, code] of rawCases) {
      await writeSomeGood();
      expectCode(() => writer.tryWriteRaw(value as never), code, `tryWriteRaw(${what})`);
      await expectRejection(writer.writeRaw(value as never), code, `writeRaw(${what})`);
    }
    // A bad document inside writeMany: those before it are accepted, the error names its index.
    const before = good.slice(g, g + 5);
    g += 5;
    const err = await writer.writeMany([...before, { f: () => 0 } as never, good[g]!]).then(() => undefined, (e: unknown) => e);
    assert.is((err as BatchWriterError).code, 'ERR_UNENCODABLE');
    assert.is((err as BatchWriterError).details.index, 5);
    while (g < good.length) await writer.write(good[g++]!);
    await writer.flush();
    assert.is(writer.stats().accepted, 1000, 'nothing bad was enqueued');
    assert.is(writer.stats().deadLettered, 0);
    assertBalanced(writer);
    await writer.close();
    await assertCollectionHolds(client.db(dbName).collection('docs'), good);
  } finally {
    await writer.close();
    await client.db(dbName).dropDatabase().catch(() => {});
    await client.close();
  }
});

test.run();
