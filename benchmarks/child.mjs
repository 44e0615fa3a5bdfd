// One measured run: the parent (run.mjs) forks this file with --expose-gc, sends one task
// over IPC, and gets one result back. A fresh process per run keeps RSS, heap and the main
// thread's CPU counters free of every other run.
import { open } from './approaches.mjs';
import { eventLoop, pausedMemory, throughput } from './scenarios.mjs';

/** Sends a message and resolves once it has left this process. */
function send(message) {
  return new Promise((resolve, reject) => process.send(message, (err) => (err ? reject(err) : resolve())));
}

/** Asks the parent, which owns the server, to SIGSTOP it; resolves once it has. */
function pauseServer() {
  return new Promise((resolve) => {
    process.once('message', (m) => m?.type === 'paused' && resolve());
    void send({ type: 'pause' });
  });
}

// The parent is gone (Ctrl-C, a crash): nobody wants this run any more.
process.on('disconnect', () => process.exit(1));

process.once('message', async (task) => {
  let sink;
  try {
    // Where a run's wall time goes besides the measured part (ms since the process started).
    const phases = { ready: performance.now() };
    sink = task.approach === 'baseline' ? undefined : await open(task.approach, task.settings);
    phases.opened = performance.now();
    let result;
    if (task.scenario === 'throughput' || task.scenario === 'scaling') result = await throughput(task, sink);
    else if (task.scenario === 'eventLoop') result = await eventLoop(task, sink);
    else if (task.scenario === 'pausedMemory') result = await pausedMemory(task, sink, { pause: pauseServer });
    else throw new Error(`unknown scenario ${task.scenario}`);
    phases.measured = performance.now();
    // With the server stopped nothing can drain: leave without closing; the parent resumes it.
    if (task.scenario !== 'pausedMemory') await sink?.close();
    phases.closed = performance.now();
    await send({ type: 'result', result: { ...result, phases } });
    process.exit(0);
  } catch (err) {
    await send({ type: 'error', message: err?.stack ?? String(err) }).catch(() => {});
    process.exit(1);
  }
});
