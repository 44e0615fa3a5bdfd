#!/usr/bin/env node
// `pnpm bench [--quick]`: the benchmark suite. This parent process starts one server for the
// whole run, forks one child per measured run (child.mjs) so every run gets a clean process,
// interleaves the approaches run by run (A B C A B C ...) so machine drift hits them alike,
// checks every run's documents in the collection, then prints and saves the tables.
import { execFileSync, fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import cliProgress from 'cli-progress';
import { MongoClient } from 'mongodb';
import { startServer, typeProfileFor } from '@scope/testkit';
import { calibrateAppRequests, cpuSource } from './measure.mjs';
import { baselineBatchDocs, makePlan } from './plan.mjs';
import { collectMachine, renderMarkdown, summarizeRuns } from './report.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
// --only=throughput,scaling runs just those scenarios (for working on the suite; never saved as latest).
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const plan = makePlan(quick);
/** A run that takes longer than this has hung (a stopped server, a lost message). */
const RUN_TIMEOUT_MS = 5 * 60_000;

// ---- the list of runs, in the order they execute ------------------------------------------

/** Every measured run: scenario by scenario, then run by run, then approach by approach. */
function schedule() {
  const tasks = [];
  const { writer, runs } = plan;
  const base = (scenario, approach, run, extra = {}) => ({ scenario, approach, run, seed: 1000 + run, warm: plan.warm, ...extra });
  for (const [shape, n] of Object.entries(plan.throughput.shapes)) {
    for (let run = 1; run <= runs; run++) {
      for (const approach of plan.throughput.approaches) {
        tasks.push(base('throughput', approach, run, { shape, n, settings: { ...writer, baselineBatchDocs: baselineBatchDocs(shape, writer) } }));
      }
    }
  }
  for (let run = 1; run <= runs; run++) {
    for (const approach of plan.eventLoop.approaches) {
      tasks.push(base('eventLoop', approach, run, { shape: 'small', settings: { ...writer, baselineBatchDocs: writer.maxBatchDocs } }));
    }
  }
  for (let run = 1; run <= runs; run++) {
    for (const approach of plan.pausedMemory.approaches) {
      tasks.push(base('pausedMemory', approach, run, { shape: 'small', settings: { ...writer, queueBytes: plan.pausedMemory.queueBytes, baselineBatchDocs: writer.maxBatchDocs } }));
    }
  }
  for (let run = 1; run <= runs; run++) {
    for (const config of plan.scaling.configs) {
      const settings = { ...writer, ...config, baselineBatchDocs: config.maxBatchDocs };
      tasks.push(base('scaling', 'ours', run, { shape: plan.scaling.shape, n: plan.scaling.n, config, settings }));
    }
  }
  return tasks;
}

function label(task) {
  const what = task.scenario === 'scaling' ? `workers=${task.config.workers} maxBatchDocs=${task.config.maxBatchDocs}` : `${task.approach}${task.scenario === 'throughput' ? ` ${task.shape}` : ''}`;
  return `${task.scenario} ${what} run ${task.run}/${plan.runs}`;
}

// ---- running one child ---------------------------------------------------------------------

/** Forks child.mjs for `task`; resolves with its result or rejects with its error and stderr. */
function runChild(task, server) {
  return new Promise((resolve, reject) => {
    const child = fork(join(here, 'child.mjs'), [], { execArgv: ['--expose-gc'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    let result;
    let failure;
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    const timer = setTimeout(() => {
      failure = `timed out after ${RUN_TIMEOUT_MS / 1000} s`;
      child.kill('SIGKILL');
    }, RUN_TIMEOUT_MS);
    child.on('message', (m) => {
      if (m.type === 'result') result = m.result;
      else if (m.type === 'error') failure ??= m.message;
      else if (m.type === 'pause') {
        server.pause();
        child.send({ type: 'paused' });
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (!failure && code !== 0) failure = `child exited with ${signal ?? `code ${code}`}`;
      if (!failure && !result) failure = 'child exited without a result';
      if (failure) reject(new Error(`${failure}${stderr ? `\n--- child stderr ---\n${stderr}` : ''}`));
      else resolve(result);
    });
    child.send(task);
  });
}

/** The documents each run must have left in its collection. */
function expectedCount(task, result) {
  if (task.approach === 'floor' || task.approach === 'baseline') return 0;
  if (task.scenario === 'eventLoop') return result.docsTotal;
  return task.warm + task.n;
}

/**
 * The number of documents in the run's collection. collStats' count is exact on both servers
 * and answers in milliseconds; countDocuments scans, which takes seconds on FerretDB/SQLite,
 * so it only double-checks a count that looks wrong (or stands in where collStats is gone).
 */
async function countDocs(db) {
  const fast = await db.command({ collStats: 'docs' }).then((r) => r.count, () => undefined);
  return fast === undefined ? db.collection('docs').countDocuments({}) : fast;
}

// ---- main ----------------------------------------------------------------------------------

const started = new Date();
const loadBefore = loadavg();
const wallStart = performance.now();
const server = await startServer();
const admin = new MongoClient(server.uri);
const records = [];
let failures = 0;
try {
  await admin.connect();
  const machine = await collectMachine(admin, server);
  const profile = typeProfileFor(server.kind);
  const clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const appRequestsPerTick = calibrateAppRequests(plan.eventLoop.appWorkMs);
  let tasks = schedule();
  if (!server.controllable) tasks = tasks.filter((t) => t.scenario !== 'pausedMemory');
  if (only) tasks = tasks.filter((t) => only.includes(t.scenario));

  console.error(`batchwriter-threads benchmarks (${plan.mode}${quick ? `: ${plan.runs} runs per approach, fewer shapes` : ''}${only ? `, only ${only.join(', ')}` : ''}) on ${server.kind} ${machine.server.version}, ${machine.cores} cores, Node ${process.version}`);
  const bar = new cliProgress.SingleBar(
    {
      format: '{bar} {value}/{total} runs | {duration_formatted} elapsed, ~{eta_formatted} left | {label}',
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 10_000,
      etaBuffer: 40,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(tasks.length, 0, { label: 'starting' });

  let seq = 0;
  for (const task of tasks) {
    bar.update({ label: label(task) });
    seq++;
    // A name no real deployment uses: each run's database is dropped afterwards, and with
    // MONGODB_URI that is someone's server.
    const db = `batchwriter_bench_${process.pid}_${seq}`;
    const full = {
      ...task,
      profile,
      clkTck,
      settings: { ...task.settings, uri: server.uri, db, collection: 'docs' },
      eventLoop: { ...plan.eventLoop, appRequestsPerTick },
      paused: plan.pausedMemory,
    };
    const record = { scenario: task.scenario, approach: task.approach, shape: task.shape, config: task.config, run: task.run };
    const t = performance.now();
    try {
      record.result = await runChild(full, server);
      if (task.scenario === 'pausedMemory') {
        server.resume();
        // The stopped server still holds the batches sent before the pause: let it finish them.
        await sleep(300);
      }
      const tc = performance.now();
      const expected = expectedCount(task, record.result);
      if (expected > 0 && task.scenario !== 'pausedMemory') {
        record.count = await countDocs(admin.db(db));
        if (record.count !== expected) record.count = await admin.db(db).collection('docs').countDocuments({});
        if (record.count !== expected) throw new Error(`collection holds ${record.count} documents, expected ${expected}`);
      }
      record.checkMs = performance.now() - tc;
    } catch (err) {
      if (task.scenario === 'pausedMemory') server.resume();
      failures++;
      record.error = err.message;
      bar.stop();
      console.error(`\nFAILED ${label(task)}: ${err.message}\n`);
      bar.start(tasks.length, seq, { label: label(task) });
    }
    const td = performance.now();
    await admin.db(db).dropDatabase().catch(() => {});
    record.dropMs = performance.now() - td;
    record.wallSeconds = (performance.now() - t) / 1000;
    records.push(record);
    bar.increment();
  }
  bar.stop();

  const wallSeconds = (performance.now() - wallStart) / 1000;
  const meta = {
    mode: plan.mode,
    started: started.toISOString(),
    wallSeconds,
    command: quick ? 'pnpm bench --quick' : 'pnpm bench',
    machine,
    // Other work on the machine skews everything alike but adds noise: say how busy it was.
    loadAverage: { before: loadBefore, after: loadavg() },
    cpuSource,
    clkTck,
    appRequestsPerTick,
    failures,
  };
  const summary = summarizeRuns(records, plan);
  const markdown = renderMarkdown(meta, plan, summary);
  console.log(markdown);

  const dir = join(here, 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const json = JSON.stringify({ meta, plan, summary, runs: records }, null, 2);
  writeFileSync(join(dir, `${stamp}-${plan.mode}.json`), json);
  // latest.* are the full suite's (README quotes them); a quick run never overwrites them.
  if (!quick && !only && failures === 0) {
    writeFileSync(join(dir, 'latest.json'), json);
    writeFileSync(join(dir, 'latest.md'), markdown);
  }
  console.error(`results: benchmarks/results/${stamp}-${plan.mode}.json${!quick && !only && failures === 0 ? ', latest.json, latest.md' : ''}; wall time ${wallSeconds.toFixed(0)} s`);
} finally {
  await admin.close().catch(() => {});
  await server.stop();
}
if (failures > 0) {
  console.error(`${failures} run(s) failed`);
  process.exitCode = 1;
}
