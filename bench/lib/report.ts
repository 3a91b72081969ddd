/**
 * The shape of one trust-server benchmark run, the goals it is judged against, and the text
 * table printed at the end. The same `Results` object is written as JSON.
 *
 * A goal is PASS or FAIL only when both sides were measured cleanly. When vouch did not start
 * it is N/A; when vouch started but a measurement failed (an error, non-2xx responses) it is
 * FAIL; when the baseline (notary-server, nginx) could not be measured it is N/A, since there is
 * nothing to compare with.
 */
import type { Memory } from './processes.ts';
import type { WrkResult } from './wrk.ts';

export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export const TRUST_SERVERS = ['notary-server', 'vouch'] as const;
export type TrustServer = (typeof TRUST_SERVERS)[number];
export type Subject = TrustServer | 'nginx';
export type ReadRole = 'timestamp' | 'root' | 'targets';
export type CliOp = 'init' | 'add';

export interface Settings {
  readonly threads: number;
  readonly connections: number;
  readonly durationS: number;
  readonly warmupS: number;
  readonly targets: number;
  readonly cliRuns: number;
}

export interface ReadMeasurement extends WrkResult {
  /** Size of the body the URL returned when fetched once with the test CA. */
  readonly bodyBytes: number;
  /** Server CPU time (all its processes and threads) per request during the measured run, µs. */
  readonly serverCpuUsPerRequest?: number;
}

export interface CliLatency {
  readonly medianMs: number;
  readonly runsMs: readonly number[];
  /** Mean server CPU time per command (all its processes and threads), ms (/proc counts in 10 ms steps: a mean, not a median). */
  readonly serverCpuMeanMs?: number;
}

export interface Published {
  readonly ms: number;
  readonly targets: number;
  readonly targetsBytes: number;
}

export interface Results {
  readonly startedAt: string;
  finishedAt?: string;
  readonly settings: Settings;
  readonly environment: Record<string, string>;
  readonly servers: Record<Subject, { available: boolean; reason?: string; pid?: number; url?: string }>;
  readonly publish: Partial<Record<TrustServer, Outcome<Published>>>;
  readonly reads: Record<ReadRole, Partial<Record<Subject, Outcome<ReadMeasurement>>>>;
  readonly memory: Partial<Record<Subject, Outcome<Memory>>>;
  readonly cli: Record<CliOp, Partial<Record<TrustServer, Outcome<CliLatency>>>>;
  goals?: GoalResult[];
}

export type GoalStatus = 'PASS' | 'FAIL' | 'N/A';

export interface GoalResult {
  readonly goal: string;
  readonly vouch?: number;
  readonly baseline?: number;
  readonly baselineName: Subject;
  /** vouch ÷ baseline */
  readonly ratio?: number;
  /** `>=` or `<=` this ratio passes */
  readonly comparison: '>=' | '<=';
  readonly limit: number;
  readonly unit: string;
  readonly status: GoalStatus;
  readonly note?: string;
}

type Metric = { kind: 'value'; value: number } | { kind: 'missing'; reason: string };

function readMetric(o: Outcome<ReadMeasurement> | undefined): Metric {
  if (o === undefined) return { kind: 'missing', reason: 'not measured' };
  if (!o.ok) return { kind: 'missing', reason: o.reason };
  if (o.value.errors > 0) return { kind: 'missing', reason: `${o.value.errors} non-2xx responses or socket errors` };
  return { kind: 'value', value: o.value.requestsPerSec };
}

function valueMetric<T>(o: Outcome<T> | undefined, pick: (v: T) => number): Metric {
  if (o === undefined) return { kind: 'missing', reason: 'not measured' };
  if (!o.ok) return { kind: 'missing', reason: o.reason };
  return { kind: 'value', value: pick(o.value) };
}

interface GoalSpec {
  readonly goal: string;
  readonly unit: string;
  readonly baselineName: Subject;
  readonly comparison: '>=' | '<=';
  readonly limit: number;
  metric(r: Results, s: Subject): Metric;
}

/** The project's goals for the trust server (see the header of bench/trust-server.ts). */
export const GOALS: readonly GoalSpec[] = [
  { goal: 'timestamp.json GET req/s', unit: 'req/s', baselineName: 'notary-server', comparison: '>=', limit: 2, metric: (r, s) => readMetric(r.reads.timestamp[s]) },
  { goal: 'root.json GET req/s', unit: 'req/s', baselineName: 'notary-server', comparison: '>=', limit: 1, metric: (r, s) => readMetric(r.reads.root[s]) },
  { goal: 'targets.json GET req/s', unit: 'req/s', baselineName: 'nginx', comparison: '>=', limit: 0.9, metric: (r, s) => readMetric(r.reads.targets[s]) },
  { goal: 'notary init -p median', unit: 'ms', baselineName: 'notary-server', comparison: '<=', limit: 1, metric: (r, s) => (s === 'nginx' ? { kind: 'missing', reason: 'n/a' } : valueMetric(r.cli.init[s], (v) => v.medianMs)) },
  { goal: 'notary add -p median', unit: 'ms', baselineName: 'notary-server', comparison: '<=', limit: 1, metric: (r, s) => (s === 'nginx' ? { kind: 'missing', reason: 'n/a' } : valueMetric(r.cli.add[s], (v) => v.medianMs)) },
  { goal: 'VmRSS after reads', unit: 'KiB', baselineName: 'notary-server', comparison: '<=', limit: 2, metric: (r, s) => valueMetric(r.memory[s], (v) => v.rssKiB) },
  { goal: 'VmHWM (peak RSS)', unit: 'KiB', baselineName: 'notary-server', comparison: '<=', limit: 2, metric: (r, s) => valueMetric(r.memory[s], (v) => v.hwmKiB) },
];

export function evaluateGoals(r: Results): GoalResult[] {
  return GOALS.map((g) => {
    const common = { goal: g.goal, unit: g.unit, baselineName: g.baselineName, comparison: g.comparison, limit: g.limit };
    const base = g.metric(r, g.baselineName);
    const mine = g.metric(r, 'vouch');
    const baseline = base.kind === 'value' ? base.value : undefined;
    const vouch = mine.kind === 'value' ? mine.value : undefined;
    if (!r.servers.vouch.available) return { ...common, baseline, status: 'N/A', note: 'vouch server unavailable' };
    if (mine.kind === 'missing') return { ...common, baseline, status: 'FAIL', note: `vouch: ${mine.reason}` };
    if (base.kind === 'missing') return { ...common, vouch, status: 'N/A', note: `${g.baselineName}: ${base.reason}` };
    const ratio = mine.value / base.value;
    const pass = g.comparison === '>=' ? ratio >= g.limit : ratio <= g.limit;
    return { ...common, vouch, baseline, ratio, status: pass ? 'PASS' : 'FAIL' };
  });
}

// ---------------------------------------------------------------------------------------------
// text output

const SUBJECTS: readonly Subject[] = ['notary-server', 'vouch', 'nginx'];

function fmt(n: number, digits: number): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function cell<T>(o: Outcome<T> | undefined, show: (v: T) => string): string {
  if (o === undefined) return '';
  return o.ok ? show(o.value) : 'error';
}

function table(rows: readonly (readonly string[])[], rightAligned: (col: number) => boolean): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((row) => row.map((c, i) => (rightAligned(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('   ').trimEnd())
    .join('\n');
}

/** The first line of a reason, plus the first error-looking line of any process output it quotes. */
function shortReason(reason: string): string {
  const [first = '', ...rest] = reason.split('\n');
  const cause = rest.map((l) => l.trim()).find((l) => /error|fatal|panic|cannot|failed/i.test(l));
  const text = cause === undefined ? first : `${first} ${cause}`;
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

export function renderReport(r: Results): string {
  const s = r.settings;
  const rows: string[][] = [['', ...SUBJECTS]];
  const readRow = (label: string, role: ReadRole): void => {
    const rps = SUBJECTS.map((x) => cell(r.reads[role][x], (v) => (v.errors > 0 ? `${fmt(v.requestsPerSec, 0)} (${v.errors} err)` : fmt(v.requestsPerSec, 0))));
    rows.push([label, ...rps]);
    rows.push(['  latency p50 / p99 (ms)', ...SUBJECTS.map((x) => cell(r.reads[role][x], (v) => `${fmt(v.latencyMs.p50, 2)} / ${fmt(v.latencyMs.p99, 2)}`))]);
    rows.push(['  server CPU per request (µs)', ...SUBJECTS.map((x) => cell(r.reads[role][x], (v) => (v.serverCpuUsPerRequest === undefined ? '' : fmt(v.serverCpuUsPerRequest, 0))))]);
  };
  const cliCpu = (op: CliOp): string[] => SUBJECTS.map((x) => (x === 'nginx' ? '' : cell(r.cli[op][x], (v) => (v.serverCpuMeanMs === undefined ? '' : fmt(v.serverCpuMeanMs, 1)))));
  rows.push([`publish ${s.targets} targets, 1 run (ms)`, ...SUBJECTS.map((x) => (x === 'nginx' ? '' : cell(r.publish[x], (v) => fmt(v.ms, 0))))]);
  rows.push([`targets.json size (bytes)`, ...SUBJECTS.map((x) => cell(r.reads.targets[x], (v) => fmt(v.bodyBytes, 0)))]);
  readRow(`timestamp.json GET (req/s)`, 'timestamp');
  readRow(`root.json GET (req/s)`, 'root');
  readRow(`targets.json GET (req/s)`, 'targets');
  rows.push([`notary init -p, median of ${s.cliRuns} (ms)`, ...SUBJECTS.map((x) => (x === 'nginx' ? '' : cell(r.cli.init[x], (v) => fmt(v.medianMs, 1))))]);
  rows.push(['  server CPU, mean (ms)', ...cliCpu('init')]);
  rows.push([`notary add -p, median of ${s.cliRuns} (ms)`, ...SUBJECTS.map((x) => (x === 'nginx' ? '' : cell(r.cli.add[x], (v) => fmt(v.medianMs, 1))))]);
  rows.push(['  server CPU, mean (ms)', ...cliCpu('add')]);
  rows.push(['VmRSS after reads (MiB)', ...SUBJECTS.map((x) => cell(r.memory[x], (v) => fmt(v.rssKiB / 1024, 1) + (v.processes > 1 ? ` (${v.processes} procs)` : '')))]);
  rows.push(['VmHWM (MiB)', ...SUBJECTS.map((x) => cell(r.memory[x], (v) => fmt(v.hwmKiB / 1024, 1)))]);

  const goalRows: string[][] = [['goal', 'vouch', 'baseline', 'ratio', 'needed', 'result']];
  for (const g of r.goals ?? []) {
    const show = (n: number | undefined): string => (n === undefined ? '–' : g.unit === 'KiB' ? `${fmt(n / 1024, 1)} MiB` : g.unit === 'ms' ? `${fmt(n, 1)} ms` : fmt(n, 0));
    goalRows.push([
      `${g.goal} (vs ${g.baselineName})`,
      show(g.vouch),
      show(g.baseline),
      g.ratio === undefined ? '–' : `${fmt(g.ratio, 2)}×`,
      `${g.comparison} ${fmt(g.limit, g.limit % 1 === 0 ? 0 : 1)}×`,
      g.note === undefined ? g.status : `${g.status}  (${shortReason(g.note)})`,
    ]);
  }

  const notes: string[] = [];
  const load = Number((r.environment['loadavg'] ?? '').split(' ')[0]);
  const cpus = Number(r.environment['cpus']);
  if (load > cpus * 0.5) notes.push(`the machine was busy when the run started (load ${load} on ${cpus} CPUs): ratios are noisy, rerun on a quiet machine`);
  for (const x of SUBJECTS) {
    const sv = r.servers[x];
    if (!sv.available) notes.push(`${x} unavailable: ${shortReason(sv.reason ?? 'unknown')}`);
  }
  const errs = (label: string, o: Outcome<unknown> | undefined): void => {
    if (o !== undefined && !o.ok) notes.push(`${label}: ${shortReason(o.reason)}`);
  };
  for (const x of SUBJECTS) {
    if (!r.servers[x].available) continue;
    if (x !== 'nginx') errs(`${x} publish`, r.publish[x]);
    for (const role of ['timestamp', 'root', 'targets'] as const) errs(`${x} ${role}.json`, r.reads[role][x]);
    errs(`${x} memory`, r.memory[x]);
    if (x !== 'nginx') for (const op of ['init', 'add'] as const) errs(`${x} ${op} -p`, r.cli[op][x]);
  }

  const header = `wrk -t${s.threads} -c${s.connections} -d${s.durationS}s (after a ${s.warmupS}s warm-up), TLS, memory backend; ${Object.entries(r.environment).map(([k, v]) => `${k} ${v}`).join(', ')}`;
  return [
    header,
    '',
    table(rows, (i) => i > 0),
    '',
    table(goalRows, (i) => i > 0 && i < 5),
    ...(notes.length > 0 ? ['', ...notes] : []),
  ].join('\n');
}
