// Starts the real MongoDB-compatible server that tests and benchmarks run against, and
// gives the fault controls (kill -9, SIGSTOP/SIGCONT, restart on the same port and data).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ferretdbBinary, hasGo } from './ferretdbBinary.js';

export type ServerKind = 'external' | 'ferretdb' | 'memory-server';

export interface TestServer {
  uri: string;
  kind: ServerKind;
  /** Process id of the server we started (undefined for an external one, or while it is down). */
  pid: number | undefined;
  /** Whether kill/pause/resume/restart work (not for an external `MONGODB_URI`). */
  controllable: boolean;
  stop(): Promise<void>;
  kill(): Promise<void>;
  pause(): void;
  resume(): void;
  restart(): Promise<void>;
}

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Whatever way the run ends, no server it started outlives it.
  const killAll = (): void => {
    for (const child of liveChildren) {
      try {
        child.kill('SIGCONT');
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAll();
      process.kill(process.pid, sig);
    });
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`ferretdb exited before listening (code ${child.exitCode}, signal ${child.signalCode})`);
    }
    const ok = await new Promise<boolean>((res) => {
      const sock = connect({ port, host: '127.0.0.1' });
      sock.once('connect', () => {
        sock.destroy();
        res(true);
      });
      sock.once('error', () => res(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`ferretdb did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((res) => {
    const timer = setTimeout(() => res(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      res(true);
    });
  });
}

async function startFerretdb(): Promise<TestServer> {
  const bin = await ferretdbBinary();
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'bwt-ferretdb-'));
  let child: ChildProcess | undefined;
  let stderrTail = '';

  const launch = async (): Promise<void> => {
    const proc = spawn(bin, ['--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--exit-with-parent'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString()).slice(-4000);
    });
    // The server must never keep a test process alive: the exit hook kills it instead.
    proc.unref();
    (proc.stderr as unknown as { unref?: () => void } | null)?.unref?.();
    liveChildren.add(proc);
    proc.once('exit', () => liveChildren.delete(proc));
    child = proc;
    try {
      await waitForPort(port, 20_000, proc);
    } catch (err) {
      proc.kill('SIGKILL');
      throw new Error(`${(err as Error).message}\n${stderrTail}`);
    }
  };

  const kill = async (): Promise<void> => {
    if (!child) return;
    const proc = child;
    child = undefined;
    proc.kill('SIGCONT');
    proc.kill('SIGKILL');
    await waitForExit(proc, 5000);
  };

  installExitHook();
  await launch();

  return {
    uri: `mongodb://127.0.0.1:${port}/`,
    kind: 'ferretdb',
    get pid() {
      return child?.pid;
    },
    controllable: true,
    async stop() {
      if (child) {
        const proc = child;
        child = undefined;
        proc.kill('SIGCONT');
        proc.kill('SIGTERM');
        if (!(await waitForExit(proc, 5000))) {
          proc.kill('SIGKILL');
          await waitForExit(proc, 5000);
        }
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
    kill,
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async restart() {
      await kill();
      await launch();
    },
  };
}

async function startMemoryServer(): Promise<TestServer> {
  // Loaded only when chosen: it downloads a mongod on first use, which these machines cannot.
  const { MongoMemoryServer } = await import('mongodb-memory-server');
  const server = await MongoMemoryServer.create({ instance: { ip: '127.0.0.1' } });
  const proc = (): ChildProcess | undefined => server.instanceInfo?.instance.mongodProcess ?? undefined;
  const trackedPid = (): number | undefined => proc()?.pid;
  return {
    uri: server.getUri(),
    kind: 'memory-server',
    get pid() {
      return trackedPid();
    },
    controllable: true,
    async stop() {
      await server.stop({ doCleanup: true, force: true });
    },
    async kill() {
      const p = proc();
      p?.kill('SIGKILL');
      if (p) await waitForExit(p, 5000);
    },
    pause() {
      proc()?.kill('SIGSTOP');
    },
    resume() {
      proc()?.kill('SIGCONT');
    },
    async restart() {
      await server.stop({ doCleanup: false, force: true });
      await server.start(true);
    },
  };
}

function external(uri: string): TestServer {
  const unsupported = (): never => {
    throw new Error('this server came from MONGODB_URI: the testkit cannot kill, pause or restart it');
  };
  return {
    uri,
    kind: 'external',
    pid: undefined,
    controllable: false,
    async stop() {},
    kill: async () => unsupported(),
    pause: unsupported,
    resume: unsupported,
    restart: async () => unsupported(),
  };
}

export interface StartServerOptions {
  /** Ignore `MONGODB_URI` and start a server of our own (fault tests need one they control). */
  own?: boolean;
}

/**
 * `MONGODB_URI` when set, else FerretDB built with the machine's Go, else
 * mongodb-memory-server. `TESTKIT_SERVER=ferretdb|memory-server` forces the choice.
 */
export async function startServer(options: StartServerOptions = {}): Promise<TestServer> {
  const forced = process.env.TESTKIT_SERVER;
  if (forced === 'ferretdb') return startFerretdb();
  if (forced === 'memory-server') return startMemoryServer();
  if (forced) throw new Error(`TESTKIT_SERVER must be ferretdb or memory-server, got ${forced}`);
  if (process.env.MONGODB_URI && !options.own) return external(process.env.MONGODB_URI);
  if (await hasGo()) return startFerretdb();
  return startMemoryServer();
}
