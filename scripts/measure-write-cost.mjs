#!/usr/bin/env node
// Quick check of the main thread's cost per ~300 B document: BSON.serialize alone (the
// floor) against tryWrite() and awaited write(), 5 runs of 200,000 documents each, CPU of
// the main thread only (utime+stime of /proc/self/task/<pid>/stat, 10 ms ticks).
// Run after `pnpm build`: node scripts/measure-write-cost.mjs
import { readFileSync } from 'node:fs';
import { BSON } from 'mongodb';
import { BatchWriter } from '@scope/batchwriter-threads';
import { generateDocs, startServer } from '@scope/testkit';

const N = 200_000;
const RUNS = 5;
const mainThreadCpuMs = () => {
  const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
};
const nsPerDoc = (startMs) => ((mainThreadCpuMs() - startMs) * 1e6) / N;

const server = await startServer();
const results = { 'BSON.serialize (floor)': [], 'tryWrite()': [], 'tryWrite() + flush (batching, results)': [], 'await write()': [] };
try {
  for (let run = 0; run < RUNS; run++) {
    let docs = generateDocs('small', N, run);
    let start = mainThreadCpuMs();
    for (const d of docs) BSON.serialize(d);
    results['BSON.serialize (floor)'].push(nsPerDoc(start));

    const writer = await BatchWriter.create({ uri: server.uri, db: 'write_cost', collection: `run${run}`, queueBytes: 256 * 1024 * 1024, maxBatchDocs: 5000 });
    docs = generateDocs('small', N, run);
    start = mainThreadCpuMs();
    for (const d of docs) if (!writer.tryWrite(d)) throw new Error('ring full: raise queueBytes');
    results['tryWrite()'].push(nsPerDoc(start));
    await writer.flush();
    results['tryWrite() + flush (batching, results)'].push(nsPerDoc(start));

    docs = generateDocs('small', N, run);
    start = mainThreadCpuMs();
    for (const d of docs) await writer.write(d);
    results['await write()'].push(nsPerDoc(start));
    await writer.close();
  }
} finally {
  await server.stop();
}

const median = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];
const floor = median(results['BSON.serialize (floor)']);
console.log('| path | median ns/doc (main-thread CPU) | runs | × floor |');
console.log('|---|---:|---|---:|');
for (const [name, values] of Object.entries(results)) {
  console.log(`| ${name} | ${median(values).toFixed(0)} | ${values.map((v) => v.toFixed(0)).join(' ')} | ${(median(values) / floor).toFixed(2)} |`);
}
