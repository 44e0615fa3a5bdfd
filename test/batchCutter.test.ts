// Unit tests of the batch cutter (no threads, no server).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BatchCutter } from '../packages/batchwriter-threads/src/batchCutter.js';

const limits = { maxBatchDocs: 3, maxBatchBytes: 100, maxDelayMs: 50 };

test('seals at maxBatchDocs', () => {
  const cutter = new BatchCutter(limits);
  for (let i = 0; i < 7; i++) cutter.add(i * 10, i * 10, 0, 10, 0);
  assert.is(cutter.sealed.length, 2);
  assert.equal(cutter.sealed.map((b) => b.count), [3, 3]);
  assert.is(cutter.open?.count, 1);
  assert.equal([cutter.sealed[0]!.start, cutter.sealed[0]!.end], [0, 30]);
});

test('seals before a record would push the batch over maxBatchBytes', () => {
  const cutter = new BatchCutter({ ...limits, maxBatchDocs: 100 });
  cutter.add(0, 0, 0, 60, 0);
  cutter.add(60, 60, 0, 50, 0);
  assert.is(cutter.sealed.length, 1);
  assert.is(cutter.sealed[0]!.end - cutter.sealed[0]!.start, 60);
  assert.is(cutter.open!.start, 60);
});

test('a lone record larger than maxBatchBytes becomes its own batch', () => {
  const cutter = new BatchCutter({ ...limits, maxBatchDocs: 100 });
  cutter.add(0, 0, 0, 150, 0);
  assert.is(cutter.sealed.length, 1);
  assert.is(cutter.sealed[0]!.count, 1);
});

test('a wrap seals the open batch; the next batch owns the waste at its front', () => {
  const cutter = new BatchCutter({ ...limits, maxBatchDocs: 100, maxBatchBytes: 1000 });
  cutter.add(0, 0, 0, 40, 0);
  cutter.add(40, 40, 0, 40, 0);
  cutter.add(80, 0, 20, 30, 0); // ring of 100: 20 bytes skipped, record at 0
  assert.is(cutter.sealed.length, 1);
  assert.equal([cutter.sealed[0]!.vstart, cutter.sealed[0]!.vend], [0, 80]);
  const open = cutter.open!;
  assert.equal([open.vstart, open.vend, open.start, open.end], [80, 130, 0, 30]);
});

test('the delay: due after maxDelayMs from the first record; take() cuts it then, or when forced', () => {
  const cutter = new BatchCutter(limits);
  cutter.add(0, 0, 0, 10, 1000);
  cutter.add(10, 10, 0, 10, 1030);
  assert.is(cutter.msUntilDue(1030), 20);
  assert.is(cutter.take(1030), undefined);
  assert.is(cutter.take(1050)?.count, 2);
  cutter.add(20, 20, 0, 10, 2000);
  assert.is(cutter.take(2001, true)?.count, 1);
  assert.is(cutter.open, undefined);
  assert.is(cutter.msUntilDue(3000), undefined);
});

test('take() hands out sealed batches oldest first before the open one', () => {
  const cutter = new BatchCutter(limits);
  for (let i = 0; i < 8; i++) cutter.add(i * 10, i * 10, 0, 10, 0);
  const ids = [cutter.take(0, true)!.id, cutter.take(0, true)!.id, cutter.take(0, true)!.id];
  assert.equal(ids, [1, 2, 3]);
  assert.is(cutter.take(0, true), undefined);
});

test.run();
