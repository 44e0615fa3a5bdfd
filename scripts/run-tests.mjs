#!/usr/bin/env node
// The test command: transpiles test/*.ts, starts one server for the whole run, runs each
// suite file in its own Node process (a crash in one cannot hide the others), stops the
// server and ends with the one line CI reads: `N passed, N failed[, N skipped]`.
import { spawn } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { startServer } from '@scope/testkit';

const FILE_TIMEOUT_MS = 15 * 60_000;
// One build folder per run: two runs at once (a developer and CI, say) never share files.
const outdir = join('test/.build', String(process.pid));
const filters = process.argv.slice(2);

const suites = readdirSync('test')
  .filter((f) => f.endsWith('.test.ts'))
  .filter((f) => filters.length === 0 || filters.some((part) => f.includes(part)))
  .sort();

rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: suites.map((f) => join('test', f)),
  outdir,
  bundle: true,
  packages: 'external',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'inline',
  logLevel: 'warning',
});

const server = await startServer();
console.log(`server: ${server.kind} ${server.kind === 'external' ? '(MONGODB_URI)' : server.uri}`);

let passed = 0;
let failed = 0;
let skipped = 0;

function runSuite(file) {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, ['--enable-source-maps', join(outdir, file.replace(/\.ts$/, '.js'))], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, MONGODB_URI: server.uri, TESTKIT_SERVER_KIND: server.kind, NO_COLOR: '1', FORCE_COLOR: '0' },
    });
    let out = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      out += chunk.toString();
    });
    const timer = setTimeout(() => {
      console.log(`\n${file}: still running after ${FILE_TIMEOUT_MS / 60_000} min, killed`);
      child.kill('SIGKILL');
    }, FILE_TIMEOUT_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // eslint-disable-next-line no-control-regex
      const text = out.replace(/\x1b\[[0-9;]*m/g, '');
      const total = Number(/Total:\s+(\d+)/.exec(text)?.[1] ?? NaN);
      const ok = Number(/Passed:\s+(\d+)/.exec(text)?.[1] ?? NaN);
      const skip = Number(/Skipped:\s+(\d+)/.exec(text)?.[1] ?? 0);
      if (Number.isNaN(total) || Number.isNaN(ok)) {
        console.log(`${file}: exited (code ${code}, signal ${signal}) without a uvu summary: counted as 1 failed`);
        failed += 1;
      } else {
        passed += ok;
        skipped += skip;
        failed += total - ok; // uvu's Total leaves skipped tests out
        if (total === ok && code !== 0) {
          console.log(`${file}: all tests passed but the process exited with code ${code}: counted as 1 failed`);
          failed += 1;
        }
      }
      resolveRun();
    });
  });
}

try {
  for (const file of suites) {
    console.log(`\n# ${file}`);
    await runSuite(file);
  }
} finally {
  await server.stop();
  rmSync(outdir, { recursive: true, force: true });
}

console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
