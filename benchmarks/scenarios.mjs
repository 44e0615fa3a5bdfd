// The measured scenarios. Each runs inside a fresh child process (child.mjs) for exactly
// one approach and one run, so RSS, heap and main-thread CPU belong to that run alone.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { BSON } from 'mongodb';
import { generateDocs, makeDoc, seededRandom } from '@scope/testkit';
import { appRequest, cpuSince, fullGc, mainThreadCpu, memoryNow, MemorySampler, peakRss, resetPeakRss, toMiB } from './measure.mjs';

/** Awaits only what is a promise: the baselines accept synchronously, ours returns one. */
async function writeAll(sink, items) {
  for (const item of items) {
    const r = sink.write(item);
    if (r !== true) await r;
  }
}

/**
 * Connections, worker threads and the JIT warm up on small documents through the
 * approach's own path, so the measured part starts from a steady state for every approach.
 */
async function warmUp(sink, task) {
  if (task.warm > 0) {
    await writeAll(sink, sink.prepare(generateDocs('small', task.warm, 99_999, task.profile)));
    await sink.flush();
  }
}

// ---- throughput and main-thread CPU at saturation -----------------------------------------

/**
 * Writes `n` documents as fast as the approach accepts them, then waits until the server has
 * acknowledged all of them. Time and main-thread CPU cover both parts; the parent then
 * checks the collection's count.
 */
export async function throughput(task, sink) {
  const tw = performance.now();
  await warmUp(sink, task);
  const tp = performance.now();
  const items = sink.prepare(generateDocs(task.shape, task.n, task.seed, task.profile));
  const prepareMs = performance.now() - tp;
  fullGc();
  const before = memoryNow();
  const peakReset = resetPeakRss();
  const sampler = new MemorySampler();
  const cpu0 = mainThreadCpu(task.clkTck);
  const t0 = performance.now();

  await writeAll(sink, items);
  const tAccepted = performance.now();
  sampler.sample();
  await sink.flush();

  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSince(cpu0, task.clkTck);
  const mem = sampler.stop();
  return {
    n: task.n,
    seconds,
    acceptSeconds: (tAccepted - t0) / 1000,
    docsPerSec: task.n / seconds,
    cpuNs: cpu.ns,
    cpuTicks: cpu.ticks,
    cpuUsPerDoc: cpu.ns / 1000 / task.n,
    peakRssMiB: toMiB(mem.peakRss),
    peakRssGrowthMiB: peakReset ? toMiB(mem.peakRss - before.rss) : undefined,
    peakHeapUsedMiB: toMiB(mem.peakHeapUsed),
    peakHeapGrowthMiB: toMiB(mem.peakHeapUsed - before.heapUsed),
    warmUpMs: tp - tw,
    prepareMs,
    extra: sink.extra?.(),
  };
}

// ---- event-loop delay under a steady app load, at a fixed write rate ---------------------

/**
 * The synthetic app runs every `tickMs`: `appRequestsPerTick` requests of its own work and
 * `rate × tickMs / 1000` document writes (tryWrite: a request handler does not wait). After
 * `warmMs`, the event-loop delay histogram records for `durationMs`. `sink` is undefined for
 * the baseline: the same app, writing nothing.
 */
export async function eventLoop(task, sink) {
  const { tickMs, rate, durationMs, warmMs, appRequestsPerTick } = task.eventLoop;
  if (sink) await warmUp(sink, task);
  const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
  const maxTicks = Math.ceil((warmMs + durationMs) / tickMs) + 50;
  const items = sink ? sink.prepare(generateDocs('small', perTick * maxTicks, task.seed, task.profile)) : [];
  fullGc();

  let next = 0;
  let ticks = 0;
  let rejected = 0;
  let appChecksum = 0;
  const waits = [];
  const timer = setInterval(() => {
    for (let k = 0; k < appRequestsPerTick; k++) appChecksum += appRequest(k);
    if (sink) {
      for (let j = 0; j < perTick && next < items.length; j++) {
        const item = items[next++];
        // Refused (queue full): a real app would shed or wait; we wait so counts still match.
        if (!sink.tryWrite(item)) {
          rejected++;
          waits.push(sink.write(item));
        }
      }
    }
    ticks++;
  }, tickMs);

  await sleep(warmMs);
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const ticks0 = ticks;
  const written0 = next;
  const cpu0 = mainThreadCpu(task.clkTck);
  const t0 = performance.now();
  histogram.enable();
  await sleep(durationMs);
  histogram.disable();
  const window = (performance.now() - t0) / 1000;
  const cpu = cpuSince(cpu0, task.clkTck);
  const ticksDone = ticks - ticks0;
  const written = next - written0;
  clearInterval(timer);

  if (sink) {
    await Promise.all(waits);
    await sink.flush();
  }
  const ms = (ns) => ns / 1e6;
  return {
    seconds: window,
    p50Ms: ms(histogram.percentile(50)),
    p99Ms: ms(histogram.percentile(99)),
    maxMs: ms(histogram.max),
    meanMs: ms(histogram.mean),
    ticksDone,
    ticksExpected: Math.floor((window * 1000) / tickMs),
    appRequestsPerSec: (ticksDone * appRequestsPerTick) / window,
    docsWrittenPerSec: written / window,
    // Everything the parent should find in the collection: warm-up plus every item used.
    docsTotal: sink ? task.warm + next : 0,
    mainCpuPct: (cpu.ns / 1e9 / window) * 100,
    cpuNs: cpu.ns,
    cpuTicks: cpu.ticks,
    rejected,
    checksum: appChecksum % 7,
    extra: sink?.extra?.(),
  };
}

// ---- memory while the server is paused -----------------------------------------------------

/**
 * With the server stopped (SIGSTOP, asked of the parent), the app hands over `count` small
 * documents, generated one at a time and then dropped by the app, as a service would. What
 * stays on the heap afterwards is what the approach holds. The child exits without draining;
 * the parent resumes the server afterwards.
 */
export async function pausedMemory(task, sink, control) {
  await warmUp(sink, task);
  fullGc();
  const before = memoryNow();
  const peakReset = resetPeakRss();
  await control.pause();

  const rand = seededRandom(task.seed);
  const raw = task.approach === 'ours-raw';
  let rejected = 0;
  const cpu0 = mainThreadCpu(task.clkTck);
  const t0 = performance.now();
  for (let i = 0; i < task.paused.count; i++) {
    const doc = makeDoc('small', rand, i, task.profile);
    if (!sink.tryWrite(raw ? BSON.serialize(doc) : doc)) rejected++;
  }
  const acceptSeconds = (performance.now() - t0) / 1000;
  const cpu = cpuSince(cpu0, task.clkTck);
  const heapAtEnd = process.memoryUsage().heapUsed;
  // Let pending dispatches happen (batches to workers or sockets), then see what is retained.
  await sleep(300);
  fullGc();
  const after = memoryNow();
  const peak = peakRss();
  return {
    count: task.paused.count,
    rejected,
    acceptSeconds,
    cpuUsPerDoc: cpu.ns / 1000 / task.paused.count,
    cpuNs: cpu.ns,
    cpuTicks: cpu.ticks,
    heapRetainedMiB: toMiB(after.heapUsed - before.heapUsed),
    heapAtEndOfAcceptMiB: toMiB(heapAtEnd - before.heapUsed),
    rssGrowthMiB: toMiB(after.rss - before.rss),
    peakRssGrowthMiB: peakReset ? toMiB(peak - before.rss) : undefined,
    rssMiB: toMiB(after.rss),
    arrayBuffersMiB: toMiB(after.arrayBuffers),
    extra: sink.extra?.(),
  };
}
