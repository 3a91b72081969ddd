/**
 * Publishes per second on PostgreSQL: notary-server vs one `vouch server` vs two `vouch server`
 * instances sharing one database. One run, absolute numbers and ratios.
 *
 * Each subject gets a fresh PostgreSQL database (test/storage/databases.ts; notary-server's gets
 * notary's table layout from vouch's PostgreSQL store, since notary-server does not create its
 * own tables), the same TLS material (test/support/pki.ts) and the same client: the real notary
 * CLI, 16 concurrent publishers over 100 GUNs. Publisher i owns the GUNs g ≡ i (mod 16) and its
 * own trust dir, so publishers never race for a GUN; with two vouch instances, publisher i talks
 * to instance i mod 2. Setup runs `notary init -p` on every GUN; then, for a fixed duration,
 * every publisher loops over its GUNs running `notary addhash -p` (stage one target and publish:
 * fetch, sign targets+snapshot, POST). A publish counts when the CLI exits 0.
 *
 * The client is a process per publish, so its own cost is part of every number; the ratios
 * compare servers under the same client load. The machine's CPU count is recorded with the
 * results, since client and servers share it.
 *
 * Run from the repository root: `npm run bench:publish` (Node 24). Knobs (environment):
 * BENCH_DURATION (s, default 20), BENCH_CLIENTS (16), BENCH_GUNS (100), BENCH_KEEP (0).
 * Results are printed and written to bench/results/publish-pg-<date>.json.
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PostgresMetaStore } from '../src/storage/index.ts';
import { freshPostgres, type FreshDatabase } from '../test/storage/databases.ts';
import { NotaryCli } from '../test/support/notary-cli.ts';
import { makePki, type Pki } from '../test/support/pki.ts';
import { REPO_ROOT, startServer, type ServerHandle, type TargetName } from '../test/support/servers.ts';
import { installCleanup, onExit } from './lib/processes.ts';

type SubjectName = 'notary-server' | 'vouch x1' | 'vouch x2';

interface Measurement {
  readonly instances: number;
  readonly publishes: number;
  readonly failures: number;
  readonly seconds: number;
  readonly publishesPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly setupSeconds: number;
  readonly firstFailure?: string;
}

function envInt(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new RangeError(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

const settings = {
  durationS: envInt('BENCH_DURATION', 20, 1),
  clients: envInt('BENCH_CLIENTS', 16, 1),
  guns: envInt('BENCH_GUNS', 100, 1),
};
const PASSPHRASE = 'vouch-bench-passphrase';

function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
}

function gunName(g: number): string {
  return `bench/publish-pg/g${String(g).padStart(3, '0')}`;
}

async function startSubject(name: SubjectName, dir: string, pki: Pki, db: FreshDatabase): Promise<ServerHandle[]> {
  const target: TargetName = name === 'notary-server' ? 'notary' : 'vouch-memory';
  const instances = name === 'vouch x2' ? 2 : 1;
  const extraConfig = {
    storage: { backend: 'postgres', db_url: db.url },
    ...(target === 'notary' ? {} : { trust_service: { key_passphrase: PASSPHRASE } }),
  };
  const handles: ServerHandle[] = [];
  for (let i = 0; i < instances; i++) {
    const d = join(dir, `${name.replace(/\W+/g, '-')}-${i}`);
    await mkdir(d, { recursive: true });
    handles.push(await startServer(target, { pki, dir: d, extraConfig, startTimeoutMs: 60_000 }));
  }
  return handles;
}

async function measure(name: SubjectName, dir: string, pki: Pki): Promise<Measurement> {
  const db = await freshPostgres();
  onExit(() => void db.drop().catch(() => undefined));
  const handles: ServerHandle[] = [];
  try {
    // notary-server needs its tables to exist; vouch's store creates them in notary's layout.
    await (await PostgresMetaStore.open(db.url)).close();
    handles.push(...(await startSubject(name, dir, pki, db)));
    const clients = Array.from({ length: settings.clients }, (_, i) => {
      const home = join(dir, `${name.replace(/\W+/g, '-')}-client-${i}`);
      const server = handles[i % handles.length] as ServerHandle;
      return new NotaryCli({ url: server.url, caFile: pki.caFile, home, passphrase: PASSPHRASE });
    });
    const gunsOf = (i: number): string[] => Array.from({ length: settings.guns }, (_, g) => g).filter((g) => g % settings.clients === i).map(gunName);

    const t0 = performance.now();
    await Promise.all(
      clients.map(async (cli, i) => {
        for (const gun of gunsOf(i)) {
          const r = await cli.run(['init', '-p', gun], { timeoutMs: 120_000 });
          if (r.code !== 0) throw new Error(`${name}: notary init -p ${gun} exited ${r.code}: ${(r.stderr || r.stdout).trim()}`);
        }
      }),
    );
    const setupSeconds = (performance.now() - t0) / 1000;
    log(`${name}: ${settings.guns} GUNs initialised in ${setupSeconds.toFixed(1)} s; publishing for ${settings.durationS} s`);

    const latencies: number[] = [];
    let failures = 0;
    let firstFailure: string | undefined;
    let n = 0;
    const start = performance.now();
    const deadline = start + settings.durationS * 1000;
    await Promise.all(
      clients.map(async (cli, i) => {
        const guns = gunsOf(i);
        for (let k = 0; guns.length > 0 && performance.now() < deadline; k++) {
          const gun = guns[k % guns.length] as string;
          const id = n++;
          const digest = createHash('sha256').update(`publish-pg-${name}-${id}`).digest('hex');
          const began = performance.now();
          const r = await cli.run(['addhash', '-p', gun, `t${id}`, String(1000 + id), '--sha256', digest], { timeoutMs: 120_000 });
          if (r.code === 0) latencies.push(performance.now() - began);
          else {
            failures++;
            firstFailure ??= (r.stderr || r.stdout).trim().slice(0, 500);
          }
        }
      }),
    );
    // Every publish started before the deadline is counted, over the time until the last one ended.
    const seconds = (performance.now() - start) / 1000;
    const m: Measurement = {
      instances: handles.length,
      publishes: latencies.length,
      failures,
      seconds,
      publishesPerSec: latencies.length / seconds,
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      setupSeconds,
      ...(firstFailure === undefined ? {} : { firstFailure }),
    };
    log(`${name}: ${m.publishes} publishes in ${seconds.toFixed(1)} s = ${m.publishesPerSec.toFixed(1)}/s (p50 ${m.p50Ms.toFixed(0)} ms, p99 ${m.p99Ms.toFixed(0)} ms, ${failures} failed)`);
    if (firstFailure !== undefined) log(`${name}: first failure: ${firstFailure.split('\n')[0]}`);
    return m;
  } finally {
    await Promise.all(handles.map((h) => h.stop()));
    await db.drop().catch(() => undefined);
  }
}

function ratio(a: Measurement | undefined, b: Measurement | undefined): number | null {
  if (a === undefined || b === undefined || b.publishesPerSec === 0) return null;
  return a.publishesPerSec / b.publishesPerSec;
}

async function main(): Promise<void> {
  installCleanup();
  const startedAt = new Date();
  const dir = await mkdtemp(join(tmpdir(), 'vouch-bench-publish-'));
  if (process.env['BENCH_KEEP'] === '1') log(`keeping ${dir}`);
  else onExit(() => rmSync(dir, { recursive: true, force: true }));
  const pkiDir = join(dir, 'pki');
  await mkdir(pkiDir);
  const pki = await makePki(pkiDir);

  const results: Partial<Record<SubjectName, Measurement>> = {};
  const errors: Partial<Record<SubjectName, string>> = {};
  for (const name of ['notary-server', 'vouch x1', 'vouch x2'] as const) {
    try {
      results[name] = await measure(name, dir, pki);
    } catch (err) {
      errors[name] = err instanceof Error ? err.message : String(err);
      log(`${name} failed: ${errors[name].split('\n')[0]}`);
    }
  }
  const ratios = {
    'vouch x1 / notary-server': ratio(results['vouch x1'], results['notary-server']),
    'vouch x2 / vouch x1': ratio(results['vouch x2'], results['vouch x1']),
    'vouch x2 / notary-server': ratio(results['vouch x2'], results['notary-server']),
  };

  const lines = [`publishes/s, PostgreSQL, ${settings.clients} notary CLI publishers over ${settings.guns} GUNs, ${settings.durationS} s, ${availableParallelism()} CPUs`];
  for (const name of ['notary-server', 'vouch x1', 'vouch x2'] as const) {
    const m = results[name];
    lines.push(m === undefined ? `  ${name.padEnd(14)} N/A (${(errors[name] ?? '').split('\n')[0]})` : `  ${name.padEnd(14)} ${m.publishesPerSec.toFixed(1).padStart(7)}/s  p50 ${m.p50Ms.toFixed(0)} ms  p99 ${m.p99Ms.toFixed(0)} ms  ${m.failures} failed`);
  }
  for (const [k, v] of Object.entries(ratios)) lines.push(`  ${k.padEnd(26)} ${v === null ? 'N/A' : `${v.toFixed(2)}×`}`);
  process.stdout.write(`${lines.join('\n')}\n`);

  const loadavg = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  const out = { startedAt: startedAt.toISOString(), settings, environment: { cpus: availableParallelism(), loadavg, node: process.version }, results, errors, ratios };
  const file = join(REPO_ROOT, 'bench', 'results', `publish-pg-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  await mkdir(join(REPO_ROOT, 'bench', 'results'), { recursive: true });
  await writeFile(file, `${JSON.stringify(out, null, 2)}\n`);
  log(`wrote ${file}`);
}

await main();
