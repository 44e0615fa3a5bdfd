#!/usr/bin/env node
// Builds one workspace package with esbuild: each `src/name.ts` argument becomes
// `dist/name.js` (ESM); `--cjs src/name.ts` adds `dist/name.cjs`. Dependencies stay
// external, so the output runs against the package's own node_modules.
import { build } from 'esbuild';
import { basename } from 'node:path';

const esm = [];
const cjs = [];
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === '--cjs') cjs.push(process.argv[++i]);
  else esm.push(process.argv[i]);
}

// dist/ is overwritten in place, not wiped first: a suite or benchmark running while
// someone rebuilds keeps finding its worker file.
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
};

await build({ ...common, entryPoints: esm, outdir: 'dist', format: 'esm', outExtension: { '.js': '.js' } });
for (const entry of cjs) {
  await build({
    ...common,
    entryPoints: [entry],
    outfile: `dist/${basename(entry, '.ts')}.cjs`,
    format: 'cjs',
    // Lets `new URL('./x.js', import.meta.url)` find sibling files from the CJS build too.
    define: { 'import.meta.url': '__bwtImportMetaUrl' },
    banner: { js: "const __bwtImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  });
}
