/**
 * `vouch list` vs `notary list`: one run, absolute numbers, ratios, PASS/FAIL.
 *
 * Two repositories on the same trust server, built once by the real notary CLI (`notary init`,
 * the changes staged in its changelist — with vouch's changelist writer, byte-compatible with
 * notary's — then one `notary publish`):
 *   - `bench/client-flat`: 10,000 targets in `targets`;
 *   - `bench/client-deleg`: 50 delegations `targets/d00…d49` (one key each, all paths) of 20
 *     targets each, and no target in `targets` itself.
 * Both clients then list each repository with a cold cache: every run gets a fresh, empty trust
 * dir (no metadata, no keys; `list` needs none), so each run downloads and verifies root,
 * timestamp, snapshot, targets and every delegation. `list` with no `-r` walks `targets` and
 * every delegation below it for both tools (checked: both print all 1,000 delegated targets),
 * and their outputs must be byte-identical.
 *
 * Goal: vouch's median wall time ≤ notary's (ratio ≤ 1.00) on each repository. Each run's CPU
 * time (user + system, from GNU time when installed) is printed next to it: on a busy machine it
 * is steadier than wall time. The start-up cost of each binary (`--help`, median) is printed
 * too, since at these sizes it is a large part of a run.
 *
 * Servers: the real notary-server, and vouch server when it starts (memory storage, local trust
 * service, TLS with a throwaway CA, both from test/support/servers.ts). Runs alternate between
 * the tools so drift hits both alike; the first run of each pair is a warm-up and not counted.
 *
 * Run from the repository root: `npm run bench:client` (or `node bench/client-list.ts` with
 * Node 24). Everything listens on 127.0.0.1; every process started here is stopped at the end;
 * the temp dir is removed unless BENCH_KEEP=1. Results are printed and written to
 * bench/results/client-list-<date>.json.
 *
 * vouch runs as installed: `node bin/vouch.js …` (package.json "bin", the launcher that turns on
 * Node's compile cache before any TypeScript loads); `BENCH_VOUCH_BIN=src/bin/vouch.ts` measures
 * the bare entry module instead.
 *
 * Knobs (environment): BENCH_RUNS (11), BENCH_TARGETS (10000), BENCH_DELEGATIONS (50),
 * BENCH_DELEGATION_TARGETS (20), BENCH_SERVERS (`notary,vouch`), BENCH_KEEP (0),
 * BENCH_VOUCH_BIN (bin/vouch.js).
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { changelistDir, FileChangelist, targetAddChanges } from '../src/client/index.ts';
import { runCommand, type RunResult } from '../test/support/exec.ts';
import { NotaryCli, parseList } from '../test/support/notary-cli.ts';
import { makePki } from '../test/support/pki.ts';
import { REPO_ROOT, startServer, type ServerHandle, type TargetName } from '../test/support/servers.ts';
import { installCleanup, onExit, runProcess } from './lib/processes.ts';

const FLAT_GUN = 'bench/client-flat';
const DELEG_GUN = 'bench/client-deleg';

type Tool = 'notary' | 'vouch';
const TOOLS: readonly Tool[] = ['notary', 'vouch'];

interface Settings {
  readonly runs: number;
  readonly targets: number;
  readonly delegations: number;
  readonly delegationTargets: number;
  readonly servers: readonly TargetName[];
}

interface Timing {
  readonly medianMs: number;
  readonly runsMs: readonly number[];
  /** Median user+system CPU time of the process (from /usr/bin/time), when available. */
  readonly medianCpuMs?: number;
}

interface ListResult {
  readonly server: string;
  readonly repository: string;
  readonly rows: number;
  readonly notary: Timing;
  readonly vouch: Timing;
  /** vouch ÷ notary (medians) */
  readonly ratio: number;
  readonly status: 'PASS' | 'FAIL';
}

interface Results {
  readonly startedAt: string;
  finishedAt?: string;
  readonly settings: Settings;
  readonly environment: Record<string, string>;
  /** `notary publish` time of each repository, by `<server> <gun>`. */
  readonly build: Record<string, { readonly publishMs: number }>;
  readonly startup: Partial<Record<Tool, Timing>>;
  readonly lists: ListResult[];
  readonly unavailable: Record<string, string>;
}

function envInt(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new RangeError(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

function readSettings(): Settings {
  const servers = (process.env['BENCH_SERVERS'] ?? 'notary,vouch').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const known: Record<string, TargetName> = { notary: 'notary', vouch: 'vouch-memory' };
  return {
    runs: envInt('BENCH_RUNS', 11, 1),
    targets: envInt('BENCH_TARGETS', 10_000, 1),
    delegations: envInt('BENCH_DELEGATIONS', 50, 1),
    delegationTargets: envInt('BENCH_DELEGATION_TARGETS', 20, 1),
    servers: servers.map((s) => {
      const t = known[s];
      if (t === undefined) throw new RangeError(`BENCH_SERVERS: unknown server ${JSON.stringify(s)} (known: notary, vouch)`);
      return t;
    }),
  };
}

function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? Number.NaN) + (s[mid] ?? Number.NaN)) / 2;
}

function timing(runs: readonly number[], cpu: readonly number[] = []): Timing {
  const t = { medianMs: median(runs), runsMs: runs.map((v) => Math.round(v * 10) / 10) };
  return cpu.length === runs.length && cpu.length > 0 ? { ...t, medianCpuMs: median(cpu) } : t;
}

async function cliOk(cli: NotaryCli, ...args: string[]): Promise<RunResult> {
  const r = await cli.run(args, { timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`notary ${args.join(' ')} exited ${r.code}${r.timedOut ? ' (timed out)' : ''}: ${(r.stderr || r.stdout).trim()}`);
  return r;
}

/** A target of plausible size and a sha256 that depends only on its name. */
function fakeTarget(name: string): { name: string; length: number; hashes: Map<string, Uint8Array> } {
  const digest = createHash('sha256').update(`vouch-bench-${name}`).digest();
  return { name, length: 1000 + (digest.readUInt32BE(0) % 50_000_000), hashes: new Map([['sha256', new Uint8Array(digest)]]) };
}

/** Append `notary addhash`-equivalent changes to the GUN's changelist in `cli`'s trust dir. */
async function stageTargets(cli: NotaryCli, gun: string, names: readonly string[], role?: string): Promise<void> {
  const cl = new FileChangelist(changelistDir(cli.trustDir, gun));
  for (const name of names) for (const c of targetAddChanges(fakeTarget(name), role === undefined ? [] : [role])) await cl.add(c);
}

/** The flat repository: init, stage `count` targets, one publish. */
async function buildFlat(cli: NotaryCli, count: number): Promise<number> {
  await cliOk(cli, 'init', FLAT_GUN);
  await stageTargets(cli, FLAT_GUN, Array.from({ length: count }, (_, i) => `v1.${Math.floor(i / 100)}.${i % 100}-build${i}`));
  const t0 = performance.now();
  await cliOk(cli, 'publish', FLAT_GUN);
  return performance.now() - t0;
}

/** The delegated repository: init, `delegation add` × n with a key each, key import, stage targets, one publish. */
async function buildDelegated(cli: NotaryCli, dir: string, s: Settings): Promise<number> {
  await cliOk(cli, 'init', DELEG_GUN);
  const keyFiles: string[] = [];
  for (let d = 0; d < s.delegations; d++) {
    const role = `targets/d${String(d).padStart(2, '0')}`;
    const { privateKey, publicKey } = generateKeyPairSync('ec', {
      namedCurve: 'prime256v1',
      privateKeyEncoding: { type: 'sec1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const keyFile = join(dir, `d${d}.key`);
    const pubFile = join(dir, `d${d}.pub`);
    await writeFile(keyFile, privateKey, { mode: 0o600 });
    await writeFile(pubFile, publicKey);
    keyFiles.push(keyFile);
    await cliOk(cli, 'delegation', 'add', DELEG_GUN, role, pubFile, '--all-paths');
  }
  await cliOk(cli, 'key', 'import', ...keyFiles);
  for (let d = 0; d < s.delegations; d++) {
    const role = `targets/d${String(d).padStart(2, '0')}`;
    await stageTargets(cli, DELEG_GUN, Array.from({ length: s.delegationTargets }, (_, i) => `d${d}/app-${i}`), role);
  }
  const t0 = performance.now();
  await cliOk(cli, 'publish', DELEG_GUN);
  return performance.now() - t0;
}

function toolEnv(home: string): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, TZ: 'UTC' };
}

/** vouch as installed (package.json "bin": the launcher that turns the compile cache on first), or BENCH_VOUCH_BIN. */
const VOUCH_ENTRY = process.env['BENCH_VOUCH_BIN'] || join(REPO_ROOT, 'bin', 'vouch.js');

function toolCommand(tool: Tool, args: readonly string[]): [string, string[]] {
  return tool === 'notary' ? ['notary', [...args]] : [process.execPath, [VOUCH_ENTRY, ...args]];
}

/** GNU time, when installed, reports each run's CPU time (both tools go through it alike). */
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const TIME_LINE = /\nBENCH-CPU ([\d.]+) ([\d.]+)\n?$/;

/** One timed run of `<tool> args` from a fresh empty HOME and trust dir. */
async function timedRun(tool: Tool, args: (trustDir: string) => readonly string[], runDir: string): Promise<{ ms: number; cpuMs?: number; r: RunResult }> {
  await rm(runDir, { recursive: true, force: true });
  const trustDir = join(runDir, 'trust');
  await mkdir(trustDir, { recursive: true });
  const [cmd, argv] = toolCommand(tool, args(trustDir));
  const [bin, binArgs] = GNU_TIME === undefined ? [cmd, argv] : [GNU_TIME, ['-f', '\nBENCH-CPU %U %S', cmd, ...argv]];
  const t0 = performance.now();
  const raw = await runCommand(bin, binArgs, { env: toolEnv(runDir), cwd: runDir, timeoutMs: 300_000 });
  const ms = performance.now() - t0;
  await rm(runDir, { recursive: true, force: true });
  const m = TIME_LINE.exec(raw.stderr);
  if (m === null) return { ms, r: raw };
  const r = { ...raw, stderr: raw.stderr.slice(0, m.index) };
  return { ms, cpuMs: (Number(m[1]) + Number(m[2])) * 1000, r };
}

function describeRun(tool: Tool, r: RunResult): string {
  return `${tool} exited ${r.code}${r.timedOut ? ' (timed out)' : ''}: ${(r.stdout + r.stderr).trim().slice(0, 2000)}`;
}

/** `runs` + 1 alternating pairs of `list gun` (the first pair is a warm-up); outputs must agree. */
async function measureList(server: ServerHandle, gun: string, expectRows: number, s: Settings, dir: string): Promise<Omit<ListResult, 'server' | 'repository'>> {
  const acc: Record<Tool, number[]> = { notary: [], vouch: [] };
  const cpu: Record<Tool, number[]> = { notary: [], vouch: [] };
  let reference: string | undefined;
  for (let i = 0; i <= s.runs; i++) {
    const order = i % 2 === 0 ? TOOLS : [...TOOLS].reverse();
    for (const tool of order) {
      const { ms, cpuMs, r } = await timedRun(tool, (trustDir) => ['-s', server.url, '--tlscacert', server.caFile, '-d', trustDir, 'list', gun], join(dir, `${tool}-run`));
      if (r.code !== 0) throw new Error(`${tool} list ${gun}: ${describeRun(tool, r)}`);
      const rows = parseList(r.stdout).length;
      if (rows !== expectRows) throw new Error(`${tool} list ${gun} printed ${rows} targets, expected ${expectRows}`);
      if (reference === undefined) reference = r.stdout;
      else if (r.stdout !== reference) throw new Error(`${tool} list ${gun}: output differs from the other tool's`);
      if (i > 0) {
        acc[tool].push(ms);
        if (cpuMs !== undefined) cpu[tool].push(cpuMs);
      }
    }
  }
  const notary = timing(acc.notary, cpu.notary);
  const vouch = timing(acc.vouch, cpu.vouch);
  const ratio = vouch.medianMs / notary.medianMs;
  return { rows: expectRows, notary, vouch, ratio, status: ratio <= 1 ? 'PASS' : 'FAIL' };
}

/** Median start-up time of `<tool> --help` (no network, no trust dir). */
async function measureStartup(s: Settings, dir: string): Promise<Partial<Record<Tool, Timing>>> {
  const acc: Record<Tool, number[]> = { notary: [], vouch: [] };
  const cpu: Record<Tool, number[]> = { notary: [], vouch: [] };
  for (let i = 0; i <= s.runs; i++) {
    for (const tool of i % 2 === 0 ? TOOLS : [...TOOLS].reverse()) {
      const { ms, cpuMs, r } = await timedRun(tool, () => ['--help'], join(dir, `${tool}-help`));
      if (r.code !== 0) throw new Error(`${tool} --help: ${describeRun(tool, r)}`);
      if (i > 0) {
        acc[tool].push(ms);
        if (cpuMs !== undefined) cpu[tool].push(cpuMs);
      }
    }
  }
  return { notary: timing(acc.notary, cpu.notary), vouch: timing(acc.vouch, cpu.vouch) };
}

async function versions(): Promise<Record<string, string>> {
  const env: Record<string, string> = { cpus: String(availableParallelism()), loadavg: (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' '), node: process.version, vouch: VOUCH_ENTRY };
  const r = await runProcess('dpkg-query', ['-W', '-f', '${Package} ${Version}\\n', 'notary'], { timeoutMs: 10_000 }).catch(() => undefined);
  for (const line of (r?.stdout ?? '').split('\n')) {
    const [pkg, ver] = line.split(' ');
    if (pkg !== undefined && ver !== undefined && ver !== '') env[pkg] = ver;
  }
  return env;
}

function render(r: Results): string {
  const ms = (t: Timing): string => t.medianMs.toFixed(1);
  const cpu = (t: Timing): string => (t.medianCpuMs === undefined ? '-' : t.medianCpuMs.toFixed(0));
  const lines = [
    `vouch list vs notary list, cold cache, median of ${r.settings.runs} runs, ${r.environment['cpus']} CPUs, load ${r.environment['loadavg']}`,
    '',
    `${'server'.padEnd(15)}${'repository'.padEnd(24)}${'notary ms'.padStart(11)}${'vouch ms'.padStart(10)}${'ratio'.padStart(7)}  goal         ${'CPU ms notary'.padStart(14)}${'vouch'.padStart(7)}`,
  ];
  for (const l of r.lists) {
    lines.push(
      `${l.server.padEnd(15)}${l.repository.padEnd(24)}${ms(l.notary).padStart(11)}${ms(l.vouch).padStart(10)}${l.ratio.toFixed(2).padStart(7)}  ≤ 1.00 ${l.status}  ${cpu(l.notary).padStart(14)}${cpu(l.vouch).padStart(7)}`,
    );
  }
  const n = r.startup.notary;
  const v = r.startup.vouch;
  if (n !== undefined && v !== undefined) {
    lines.push('', `start-up (--help): notary ${ms(n)} ms (CPU ${cpu(n)}), vouch ${ms(v)} ms (CPU ${cpu(v)}), ratio ${(v.medianMs / n.medianMs).toFixed(2)}`);
  }
  for (const [name, reason] of Object.entries(r.unavailable)) lines.push(`${name}: unavailable (${reason.split('\n')[0]})`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  installCleanup();
  const settings = readSettings();
  const startedAt = new Date();
  const dir = await mkdtemp(join(tmpdir(), 'vouch-bench-client-'));
  if (process.env['BENCH_KEEP'] === '1') log(`keeping ${dir}`);
  else onExit(() => rmSync(dir, { recursive: true, force: true }));
  const results: Results = { startedAt: startedAt.toISOString(), settings, environment: await versions(), build: {}, startup: {}, lists: [], unavailable: {} };

  await mkdir(join(dir, 'pki'));
  const pki = await makePki(join(dir, 'pki'));
  const handles: ServerHandle[] = [];
  try {
    for (const target of settings.servers) {
      const sdir = join(dir, target);
      await mkdir(sdir, { recursive: true });
      let server: ServerHandle;
      try {
        log(`starting ${target} (memory, local trust service, TLS)`);
        server = await startServer(target, { pki, dir: sdir, startTimeoutMs: 30_000 });
      } catch (e) {
        if (target === 'notary') throw e;
        results.unavailable[target] = e instanceof Error ? e.message : String(e);
        log(`${target} unavailable`);
        continue;
      }
      handles.push(server);
      const owner = new NotaryCli({ url: server.url, caFile: pki.caFile, home: join(sdir, 'owner') });
      log(`${target}: building ${FLAT_GUN} (${settings.targets} targets) with the notary CLI`);
      const flatMs = await buildFlat(owner, settings.targets);
      log(`${target}: building ${DELEG_GUN} (${settings.delegations} delegations × ${settings.delegationTargets} targets) with the notary CLI`);
      const delegMs = await buildDelegated(owner, sdir, settings);
      results.build[`${target} ${FLAT_GUN}`] = { publishMs: flatMs };
      results.build[`${target} ${DELEG_GUN}`] = { publishMs: delegMs };

      const repos = [
        { gun: FLAT_GUN, label: `${settings.targets} targets`, rows: settings.targets },
        { gun: DELEG_GUN, label: `${settings.delegations} delegations × ${settings.delegationTargets}`, rows: settings.delegations * settings.delegationTargets },
      ];
      for (const repo of repos) {
        log(`${target}: list ${repo.gun}, ${settings.runs} cold runs per tool (+1 warm-up), alternating`);
        const m = await measureList(server, repo.gun, repo.rows, settings, sdir);
        results.lists.push({ server: target === 'notary' ? 'notary-server' : 'vouch server', repository: repo.label, ...m });
        log(`  notary ${m.notary.medianMs.toFixed(1)} ms, vouch ${m.vouch.medianMs.toFixed(1)} ms, ratio ${m.ratio.toFixed(2)}`);
      }
    }
    log(`start-up: --help, ${settings.runs} runs per tool`);
    Object.assign(results.startup, await measureStartup(settings, dir));
  } finally {
    log('stopping servers');
    for (const h of handles) await h.stop();
  }

  results.finishedAt = new Date().toISOString();
  process.stdout.write(`\n${render(results)}\n`);
  const outDir = join(REPO_ROOT, 'bench', 'results');
  await mkdir(outDir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const outFile = join(outDir, `client-list-${stamp}.json`);
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
