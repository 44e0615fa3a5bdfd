// Builds the FerretDB launcher in scripts/ferretdb with the machine's Go, once per machine:
// the binary is cached outside the repo under a key made of the Go sources and go.sum.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const launcherSourceDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../scripts/ferretdb');

function cacheRoot(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'batchwriter-threads');
}

function sourceKey(): string {
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum', 'main.go']) {
    hash.update(file).update(readFileSync(join(launcherSourceDir, file)));
  }
  return hash.digest('hex').slice(0, 16);
}

export async function hasGo(): Promise<boolean> {
  try {
    await execFileAsync('go', ['version'], { env: goEnv() });
    return true;
  } catch {
    return false;
  }
}

function goEnv(): NodeJS.ProcessEnv {
  // GOTOOLCHAIN=local: never let the go command fetch another toolchain on its own.
  return { ...process.env, GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? 'local', CGO_ENABLED: '0' };
}

/** Path of the launcher binary, building it first when this machine has none for these sources. */
export async function ferretdbBinary(): Promise<string> {
  const dir = join(cacheRoot(), `ferretdb-${sourceKey()}`);
  const bin = join(dir, 'ferretdb');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  // Build to a private name, then rename: concurrent runs never see a half-written binary.
  const tmp = `${bin}.${process.pid}.tmp`;
  await execFileAsync('go', ['build', '-trimpath', '-o', tmp, '.'], {
    cwd: launcherSourceDir,
    env: goEnv(),
    maxBuffer: 16 * 1024 * 1024,
  });
  renameSync(tmp, bin);
  return bin;
}
