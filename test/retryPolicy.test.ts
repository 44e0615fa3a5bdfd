// Backoff: exponential, ±25 % jitter, always within [min, max]; attempts limited by
// `retries` (-1 = unlimited); sleeps end at once when the deadline signal aborts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { seededRandom } from '@scope/testkit';
import { backoffMs, mayAttempt, sleep } from '../packages/batchwriter-threads/src/retryPolicy.js';

const limits = { retries: 10, retryBackoffMinMs: 10, retryBackoffMaxMs: 1000 };
const fixed = (value: number) => () => value;

test('without jitter (random = 0.5) the delay doubles from the minimum up to the maximum', () => {
  const delays = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((attempt) => backoffMs(attempt, limits, fixed(0.5)));
  assert.equal(delays, [10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000]);
});

test('the first attempt and the first retry use the minimum', () => {
  assert.is(backoffMs(1, limits, fixed(0.5)), 10);
  assert.is(backoffMs(2, limits, fixed(0.5)), 10);
});

test('jitter is ±25 % of the exponential delay, never outside [min, max]', () => {
  const rand = seededRandom(42);
  for (let attempt = 2; attempt <= 20; attempt++) {
    const base = Math.min(limits.retryBackoffMaxMs, limits.retryBackoffMinMs * 2 ** (attempt - 2));
    for (let i = 0; i < 200; i++) {
      const d = backoffMs(attempt, limits, rand);
      assert.ok(d >= limits.retryBackoffMinMs && d <= limits.retryBackoffMaxMs, `attempt ${attempt}: ${d} outside [10, 1000]`);
      assert.ok(d >= Math.floor(base * 0.75) && d <= Math.ceil(base * 1.25), `attempt ${attempt}: ${d} outside ${base} ±25 %`);
    }
  }
  // The extremes of the jitter, away from the clamps: 160 ms → 120 .. 200 ms.
  assert.is(backoffMs(6, limits, fixed(0)), 120);
  assert.is(backoffMs(6, limits, fixed(0.999999)), 200);
});

test('jitter actually varies the delay (not a constant)', () => {
  const rand = seededRandom(7);
  const seen = new Set<number>();
  for (let i = 0; i < 100; i++) seen.add(backoffMs(6, limits, rand));
  assert.ok(seen.size > 20, `only ${seen.size} distinct delays`);
});

test('with jitter the delays still grow: the mean of each attempt exceeds the previous one until the maximum', () => {
  const rand = seededRandom(3);
  const mean = (attempt: number): number => {
    let sum = 0;
    for (let i = 0; i < 500; i++) sum += backoffMs(attempt, limits, rand);
    return sum / 500;
  };
  let previous = 0;
  for (let attempt = 2; attempt <= 8; attempt++) {
    const m = mean(attempt);
    assert.ok(m > previous, `attempt ${attempt}: mean ${m} not above ${previous}`);
    previous = m;
  }
});

test('min = max gives a constant delay; min = 0 allows zero', () => {
  const flat = { retries: 3, retryBackoffMinMs: 250, retryBackoffMaxMs: 250 };
  for (const r of [0, 0.3, 0.99]) for (let a = 2; a < 8; a++) assert.is(backoffMs(a, flat, fixed(r)), 250);
  const zero = { retries: 3, retryBackoffMinMs: 0, retryBackoffMaxMs: 100 };
  for (let a = 2; a < 8; a++) assert.is(backoffMs(a, zero, fixed(0.5)), 0);
});

test('large attempt numbers do not overflow past the maximum', () => {
  assert.is(backoffMs(10_000, limits, fixed(0.999)), 1000);
  assert.is(backoffMs(Number.MAX_SAFE_INTEGER, limits, fixed(0)), 1000 * 0.75);
});

test('mayAttempt: retries = N allows N + 1 attempts; -1 never stops', () => {
  const three = { retries: 3, retryBackoffMinMs: 10, retryBackoffMaxMs: 100 };
  assert.equal([1, 2, 3, 4, 5].map((a) => mayAttempt(a, three)), [true, true, true, true, false]);
  const none = { retries: 0, retryBackoffMinMs: 10, retryBackoffMaxMs: 100 };
  assert.equal([1, 2].map((a) => mayAttempt(a, none)), [true, false]);
  const forever = { retries: -1, retryBackoffMinMs: 10, retryBackoffMaxMs: 100 };
  assert.ok(mayAttempt(1, forever) && mayAttempt(1_000_000, forever));
});

test('sleep resolves true after the delay, false at once when the signal aborts', async () => {
  const ac = new AbortController();
  const started = Date.now();
  assert.is(await sleep(20, ac.signal), true);
  assert.ok(Date.now() - started >= 15);

  const pending = sleep(60_000, ac.signal);
  setTimeout(() => ac.abort(), 10);
  assert.is(await pending, false);

  assert.is(await sleep(60_000, AbortSignal.abort()), false);
});

test.run();
