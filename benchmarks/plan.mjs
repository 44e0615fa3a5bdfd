// What the suite runs and how big each run is. The server (FerretDB on SQLite here) takes
// roughly 10-15k small documents a second, so sizes are chosen for wall time: the full suite
// stays under 20 minutes on 2 cores and --quick under 3.
import { availableParallelism } from 'node:os';
import { shapeTargetBytes } from '@scope/testkit';

const MIB = 1024 * 1024;

/** @param {boolean} quick */
export function makePlan(quick) {
  // The library's defaults, spelled out so the report can show them and the baselines match.
  const writer = {
    workers: Math.min(4, availableParallelism()),
    inflightPerWorker: 2,
    maxBatchDocs: 1000,
    maxBatchBytes: 8 * MIB,
    maxDelayMs: 50,
    queueBytes: 64 * MIB,
  };
  return {
    mode: quick ? 'quick' : 'full',
    // Every approach runs this many times per measurement, interleaved A B C A B C ...
    runs: quick ? 3 : 5,
    writer,
    // Small documents written and flushed through the approach before measuring.
    warm: quick ? 1000 : 3000,
    throughput: {
      approaches: ['floor', 'driver-1', 'driver-N', 'piscina', 'ours', 'ours-raw'],
      // Documents per run. --quick keeps only small to fit its 3 minutes: with a process
      // per run, start-up (~0.5 s) rather than documents dominates a quick run's time.
      shapes: quick ? { small: 10_000 } : { small: 20_000, medium: 10_000, large: 2_000, huge: 150 },
    },
    eventLoop: {
      approaches: [...(quick ? ['baseline'] : ['baseline', 'floor']), 'driver-1', 'driver-N', 'piscina', 'ours', 'ours-raw'],
      // Small documents per second: well under what any approach sustains here (~10k/s).
      rate: 2000,
      tickMs: 5,
      // App work per tick, in ms on this machine (calibrated to a fixed request count): 40% load.
      appWorkMs: 2,
      // The first few hundred ms of a fresh process carry JIT and GC transients in every
      // approach (ours showed 10-15 ms stalls there): measure the steady state after them.
      warmMs: quick ? 500 : 1000,
      durationMs: quick ? 1000 : 5000,
    },
    pausedMemory: {
      approaches: ['driver-1', 'driver-N', 'piscina', 'ours', 'ours-raw'],
      // --quick halves it: generating and GC-ing 200k documents per run costs it too much time.
      count: quick ? 100_000 : 200_000,
      // Our ring must hold all of them (about 66 MB of BSON); the baselines are unbounded.
      queueBytes: 128 * MIB,
    },
    scaling: {
      shape: 'small',
      n: quick ? 8_000 : 20_000,
      configs: dedupe([
        { workers: 1, maxBatchDocs: 1000 },
        { workers: 2, maxBatchDocs: 1000 },
        { workers: 4, maxBatchDocs: 1000 },
        { workers: writer.workers, maxBatchDocs: 100 },
        { workers: writer.workers, maxBatchDocs: 1000 },
        { workers: writer.workers, maxBatchDocs: 10_000 },
      ]),
    },
  };
}

/**
 * The baselines cut batches by count only (what a hand-rolled loop does); cap that count so
 * a batch stays near maxBatchBytes, as our cutter does by bytes: a fair fight for big shapes.
 */
export function baselineBatchDocs(shape, writer) {
  const per = shapeTargetBytes[shape] ?? 1024;
  return Math.max(1, Math.min(writer.maxBatchDocs, Math.floor(writer.maxBatchBytes / per)));
}

function dedupe(configs) {
  const seen = new Set();
  return configs.filter((c) => {
    const key = `${c.workers}/${c.maxBatchDocs}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
