// Turning raw runs into the report: machine facts, medians with min–max, ratios to ours,
// and the markdown tables (one per metric) that are printed and saved.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APPROACHES, REFERENCE } from './approaches.mjs';
import { summarize } from './measure.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

// ---- machine -------------------------------------------------------------------------------

function cpuModel() {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1].trim();
  } catch {
    /* not Linux */
  }
  return cpus()[0]?.model ?? 'unknown';
}

/** The installed version of `name`, found by walking up from its entry point (some packages do not export package.json). */
function packageVersion(name) {
  try {
    let dir = dirname(require.resolve(name));
    for (;;) {
      const file = join(dir, 'package.json');
      if (existsSync(file)) {
        const pkg = JSON.parse(readFileSync(file, 'utf8'));
        if (pkg.name === name) return pkg.version;
      }
      const up = dirname(dir);
      if (up === dir) return 'unknown';
      dir = up;
    }
  } catch {
    return 'unknown';
  }
}

function git() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: root, encoding: 'utf8' }).trim().length > 0;
    return `${commit}${dirty ? ' (uncommitted changes)' : ''}`;
  } catch {
    return 'unknown';
  }
}

/**
 * FerretDB built from a module zip reports its version as "unknown" (the zip lacks the
 * generated version file); the launcher's go.mod says which one it is.
 */
function ferretdbModuleVersion() {
  const goMod = join(root, 'scripts/ferretdb/go.mod');
  if (!existsSync(goMod)) return undefined;
  return /github\.com\/FerretDB\/FerretDB (v[\w.-]+)/.exec(readFileSync(goMod, 'utf8'))?.[1];
}

export async function collectMachine(client, server) {
  const info = await client.db('admin').command({ buildInfo: 1 });
  let version = `MongoDB ${info.version}`;
  if (info.ferretdbVersion !== undefined) {
    const ferret = info.ferretdbVersion === 'unknown' ? `${ferretdbModuleVersion() ?? 'unknown'} (per scripts/ferretdb/go.mod)` : info.ferretdbVersion;
    version = `FerretDB ${ferret}, SQLite backend, reports MongoDB ${info.version}`;
  }
  return {
    cores: availableParallelism(),
    cpuModel: cpuModel(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    server: { kind: server.kind, version, buildInfo: { version: info.version, ferretdbVersion: info.ferretdbVersion } },
    packages: {
      '@scope/batchwriter-threads': packageVersion('@scope/batchwriter-threads'),
      mongodb: packageVersion('mongodb'),
      piscina: packageVersion('piscina'),
    },
    git: git(),
  };
}

// ---- aggregation ---------------------------------------------------------------------------

function collect(records, filter, fields) {
  const chosen = records.filter((r) => r.result && filter(r));
  const out = { runs: chosen.length, failed: records.filter((r) => r.error && filter(r)).length };
  for (const f of fields) out[f] = summarize(chosen.map((r) => r.result[f]));
  return out;
}

export function configKey(c) {
  return `workers=${c.workers}, maxBatchDocs=${c.maxBatchDocs}`;
}

/** Medians and ranges of every metric, by scenario, shape/config and approach. */
export function summarizeRuns(records, plan) {
  const summary = { throughput: {}, eventLoop: {}, pausedMemory: {}, scaling: {} };
  for (const shape of Object.keys(plan.throughput.shapes)) {
    summary.throughput[shape] = {};
    for (const a of plan.throughput.approaches) {
      summary.throughput[shape][a] = collect(records, (r) => r.scenario === 'throughput' && r.shape === shape && r.approach === a, [
        'docsPerSec',
        'cpuUsPerDoc',
        'peakRssGrowthMiB',
        'peakHeapGrowthMiB',
        'acceptSeconds',
      ]);
    }
  }
  for (const a of plan.eventLoop.approaches) {
    summary.eventLoop[a] = collect(records, (r) => r.scenario === 'eventLoop' && r.approach === a, [
      'p50Ms',
      'p99Ms',
      'maxMs',
      'meanMs',
      'appRequestsPerSec',
      'docsWrittenPerSec',
      'mainCpuPct',
      'rejected',
    ]);
  }
  for (const a of plan.pausedMemory.approaches) {
    summary.pausedMemory[a] = collect(records, (r) => r.scenario === 'pausedMemory' && r.approach === a, [
      'heapRetainedMiB',
      'rssGrowthMiB',
      'peakRssGrowthMiB',
      'cpuUsPerDoc',
      'acceptSeconds',
      'rejected',
    ]);
  }
  for (const c of plan.scaling.configs) {
    summary.scaling[configKey(c)] = collect(
      records,
      (r) => r.scenario === 'scaling' && r.config.workers === c.workers && r.config.maxBatchDocs === c.maxBatchDocs,
      ['docsPerSec', 'cpuUsPerDoc', 'peakRssGrowthMiB'],
    );
  }
  return summary;
}

// ---- formatting ----------------------------------------------------------------------------

const int = (x) => Math.round(x).toLocaleString('en-US');
const fixed = (d) => (x) => x.toFixed(d);
/** Three significant digits, enough for per-document microseconds from 0.5 to 5000. */
const sig = (x) => (Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(3));

function cell(s, fmt) {
  if (!s) return 'n/a';
  return s.n === 1 ? fmt(s.median) : `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
}

/** median ÷ the reference's median; '—' when the reference is too close to zero to divide by. */
function ratio(s, ref, minRef = 0) {
  if (!s || !ref) return 'n/a';
  if (Math.abs(ref.median) <= minRef) return '—';
  return `${(s.median / ref.median).toFixed(2)}×`;
}

function table(header, rows) {
  const align = header.map((h, i) => (i === 0 ? '---' : '---:'));
  return [`| ${header.join(' | ')} |`, `| ${align.join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** The approach's row name, with this run's W×I filled in. */
function approachName(a, plan) {
  return APPROACHES[a].replaceAll('W×I', `W×I=${plan.writer.workers * plan.writer.inflightPerWorker}`);
}

function failedNote(entries) {
  const failed = entries.filter(([, s]) => s.failed > 0).map(([name, s]) => `${name}: ${s.failed} failed`);
  return failed.length ? `\n\n**Failed runs** (left out of the medians): ${failed.join(', ')}.` : '';
}

/** One table of `field` across shapes: each approach a row, each shape a value and a ratio. */
function perShapeTable(summary, plan, field, fmt) {
  const shapes = Object.keys(plan.throughput.shapes);
  const header = ['approach', ...shapes.flatMap((s) => [`${s} (${int(plan.throughput.shapes[s])} docs)`, '× ours'])];
  const rows = plan.throughput.approaches.map((a) => [
    approachName(a, plan),
    ...shapes.flatMap((s) => {
      const v = summary.throughput[s][a][field];
      return [cell(v, fmt), ratio(v, summary.throughput[s][REFERENCE][field])];
    }),
  ]);
  return table(header, rows);
}

export function renderMarkdown(meta, plan, summary) {
  const m = meta.machine;
  const w = plan.writer;
  const inflight = w.workers * w.inflightPerWorker;
  const out = [];
  out.push(`# batchwriter-threads benchmarks (${meta.mode})`);
  out.push('');
  out.push(
    [
      `- command: \`${meta.command}\` (from the repo root), ${meta.started}, wall time ${Math.round(meta.wallSeconds)} s`,
      `- machine: ${m.cores} cores, ${m.cpuModel}, ${m.memoryGiB} GiB, Linux ${m.kernel}; Node ${m.node}`,
      `- server: ${m.server.kind}, ${m.server.version}; same machine, 127.0.0.1 (it competes with the app for the ${m.cores} cores)`,
      `- packages: @scope/batchwriter-threads ${m.packages['@scope/batchwriter-threads']} (git ${m.git}), mongodb ${m.packages.mongodb}, piscina ${m.packages.piscina}`,
      `- settings: workers W=${w.workers}, inflightPerWorker I=${w.inflightPerWorker} (so W×I=${inflight}), maxBatchDocs ${w.maxBatchDocs}, maxBatchBytes ${w.maxBatchBytes / 2 ** 20} MiB, maxDelayMs ${w.maxDelayMs}, queueBytes ${w.queueBytes / 2 ** 20} MiB; the baselines batch by count, capped at maxBatchBytes / document size`,
      `- ${plan.runs} runs per approach${meta.mode === 'quick' ? ' (--quick: 3 runs, throughput on small documents only, 1 s event-loop windows without the floor row, 100,000 documents while paused, 8,000 per scaling run)' : ''}, interleaved A B C A B C; each run in its own process after a warm-up of ${plan.warm} small documents; cells are median (min–max); "× ours" is median ÷ median of "${APPROACHES[REFERENCE]}"`,
      `- main-thread CPU: ${meta.cpuSource}; every run's documents are counted in the collection afterwards`,
      `- load average (1/5/15 min) before ${meta.loadAverage.before.map((x) => x.toFixed(1)).join('/')}, after ${meta.loadAverage.after.map((x) => x.toFixed(1)).join('/')}: anything above 0 is other work sharing the ${m.cores} cores, which widens the ranges`,
    ].join('\n'),
  );
  if (meta.failures > 0) out.push(`\n**${meta.failures} run(s) failed; see the JSON for their errors.**`);

  out.push('\n## Throughput at saturation (documents/s until all are acknowledged; higher is better)\n');
  out.push(perShapeTable(summary, plan, 'docsPerSec', int) + failedNote(plan.throughput.approaches.map((a) => [a, summary.throughput[Object.keys(plan.throughput.shapes)[0]][a]])));
  out.push('\nThe floor does no I/O: its row is how fast this machine encodes BSON on one thread. Ours uses write(), awaited per document; the baselines push into their batching loop (no backpressure).');

  out.push('\n## Main-thread CPU per document (µs; lower is better)\n');
  out.push(perShapeTable(summary, plan, 'cpuUsPerDoc', sig));
  out.push('\nCPU of the main thread alone over the whole run (accepting, batching, I/O callbacks, until acknowledged); worker threads excluded.');

  out.push('\n## Peak RSS growth during the throughput run (MiB over the RSS before it; lower is better)\n');
  out.push(perShapeTable(summary, plan, 'peakRssGrowthMiB', fixed(1)));
  out.push('\nVmHWM after a reset at the start of the measured part: the whole process, worker threads and our ring included. The documents themselves were generated before and are not counted.');

  out.push('\n## Peak heapUsed growth of the main thread during the throughput run (MiB; lower is better)\n');
  out.push(perShapeTable(summary, plan, 'peakHeapGrowthMiB', fixed(1)));
  out.push('\nSampled every 20 ms and at the end of accepting; the main isolate only (worker heaps and the ring are not in it).');

  const el = plan.eventLoop;
  const base = summary.eventLoop.baseline;
  out.push(`\n## Event-loop delay while the app works (${el.rate.toLocaleString('en-US')} small docs/s, ms; lower is better)\n`);
  out.push(
    table(
      ['approach', 'p50', 'p99', '× ours (p99)', 'max', 'app requests/s', '% of no-write app', 'main-thread CPU %', 'docs/s written'],
      el.approaches.map((a) => {
        const s = summary.eventLoop[a];
        const name = a === 'baseline' ? 'app alone, no writes (baseline)' : approachName(a, plan);
        const pct = s.appRequestsPerSec && base.appRequestsPerSec ? `${((s.appRequestsPerSec.median / base.appRequestsPerSec.median) * 100).toFixed(1)}%` : 'n/a';
        return [name, cell(s.p50Ms, fixed(2)), cell(s.p99Ms, fixed(2)), ratio(s.p99Ms, summary.eventLoop[REFERENCE].p99Ms), cell(s.maxMs, fixed(1)), cell(s.appRequestsPerSec, int), pct, cell(s.mainCpuPct, fixed(1)), cell(s.docsWrittenPerSec, int)];
      }),
    ) + failedNote(el.approaches.map((a) => [a, summary.eventLoop[a]])),
  );
  out.push(
    `\nThe app runs every ${el.tickMs} ms: ${meta.appRequestsPerTick} requests (parse a 2 KB JSON, change it, stringify, SHA-256; calibrated to ~${el.appWorkMs} ms) plus its share of writes (tryWrite, or push to the baseline's pending array). monitorEventLoopDelay (1 ms resolution) over ${el.durationMs / 1000} s after ${el.warmMs} ms of warm-up. "% of no-write app" is how much of its own work the app still got done.`,
  );

  const pm = plan.pausedMemory;
  out.push(`\n## Memory with the server paused (SIGSTOP) while ${pm.count.toLocaleString('en-US')} small documents are accepted (lower is better)\n`);
  out.push(
    table(
      ['approach', 'heap retained (MiB)', '× ours', 'RSS growth (MiB)', '× ours', 'peak RSS growth (MiB)', 'main-thread µs/doc to accept', '× ours', 'refused'],
      pm.approaches.map((a) => {
        const s = summary.pausedMemory[a];
        const r = summary.pausedMemory[REFERENCE];
        return [approachName(a, plan), cell(s.heapRetainedMiB, fixed(1)), ratio(s.heapRetainedMiB, r.heapRetainedMiB, 1), cell(s.rssGrowthMiB, fixed(1)), ratio(s.rssGrowthMiB, r.rssGrowthMiB), cell(s.peakRssGrowthMiB, fixed(1)), cell(s.cpuUsPerDoc, sig), ratio(s.cpuUsPerDoc, r.cpuUsPerDoc), cell(s.rejected, int)];
      }),
    ) + failedNote(pm.approaches.map((a) => [a, summary.pausedMemory[a]])),
  );
  out.push(
    `\nEach document is generated, handed over and dropped by the app (as a service does). Measured after a full GC, 300 ms after the last one, against the same process before the pause. Ours runs with queueBytes ${pm.queueBytes / 2 ** 20} MiB; the baselines keep pending arrays without bound. µs/doc includes generating the document (and, for writeRaw, encoding it: the app's cost of having BSON). A "—" ratio: ours keeps under 1 MiB on the heap, too little to divide by.`,
  );

  out.push(`\n## Scaling: ours, ${plan.scaling.n.toLocaleString('en-US')} ${plan.scaling.shape} documents per run\n`);
  out.push(
    table(
      ['config', 'docs/s', 'main-thread µs/doc', 'peak RSS growth (MiB)'],
      plan.scaling.configs.map((c) => {
        const s = summary.scaling[configKey(c)];
        return [configKey(c), cell(s.docsPerSec, int), cell(s.cpuUsPerDoc, sig), cell(s.peakRssGrowthMiB, fixed(1))];
      }),
    ) + failedNote(plan.scaling.configs.map((c) => [configKey(c), summary.scaling[configKey(c)]])),
  );
  out.push(`\ninflightPerWorker ${w.inflightPerWorker} throughout; the server shares the ${m.cores} cores with every worker.`);
  return out.join('\n') + '\n';
}
