// Unit tests of encoding into the ring and of raw BSON handling (no threads, no server).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BSON } from 'mongodb';
import { encodeInto, ensureId, inspectRaw, spliceId, splicedLength } from '../packages/batchwriter-threads/src/bsonEncoding.js';

test('encodeInto writes exactly what BSON.serialize would, at the offset', () => {
  const doc = { a: 1, b: 'two', c: new BSON.Double(3), d: [1, { e: null }], f: undefined };
  const target = Buffer.alloc(200, 0xee);
  const length = encodeInto(doc, target, 17, 200, 1000);
  const expected = BSON.serialize(doc, { ignoreUndefined: false });
  assert.is(length, expected.length);
  assert.is(Buffer.compare(target.subarray(17, 17 + length), expected), 0);
  assert.is(target[16], 0xee, 'nothing before the offset is touched');
  assert.is(target[17 + length], 0xee, 'nothing after the record is touched');
});

test('encodeInto returns -1 when the record does not fit before the limit, touching nothing past it', () => {
  const target = Buffer.alloc(64, 0xee);
  assert.is(encodeInto({ s: 'x'.repeat(100) }, target, 0, 32, 1000), -1);
  assert.ok(target.subarray(32).every((b) => b === 0xee));
});

test('ensureId adds an ObjectId only when _id is missing', () => {
  const withId = { _id: 'mine' };
  ensureId(withId);
  assert.is(withId._id, 'mine');
  const without: Record<string, unknown> = { a: 1 };
  ensureId(without);
  assert.instance(without._id, BSON.ObjectId);
});

test('spliceId puts a new ObjectId first, keeping every byte of the original after it', () => {
  const raw = BSON.serialize({ a: 1, nested: { b: [1, 2] }, s: 'ü' });
  assert.is(inspectRaw(raw).hasId, false);
  const target = Buffer.alloc(splicedLength(raw));
  const length = spliceId(raw, target, 0);
  assert.is(length, target.length);
  const doc = BSON.deserialize(target);
  assert.equal(Object.keys(doc), ['_id', 'a', 'nested', 's']);
  assert.instance(doc._id, BSON.ObjectId);
  assert.equal(doc.nested, { b: [1, 2] });
  assert.is(inspectRaw(target).hasId, true);
});

test('inspectRaw sees a top-level _id but not a nested one', () => {
  assert.is(inspectRaw(BSON.serialize({ x: 1, _id: 5 })).hasId, true);
  assert.is(inspectRaw(BSON.serialize({ x: { _id: 5 } })).hasId, false);
  assert.is(inspectRaw(BSON.serialize({ _idx: 5 })).hasId, false);
});

test.run();
