/**
 * vouch server vs the real notary-server vs nginx: one run, absolute numbers, ratios, PASS/FAIL.
 *
 * Same client (the real notary CLI for writes, wrk for reads), same backend (memory), same TLS
 * (one throwaway CA and one server certificate for 127.0.0.1), same machine, one run:
 *   1. timestamp.json GET at 16 connections: vouch ≥ 2× notary-server's requests/s;
 *   2. root.json GET: vouch ≥ notary-server;
 *   3. targets.json of a 1,000-target repository: vouch ≥ 0.9× nginx serving notary-server's
 *      bytes of that file as a static file over the same TLS (nginx is the practical limit of an
 *      HTTPS server on the machine);
 *   4. `notary init -p` and `notary add -p` latency, median of N runs on fresh GUNs: vouch ≤
 *      notary-server;
 *   5. VmRSS and VmHWM of each server process (and its children) after the read test: vouch ≤
 *      2× notary-server.
 * Beside requests/s and latencies, each server's CPU time per request (reads) and per command
 * (init, add) is printed: on a shared machine it varies much less than the wall-clock figures, so
 * it tells whether a change of a ratio came from the server or from the machine.
 *
 * Both trust servers are started by test/support/servers.ts from the same generated config
 * (memory storage, local trust service, TLS; only the port differs) and run side by side; reads
 * are measured one URL at a time, each after a short warm-up, and the CLI runs alternate between
 * the servers so drift hits both alike. When `vouch server` does not start, everything else still
 * runs and vouch's goals are reported N/A.
 *
 * Run from the repository root: `npm run bench:server` (or `node bench/trust-server.ts` with
 * Node 24). Everything listens on 127.0.0.1; every process started here is stopped at the end
 * (also on Ctrl-C); the temp dir is removed unless BENCH_KEEP=1. The results are printed and
 * written to bench/results/trust-server-<date>.json.
 *
 * Knobs (environment): BENCH_DURATION (s, default 10), BENCH_WARMUP (s, 2), BENCH_CONNECTIONS
 * (16), BENCH_THREADS (2), BENCH_TARGETS (1000), BENCH_CLI_RUNS (21), BENCH_KEEP (0).
 */
import { createHash } from 'node:crypto';
import { availableParallelism, tmpdir } from 'node:os';
import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { getMeta, httpRequest } from '../test/support/http.ts';
import { NotaryCli } from '../test/support/notary-cli.ts';
import { makePki, type Pki } from '../test/support/pki.ts';
import { freePort, REPO_ROOT, startServer, type ServerHandle } from '../test/support/servers.ts';
import { startNginx, type NginxHandle } from './lib/nginx.ts';
import { installCleanup, onExit, runProcess, treeCpuMs, treeMemory } from './lib/processes.ts';
import { evaluateGoals, renderReport, type CliLatency, type Outcome, type Published, type ReadMeasurement, type ReadRole, type Results, type Settings, type Subject, type TrustServer } from './lib/report.ts';
import { runWrk } from './lib/wrk.ts';

const GUN = 'bench/trust-server';

function envInt(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new RangeError(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

function readSettings(): Settings {
  return {
    threads: envInt('BENCH_THREADS', 2, 1),
    connections: envInt('BENCH_CONNECTIONS', 16, 1),
    durationS: envInt('BENCH_DURATION', 10, 1),
    warmupS: envInt('BENCH_WARMUP', 2, 0),
    targets: envInt('BENCH_TARGETS', 1000, 1),
    cliRuns: envInt('BENCH_CLI_RUNS', 21, 1),
  };
}

function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

function reasonOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function attempt<T>(what: string, fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    log(`${what} failed: ${reasonOf(e).split('\n')[0]}`);
    return { ok: false, reason: reasonOf(e) };
  }
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? Number.NaN) + (s[mid] ?? Number.NaN)) / 2;
}

async function cliOk(cli: NotaryCli, ...args: string[]): Promise<void> {
  const r = await cli.run(args, { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`notary ${args.join(' ')} exited ${r.code}${r.timedOut ? ' (timed out)' : ''}: ${(r.stderr || r.stdout).trim()}`);
}

/** Run fn over items with at most `limit` in flight. */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function targetsIn(bytes: Buffer): number {
  const doc = JSON.parse(bytes.toString('utf8')) as { signed?: { targets?: Record<string, unknown> } };
  return Object.keys(doc.signed?.targets ?? {}).length;
}

/** `notary init -p`, stage `count` targets with `notary addhash` (no -p), then one `notary publish`. */
async function buildLargeRepo(cli: NotaryCli, server: ServerHandle, count: number): Promise<Published> {
  await cliOk(cli, 'init', '-p', GUN);
  const indexes = Array.from({ length: count }, (_, i) => i + 1);
  await eachLimited(indexes, 2, async (i) => {
    const digest = createHash('sha256').update(`vouch-bench-target-${i}`).digest('hex');
    const size = 1000 + ((i * 7919) % 50_000_000);
    await cliOk(cli, 'addhash', GUN, `v1.${Math.floor(i / 100)}.${i % 100}-build${i}`, String(size), '--sha256', digest);
  });
  const ms = await timed(() => cliOk(cli, 'publish', GUN));
  const r = await getMeta(server, GUN, 'targets');
  if (r.status !== 200) throw new Error(`GET targets.json after publish: HTTP ${r.status}`);
  const targets = targetsIn(r.body);
  if (targets !== count) throw new Error(`targets.json after publish lists ${targets} targets, expected ${count}`);
  return { ms, targets, targetsBytes: r.body.length };
}

interface ReadTarget {
  readonly subject: Subject;
  readonly url: string;
  readonly caFile: string;
  /** The bytes this URL must return, when known in advance. */
  readonly expect?: Buffer;
  /** The server's pid, for its CPU time. */
  readonly pid?: number;
}

async function measureRead(t: ReadTarget, path: string, s: Settings): Promise<ReadMeasurement> {
  const r = await httpRequest({ url: t.url, caFile: t.caFile }, { path });
  if (r.status !== 200) throw new Error(`GET ${path}: HTTP ${r.status} ${r.text().slice(0, 200)}`);
  if (t.expect !== undefined && !r.body.equals(t.expect)) throw new Error(`GET ${path}: body differs from the bytes written to the docroot`);
  const url = `${t.url}${path}`;
  const opts = { threads: s.threads, connections: s.connections };
  if (s.warmupS > 0) await runWrk(url, { ...opts, durationS: s.warmupS });
  const cpu0 = t.pid === undefined ? undefined : treeCpuMs(t.pid);
  const w = await runWrk(url, { ...opts, durationS: s.durationS });
  const cpuUs = cpu0 === undefined || t.pid === undefined || w.requests === 0 ? undefined : ((treeCpuMs(t.pid) - cpu0) * 1000) / w.requests;
  log(`  ${t.subject.padEnd(13)} ${w.requestsPerSec.toFixed(0).padStart(7)} req/s  p99 ${w.latencyMs.p99.toFixed(2)} ms${cpuUs === undefined ? '' : `  ${cpuUs.toFixed(0)} µs CPU/req`}${w.errors > 0 ? `  ${w.errors} errors` : ''}`);
  return { ...w, bodyBytes: r.body.length, ...(cpuUs === undefined ? {} : { serverCpuUsPerRequest: cpuUs }) };
}

async function versions(): Promise<Record<string, string>> {
  const env: Record<string, string> = { cpus: String(availableParallelism()), loadavg: (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' '), node: process.version };
  const r = await runProcess('dpkg-query', ['-W', '-f', '${Package} ${Version}\\n', 'notary', 'nginx-light', 'wrk'], { timeoutMs: 10_000 }).catch(() => undefined);
  for (const line of (r?.stdout ?? '').split('\n')) {
    const [pkg, ver] = line.split(' ');
    if (pkg !== undefined && ver !== undefined && ver !== '') env[pkg] = ver;
  }
  return env;
}

interface TrustSubject {
  readonly name: TrustServer;
  readonly server: ServerHandle;
  readonly cli: NotaryCli;
  repoReady: boolean;
}

async function main(): Promise<void> {
  installCleanup();
  const settings = readSettings();
  const startedAt = new Date();
  const dir = await mkdtemp(join(tmpdir(), 'vouch-bench-'));
  if (process.env['BENCH_KEEP'] === '1') log(`keeping ${dir}`);
  else onExit(() => rmSync(dir, { recursive: true, force: true }));
  // nginx's workers run as `nobody` when we are root: let them traverse to the docroot.
  await chmod(dir, 0o711);

  const results: Results = {
    startedAt: startedAt.toISOString(),
    settings,
    environment: await versions(),
    servers: { 'notary-server': { available: false }, vouch: { available: false }, nginx: { available: false } },
    publish: {},
    reads: { timestamp: {}, root: {}, targets: {} },
    memory: {},
    cli: { init: {}, add: {} },
  };

  log('making the PKI');
  const pkiDir = join(dir, 'pki');
  await mkdir(pkiDir);
  const pki: Pki = await makePki(pkiDir);

  log('starting notary-server and vouch server (memory, local trust service, TLS)');
  const subjects: TrustSubject[] = [];
  const handles: ServerHandle[] = [];
  for (const [name, target] of [['notary-server', 'notary'], ['vouch', 'vouch-memory']] as const) {
    const sdir = join(dir, name);
    await mkdir(sdir);
    try {
      const server = await startServer(target, { pki, dir: sdir, startTimeoutMs: 30_000 });
      handles.push(server);
      results.servers[name] = { available: true, pid: server.pid, url: server.url };
      subjects.push({ name, server, repoReady: false, cli: new NotaryCli({ url: server.url, caFile: pki.caFile, home: join(sdir, 'client') }) });
    } catch (e) {
      results.servers[name] = { available: false, reason: reasonOf(e) };
      log(`${name} unavailable: ${reasonOf(e).split('\n')[0]}`);
    }
  }
  const notary = subjects.find((x) => x.name === 'notary-server');
  if (notary === undefined) throw new Error(`notary-server did not start: ${results.servers['notary-server'].reason}`);

  let nginx: NginxHandle | undefined;
  try {
    log(`creating a ${settings.targets}-target repository on each server with the notary CLI (addhash ×${settings.targets}, then one publish)`);
    await Promise.all(
      subjects.map(async (x) => {
        const o = await attempt(`${x.name}: building the repository`, () => buildLargeRepo(x.cli, x.server, settings.targets));
        results.publish[x.name] = o;
        x.repoReady = o.ok;
      }),
    );
    if (!notary.repoReady) throw new Error(`could not build the repository on notary-server: ${JSON.stringify(results.publish['notary-server'])}`);

    log('serving notary-server\'s targets.json from nginx');
    const targetsPath = `/v2/${GUN}/_trust/tuf/targets.json`;
    const targetsBytes = (await getMeta(notary.server, GUN, 'targets')).body;
    const docroot = join(dir, 'nginx', 'www');
    await mkdir(join(docroot, `v2/${GUN}/_trust/tuf`), { recursive: true });
    await writeFile(join(docroot, targetsPath), targetsBytes);
    try {
      nginx = await startNginx({ dir: join(dir, 'nginx'), docroot, certFile: pki.certFile, keyFile: pki.keyFile, caFile: pki.caFile, port: await freePort(), workers: 2 });
      results.servers.nginx = { available: true, pid: nginx.pid, url: nginx.url };
    } catch (e) {
      results.servers.nginx = { available: false, reason: reasonOf(e) };
      log(`nginx unavailable: ${reasonOf(e).split('\n')[0]}`);
    }

    const roles: readonly ReadRole[] = ['timestamp', 'root', 'targets'];
    for (const role of roles) {
      log(`GET ${role}.json: wrk -t${settings.threads} -c${settings.connections} -d${settings.durationS}s`);
      const path = `/v2/${GUN}/_trust/tuf/${role}.json`;
      const readers: ReadTarget[] = subjects.map((x) => ({ subject: x.name, url: x.server.url, caFile: pki.caFile, ...(x.server.pid === undefined ? {} : { pid: x.server.pid }) }));
      if (role === 'targets' && nginx !== undefined) readers.push({ subject: 'nginx', url: nginx.url, caFile: pki.caFile, expect: targetsBytes, pid: nginx.pid });
      for (const t of readers) {
        const sub = subjects.find((x) => x.name === t.subject);
        if (sub !== undefined && !sub.repoReady) {
          results.reads[role][t.subject] = { ok: false, reason: 'no repository (publish failed)' };
          continue;
        }
        results.reads[role][t.subject] = await attempt(`${t.subject} ${role}.json`, () => measureRead(t, path, settings));
      }
    }

    log('reading VmRSS/VmHWM');
    for (const x of subjects) {
      const pid = x.server.pid;
      results.memory[x.name] = await attempt(`${x.name} memory`, async () => {
        if (pid === undefined) throw new Error('no pid');
        return treeMemory(pid);
      });
    }
    if (nginx !== undefined) {
      const pid = nginx.pid;
      results.memory.nginx = await attempt('nginx memory', async () => treeMemory(pid));
    }

    log(`notary init -p / add -p, ${settings.cliRuns} runs each on fresh GUNs (plus one warm-up), alternating servers`);
    const payload = join(dir, 'payload.txt');
    await writeFile(payload, 'vouch benchmark payload\n');
    const runs = new Map<TrustSubject, { init: number[]; add: number[]; initCpu: number[]; addCpu: number[]; error?: string }>(
      subjects.map((x) => [x, { init: [], add: [], initCpu: [], addCpu: [] }]),
    );
    const cpuNow = (x: TrustSubject): number => (x.server.pid === undefined ? Number.NaN : treeCpuMs(x.server.pid));
    for (let i = 0; i <= settings.cliRuns; i++) {
      const order = i % 2 === 0 ? subjects : [...subjects].reverse();
      for (const x of order) {
        const acc = runs.get(x);
        if (acc === undefined || acc.error !== undefined) continue;
        const gun = `bench/cli-${i}`;
        try {
          const c0 = cpuNow(x);
          const init = await timed(() => cliOk(x.cli, 'init', '-p', gun));
          const c1 = cpuNow(x);
          const add = await timed(() => cliOk(x.cli, 'add', '-p', gun, 'latest', payload));
          const c2 = cpuNow(x);
          if (i > 0) {
            acc.init.push(init);
            acc.add.push(add);
            acc.initCpu.push(c1 - c0);
            acc.addCpu.push(c2 - c1);
          }
        } catch (e) {
          acc.error = reasonOf(e);
          log(`${x.name} CLI run failed: ${acc.error.split('\n')[0]}`);
        }
      }
    }
    for (const [x, acc] of runs) {
      for (const op of ['init', 'add'] as const) {
        const cpuRuns = op === 'init' ? acc.initCpu : acc.addCpu;
        const cpu = cpuRuns.reduce((a, b) => a + b, 0) / cpuRuns.length;
        const o: Outcome<CliLatency> =
          acc.error !== undefined
            ? { ok: false, reason: acc.error }
            : { ok: true, value: { medianMs: median(acc[op]), runsMs: acc[op].map((v) => Math.round(v * 10) / 10), ...(Number.isNaN(cpu) ? {} : { serverCpuMeanMs: cpu }) } };
        results.cli[op][x.name] = o;
      }
    }
  } finally {
    log('stopping servers');
    await nginx?.stop();
    for (const h of handles) await h.stop();
  }

  results.finishedAt = new Date().toISOString();
  results.goals = evaluateGoals(results);
  process.stdout.write(`\n${renderReport(results)}\n`);

  const outDir = join(REPO_ROOT, 'bench', 'results');
  await mkdir(outDir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const outFile = join(outDir, `trust-server-${stamp}.json`);
  await writeFile(outFile, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\nwritten: ${outFile} (${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s)\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`[bench] failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
