/**
 * Test support for `vouch serve`: the real binary as a child process on 127.0.0.1 and a port
 * picked by the test, with its own data dir, plus the real clients pointed at it — docker CLI
 * 28 (no engine, no DOCKER_CONTENT_TRUST_SERVER: docker must find the trust server at the
 * registry's address), the notary CLI, skopeo, `vouch` itself — and a raw https client that
 * trusts the server's generated CA.
 *
 * Example:
 *   const srv = await startServeProcess(dir);
 *   const docker = await dockerClient(srv, join(dir, 'home'));
 *   await docker.run(['login', srv.host, '-u', 'admin', '--password-stdin'], ADMIN_PASSWORD + '\n');
 *   await srv.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { runCommand, type RunResult } from '../support/exec.ts';
import { PASSPHRASE } from '../support/notary-cli.ts';
import { freePort, VOUCH_BIN } from '../support/servers.ts';

export const ADMIN_PASSWORD = 'admin-secret-for-tests';

export interface ServeProcess {
  readonly port: number;
  /** `127.0.0.1:<port>`: what docker, skopeo and notary call the registry. */
  readonly host: string;
  readonly url: string;
  readonly dataDir: string;
  readonly caFile: string;
  /** A directory holding only `ca.crt`, for skopeo's `--*-cert-dir`. */
  readonly certDir: string;
  /** stdout and stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/**
 * `vouch serve` on a free port; resolves once it printed its address. `dataDir` (default
 * `<dir>/data`) lets several instances share one data dir.
 */
export async function startServeProcess(dir: string, opts: { env?: Record<string, string>; args?: readonly string[]; dataDir?: string } = {}): Promise<ServeProcess> {
  const port = await freePort();
  const dataDir = opts.dataDir ?? join(dir, 'data');
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', VOUCH_BIN, 'serve', '--addr', `127.0.0.1:${port}`, '--data-dir', dataDir, ...(opts.args ?? [])], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, VOUCH_ADMIN_PASSWORD: ADMIN_PASSWORD, VOUCH_LOG_LEVEL: 'warn', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
  child.stderr.on('data', (b: Buffer) => (out += b.toString('utf8')));
  const exited = once(child, 'exit');
  const deadline = Date.now() + 30_000;
  while (!out.includes('vouch serve listening on')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`vouch serve did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const certDir = join(dir, 'certs');
  await mkdir(certDir, { recursive: true });
  const caFile = join(dataDir, 'tls', 'ca.crt');
  await copyFile(caFile, join(certDir, 'ca.crt'));
  return {
    port,
    host: `127.0.0.1:${port}`,
    url: `https://127.0.0.1:${port}`,
    dataDir,
    caFile,
    certDir,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      children.delete(child);
    },
  };
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  json<T = unknown>(): T;
}

/** One https request to the server, trusting its CA. */
export async function call(srv: ServeProcess, method: string, path: string, opts: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<HttpAnswer> {
  const ca = await readFile(srv.caFile);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: srv.port, method, path, ca, headers: { ...opts.headers, ...(opts.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(opts.body)) }) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: <T>() => JSON.parse(body) as T });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

export const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** A bearer token from the server's token service for `scope`, as `user`. */
export async function bearer(srv: ServeProcess, user: string, password: string, scope: string): Promise<string> {
  const r = await call(srv, 'GET', `/token?service=vouch&scope=${encodeURIComponent(scope)}`, { headers: { authorization: basic(user, password) } });
  if (r.status !== 200) throw new Error(`token for ${user}: ${r.status} ${r.body}`);
  return `Bearer ${r.json<{ token: string }>().token}`;
}

/** The error message of a registry envelope (`{"errors":[{message}]}`), '' when none. */
export function errorMessage(a: HttpAnswer): string {
  try {
    return a.json<{ errors: { message: string }[] }>().errors[0]?.message ?? '';
  } catch {
    return '';
  }
}

export interface Client {
  readonly home: string;
  readonly configDir: string;
  run(args: readonly string[], input?: string): Promise<RunResult>;
}

/**
 * The docker CLI with its own DOCKER_CONFIG, the server's CA where docker looks for it, the
 * trust passphrases set, no engine and no DOCKER_CONTENT_TRUST_SERVER.
 */
export async function dockerClient(srv: ServeProcess, home: string): Promise<Client> {
  const configDir = join(home, 'docker-config');
  await mkdir(join(configDir, 'tls', srv.host), { recursive: true });
  await copyFile(srv.caFile, join(configDir, 'tls', srv.host, 'ca.crt'));
  const env = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: home,
    TZ: 'UTC',
    DOCKER_CONFIG: configDir,
    DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE: PASSPHRASE,
    DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: PASSPHRASE,
    DOCKER_HOST: 'unix:///nonexistent/docker.sock',
  };
  return { home, configDir, run: (args, input) => runCommand('docker', args, { env, cwd: home, ...(input === undefined ? {} : { input }), timeoutMs: 60_000 }) };
}

/** The notary CLI on a trust dir (docker's, to share its keys), authenticating as `user`. */
export function notaryClient(srv: ServeProcess, home: string, trustDir: string, user: string, password: string): Client {
  const env = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: home,
    TZ: 'UTC',
    NOTARY_AUTH: Buffer.from(`${user}:${password}`).toString('base64'),
    NOTARY_ROOT_PASSPHRASE: PASSPHRASE,
    NOTARY_TARGETS_PASSPHRASE: PASSPHRASE,
    NOTARY_SNAPSHOT_PASSPHRASE: PASSPHRASE,
    NOTARY_DELEGATION_PASSPHRASE: PASSPHRASE,
  };
  return {
    home,
    configDir: trustDir,
    run: (args, input) => runCommand('notary', ['-s', srv.url, '--tlscacert', srv.caFile, '-d', trustDir, ...args], { env, cwd: home, ...(input === undefined ? {} : { input }), timeoutMs: 60_000 }),
  };
}

/** `vouch …` as a process, with `env` (HOME, DOCKER_CONFIG …) and nothing of the caller's. */
export function vouch(args: readonly string[], env: Record<string, string>, input?: string): Promise<RunResult> {
  return runCommand(process.execPath, ['--disable-warning=ExperimentalWarning', VOUCH_BIN, ...args], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
    ...(input === undefined ? {} : { input }),
    timeoutMs: 60_000,
  });
}
