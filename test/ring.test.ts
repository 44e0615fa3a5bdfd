// Unit tests of the ring arithmetic (no threads, no server).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Ring } from '../packages/batchwriter-threads/src/ring.js';

test('records are placed back to back until the ring is full', () => {
  const ring = new Ring(100);
  const a = ring.place(40)!;
  assert.equal(a, { vstart: 0, offset: 0, waste: 0 });
  ring.commit(a, 40);
  const b = ring.place(40)!;
  assert.equal(b, { vstart: 40, offset: 40, waste: 0 });
  ring.commit(b, 40);
  assert.is(ring.place(30), undefined, 'only 20 bytes free');
  assert.is(ring.used, 80);
});

test('a record that does not fit before the end wraps to 0, wasting the tail end', () => {
  const ring = new Ring(100);
  ring.commit(ring.place(70)!, 70);
  ring.commit(ring.place(20)!, 20);
  ring.release(70); // 70..90 live, head at 90
  const p = ring.place(30)!;
  assert.equal(p, { vstart: 90, offset: 0, waste: 10 });
  ring.commit(p, 30);
  assert.is(ring.head, 130);
  assert.is(ring.used, 60, '20 + 10 waste + 30');
  assert.is(ring.head % 100, 30);
});

test('wrapping needs the front of the ring released first', () => {
  const ring = new Ring(100);
  ring.commit(ring.place(50)!, 50);
  ring.commit(ring.place(40)!, 40); // head 90, tail 0
  ring.release(50); // 50..90 in use
  assert.is(ring.place(60), undefined, '10 waste + 60 > 60 free');
  assert.ok(ring.place(40), '10 waste + 40 fits the 60 free');
});

test('an empty ring restarts at offset 0, so a record up to the capacity always fits', () => {
  const ring = new Ring(100);
  ring.commit(ring.place(60)!, 60);
  ring.release(60);
  const p = ring.place(100)!;
  assert.is(p.offset, 0);
  assert.is(p.waste, 0);
  ring.commit(p, 100);
  assert.is(ring.used, 100);
  assert.is(ring.place(1), undefined);
  assert.is(new Ring(100).place(101), undefined, 'never more than the capacity');
});

test('contiguousFree stops at the end of the area or at the released edge', () => {
  const ring = new Ring(100);
  ring.commit(ring.place(30)!, 30);
  assert.equal(ring.contiguousFree(), { offset: 30, length: 70 });
  ring.commit(ring.place(70)!, 70);
  ring.release(40);
  assert.equal(ring.contiguousFree(), { offset: 0, length: 40 });
});

test('release must move forward within what was written', () => {
  const ring = new Ring(100);
  ring.commit(ring.place(30)!, 30);
  assert.throws(() => ring.release(31), RangeError);
  ring.release(20);
  assert.throws(() => ring.release(10), RangeError);
});

test('a long random workload never overlaps live records', () => {
  let seed = 7;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const ring = new Ring(1000);
  const live: { vstart: number; vend: number; offset: number; length: number }[] = [];
  for (let i = 0; i < 20_000; i++) {
    if (live.length > 0 && (rand() < 0.45 || !ring.place(120))) {
      const r = live.shift()!;
      ring.release(r.vend);
      continue;
    }
    const length = 1 + Math.floor(rand() * 120);
    const p = ring.place(length);
    if (!p) continue;
    ring.commit(p, length);
    const rec = { vstart: p.vstart, vend: ring.head, offset: p.offset, length };
    assert.ok(rec.offset + length <= 1000, 'never crosses the end');
    for (const other of live) {
      const overlap = rec.offset < other.offset + other.length && other.offset < rec.offset + length;
      assert.not.ok(overlap, `record at ${rec.offset}+${length} overlaps ${other.offset}+${other.length}`);
    }
    live.push(rec);
    assert.ok(ring.used <= 1000);
  }
});

test.run();
