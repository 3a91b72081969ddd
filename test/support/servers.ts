/**
 * Start trust servers for end-to-end tests: the real `notary-server` (the reference) and
 * `vouch server` (the system under test) with the same config shape (spec §5.5, peers.md).
 *
 * Every server listens on 127.0.0.1 on a port picked here, serves TLS with a throwaway CA, and
 * is killed when the test process exits even if a test forgot to stop it. Output (stdout and
 * stderr) is kept for diagnostics: `handle.output()`.
 *
 * Targets are chosen with `VOUCH_E2E_TARGETS` (comma list of `notary`, `vouch-memory`,
 * `vouch-sqlite`; default all three).
 *
 * Example:
 *   const srv = await startServer('vouch-sqlite', { pki });
 *   try { ... srv.url ... } finally { await srv.stop(); }
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Pki } from './pki.ts';

export type TargetName = 'notary' | 'vouch-memory' | 'vouch-sqlite';
export const ALL_TARGETS: readonly TargetName[] = ['notary', 'vouch-memory', 'vouch-sqlite'];

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The installed command (package.json "bin"): the launcher, as users run vouch. */
export const VOUCH_BIN = join(REPO_ROOT, 'bin', 'vouch.js');

/** Targets selected by VOUCH_E2E_TARGETS (default: all). */
export function selectedTargets(): TargetName[] {
  const raw = process.env['VOUCH_E2E_TARGETS'];
  if (raw === undefined || raw.trim() === '') return [...ALL_TARGETS];
  const names = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const n of names) {
    if (!(ALL_TARGETS as readonly string[]).includes(n)) {
      throw new Error(`VOUCH_E2E_TARGETS: unknown target ${JSON.stringify(n)} (known: ${ALL_TARGETS.join(', ')})`);
    }
  }
  return names as TargetName[];
}

/** The selected targets that are vouch servers. */
export function selectedVouchTargets(): TargetName[] {
  return selectedTargets().filter((t) => t !== 'notary');
}

export interface ServerOptions {
  readonly pki: Pki;
  /** Directory for the config file (and the sqlite db unless dbFile is given). */
  readonly dir: string;
  /** sqlite3 database file (vouch-sqlite only); default `<dir>/vouch.db`. */
  readonly dbFile?: string;
  /** Port to listen on; default: a free one. */
  readonly port?: number;
  /** Extra top-level config sections merged into the generated config (shallow per section). */
  readonly extraConfig?: Record<string, unknown>;
  /** Milliseconds to wait for the health endpoint. */
  readonly startTimeoutMs?: number;
}

export interface ServerHandle {
  readonly target: TargetName;
  /** `https://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly caFile: string;
  readonly configFile: string;
  /** sqlite3 db file, when the backend is sqlite3. */
  readonly dbFile: string | undefined;
  /** Everything the process printed so far (stdout and stderr interleaved, tail only). */
  output(): string;
  /** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
  stop(): Promise<void>;
  /** Send a signal and wait for the process to exit. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Start the same server again (same config, port and db), after it exited. */
  restart(): Promise<void>;
  readonly pid: number | undefined;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/**
 * If this test process dies without running its exit hook (SIGKILL, a runner tearing it down),
 * a tiny shell loop kills the server it leaves behind. The loop ends by itself as soon as either
 * process is gone, and only ever signals the server's own PID.
 */
function startWatchdog(serverPid: number): void {
  const script = `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${serverPid} 2>/dev/null; do sleep 1; done; kill -0 ${process.pid} 2>/dev/null || kill -9 ${serverPid} 2>/dev/null; exit 0`;
  const w = spawn('sh', ['-c', script], { stdio: 'ignore', detached: true });
  w.unref();
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const addr = srv.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  srv.close();
  await once(srv, 'close');
  return port;
}

function buildConfig(target: TargetName, port: number, opts: ServerOptions, dbFile: string | undefined): Record<string, unknown> {
  const storage: Record<string, unknown> =
    target === 'vouch-sqlite' ? { backend: 'sqlite3', db_url: dbFile } : { backend: 'memory' };
  const config: Record<string, unknown> = {
    server: { http_addr: `127.0.0.1:${port}`, tls_key_file: opts.pki.keyFile, tls_cert_file: opts.pki.certFile },
    trust_service: { type: 'local', key_algorithm: 'ecdsa' },
    logging: { level: 'warn' },
    storage,
  };
  for (const [k, v] of Object.entries(opts.extraConfig ?? {})) {
    const cur = config[k];
    if (typeof cur === 'object' && cur !== null && typeof v === 'object' && v !== null && !Array.isArray(v)) {
      config[k] = { ...(cur as Record<string, unknown>), ...(v as Record<string, unknown>) };
    } else {
      config[k] = v;
    }
  }
  return config;
}

function commandFor(target: TargetName, configFile: string): { cmd: string; args: string[] } {
  if (target === 'notary') return { cmd: 'notary-server', args: ['-config', configFile] };
  return { cmd: process.execPath, args: ['--disable-warning=ExperimentalWarning', VOUCH_BIN, 'server', '--config', configFile] };
}

/** GET /_notary_server/health once; resolves to the status code or rejects on a connection error. */
function healthOnce(port: number, ca: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/_notary_server/health', method: 'GET', ca, timeout: 2000, servername: 'localhost' },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const OUTPUT_TAIL = 200_000;

export async function startServer(target: TargetName, opts: ServerOptions): Promise<ServerHandle> {
  const port = opts.port ?? (await freePort());
  const dbFile = target === 'vouch-sqlite' ? (opts.dbFile ?? join(opts.dir, 'vouch.db')) : undefined;
  const configFile = join(opts.dir, `${target}-server.json`);
  await writeFile(configFile, JSON.stringify(buildConfig(target, port, opts, dbFile), null, 2));
  const ca = readFileSync(opts.pki.caFile);
  const { cmd, args } = commandFor(target, configFile);

  let out = '';
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let exitInfo: string | undefined;

  const append = (chunk: Buffer): void => {
    out += chunk.toString('utf8');
    if (out.length > OUTPUT_TAIL) out = out.slice(out.length - OUTPUT_TAIL);
  };

  const launch = async (): Promise<void> => {
    exitInfo = undefined;
    const c = spawn(cmd, args, {
      cwd: opts.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TZ: 'UTC' },
    });
    child = c;
    live.add(c);
    if (c.pid !== undefined) startWatchdog(c.pid);
    c.stdout?.on('data', append);
    c.stderr?.on('data', append);
    exited = new Promise<void>((resolve) => {
      c.on('exit', (code, signal) => {
        exitInfo = `exited with code ${code} signal ${signal}`;
        live.delete(c);
        resolve();
      });
      c.on('error', (err) => {
        exitInfo = `failed to start: ${err.message}`;
        live.delete(c);
        resolve();
      });
    });
    const deadline = Date.now() + (opts.startTimeoutMs ?? 20_000);
    for (;;) {
      if (exitInfo !== undefined) {
        throw new Error(`${target} server ${exitInfo} before becoming healthy.\n--- output ---\n${out}`);
      }
      try {
        const status = await healthOnce(port, ca);
        if (status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        c.kill('SIGKILL');
        await exited;
        throw new Error(`${target} server did not become healthy on port ${port}.\n--- output ---\n${out}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const kill = async (signal: NodeJS.Signals): Promise<void> => {
    if (child === undefined || exitInfo !== undefined) return;
    child.kill(signal);
    await exited;
  };

  await launch();

  return {
    target,
    url: `https://127.0.0.1:${port}`,
    port,
    caFile: opts.pki.caFile,
    configFile,
    dbFile,
    output: () => out,
    get pid() {
      return child?.pid;
    },
    kill,
    async stop() {
      if (child === undefined || exitInfo !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
    async restart() {
      if (exitInfo === undefined) throw new Error('restart: server is still running');
      await launch();
    },
  };
}
