// What a run measures, and how: main-thread CPU, memory, and the synthetic app load used by
// the event-loop scenario. Everything here runs inside the child process of one run.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

// ---- main-thread CPU ---------------------------------------------------------------------
//
// process.cpuUsage() adds up every thread of the process: our worker threads, Piscina's,
// libuv's. The question here is what the app's own thread pays, so we read the main
// thread's entry under /proc/self/task/<tid> (the main thread's tid is the pid).
// Two sources, both recorded:
//  - schedstat: nanoseconds on CPU, exact; used for the tables when the kernel has it;
//  - stat: utime + stime in clock ticks (10 ms each), the classic source; coarse.

const taskDir = `/proc/self/task/${process.pid}`;
const hasSchedstat = existsSync(`${taskDir}/schedstat`) && Number(readFileSync(`${taskDir}/schedstat`, 'utf8').split(' ')[0]) > 0;
const hasStat = existsSync(`${taskDir}/stat`);

/** Which source `mainThreadCpu()` reports in `ns`, for the report's notes. */
export const cpuSource = hasSchedstat
  ? 'main thread: /proc/self/task/<pid>/schedstat (ns)'
  : hasStat
    ? 'main thread: /proc/self/task/<pid>/stat utime+stime (clock ticks)'
    : 'process.cpuUsage() (ALL threads: overstates threaded approaches; no /proc here)';

/**
 * The main thread's CPU time so far: `ns` from the best source, `ticks` (utime+stime) when
 * /proc has them.
 * @param {number} clkTck clock ticks per second (getconf CLK_TCK)
 * @returns {{ ns: number, ticks: number | undefined }}
 */
export function mainThreadCpu(clkTck) {
  let ticks;
  if (hasStat) {
    const stat = readFileSync(`${taskDir}/stat`, 'utf8');
    // The command name (field 2) may contain spaces: split after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state), so utime (14) and stime (15) are at 11 and 12.
    ticks = Number(fields[11]) + Number(fields[12]);
  }
  if (hasSchedstat) return { ns: Number(readFileSync(`${taskDir}/schedstat`, 'utf8').split(' ')[0]), ticks };
  if (ticks !== undefined) return { ns: (ticks * 1e9) / clkTck, ticks };
  const u = process.cpuUsage();
  return { ns: (u.user + u.system) * 1000, ticks };
}

/** CPU between two `mainThreadCpu()` readings. */
export function cpuSince(start, clkTck) {
  const end = mainThreadCpu(clkTck);
  return { ns: end.ns - start.ns, ticks: end.ticks === undefined ? undefined : end.ticks - start.ticks };
}

// ---- memory ------------------------------------------------------------------------------

const MIB = 1024 * 1024;

/** Peak RSS of the process (VmHWM), in bytes; falls back to current RSS off Linux. */
export function peakRss() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    /* not Linux */
  }
  return process.memoryUsage.rss();
}

/**
 * Resets the kernel's peak-RSS mark to the current RSS (writing 5 to clear_refs), so that
 * VmHWM afterwards is the peak of the measured phase only, not of document generation.
 * @returns {boolean} whether the reset worked
 */
export function resetPeakRss() {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** Full GC (the child runs with --expose-gc) so "before" and "retained" numbers are comparable. */
export function fullGc() {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    globalThis.gc();
  }
}

/**
 * Samples heapUsed and RSS on a timer. heapUsed has no kernel-kept peak, so its peak is the
 * highest sample (plus any `sample()` the caller takes at known high points); RSS peak
 * comes from VmHWM, which misses nothing.
 */
export class MemorySampler {
  constructor(intervalMs = 20) {
    this.peakHeapUsed = 0;
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
    this.sample();
  }

  sample() {
    const { heapUsed } = process.memoryUsage();
    if (heapUsed > this.peakHeapUsed) this.peakHeapUsed = heapUsed;
  }

  stop() {
    clearInterval(this.timer);
    this.sample();
    return { peakHeapUsed: this.peakHeapUsed, peakRss: peakRss() };
  }
}

/** A snapshot of the main isolate's heap and the process's RSS, in bytes. */
export function memoryNow() {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
}

export const toMiB = (bytes) => bytes / MIB;

// ---- the synthetic app -------------------------------------------------------------------
//
// A service whose main thread is busy with its own work: each "request" parses a JSON
// payload of about 2 KB, touches it, serialises it again and hashes the result. The amount
// of work per tick is a fixed number of requests (calibrated once by the parent, the same
// for every run), never "work for N ms", so a slower loop shows up as fewer ticks done.

const payload = JSON.stringify({
  user: { id: 123456, name: 'Ada Lovelace', roles: ['admin', 'billing', 'ops'], prefs: { theme: 'dark', tz: 'Europe/London' } },
  cart: Array.from({ length: 20 }, (_, i) => ({ sku: `SKU-${1000 + i}`, qty: (i % 3) + 1, price: 9.99 + i, tags: ['a', 'b'] })),
  note: 'x'.repeat(200),
});

/** One app request. Returns something derived from the work so it cannot be optimised away. */
export function appRequest(i) {
  const o = JSON.parse(payload);
  o.seq = i;
  return createHash('sha256').update(JSON.stringify(o)).digest('hex').charCodeAt(0);
}

/**
 * How many app requests take `targetMs` on this machine (measured in the parent, before any
 * run, so that every run of every approach does the same work per tick).
 */
export function calibrateAppRequests(targetMs) {
  for (let i = 0; i < 2000; i++) appRequest(i); // warm the JIT
  const n = 4000;
  const t = performance.now();
  for (let i = 0; i < n; i++) appRequest(i);
  const perMs = n / (performance.now() - t);
  return Math.max(1, Math.round(perMs * targetMs));
}

// ---- statistics --------------------------------------------------------------------------

/** Median, min and max of the defined numbers in `values`. */
export function summarize(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { median, min: v[0], max: v[v.length - 1], n: v.length };
}
