/**
 * `vouch gc`: garbage-collect the registry storage of a `vouch serve` data dir, keeping what a
 * tag or a signature still needs.
 *
 *   vouch gc [--data-dir DIR] [--db URL] [--dry-run] [--grace DURATION] [--output json]
 *
 * The data dir and the database are found as `vouch serve` finds them (flag, then
 * `VOUCH_DATA_DIR` / `VOUCH_DB_URL`, then `./vouch-data` and its SQLite `vouch.db`). First the
 * trust data is read: every manifest digest the current `targets` or a delegation of a GUN signs
 * (gc-signed.ts) is kept by (repository, digest), tagged or not. Then src/registry/gc.ts marks
 * from the tags, those signed digests and everything younger than the grace period, and sweeps
 * unreferenced manifests, blobs and stale upload sessions. Reading the trust data first means a
 * tag that moves during the run leaves its signed digest kept.
 *
 * Safe beside a running `vouch serve` on the same data dir: the grace period (default 1h) keeps
 * the blobs and manifests of pushes in flight, and the trust database is only read (SQLite in WAL
 * mode lets a reader run beside the server; opening it checks its schema, as the server's start
 * does, and finds nothing to change).
 *
 * Output: one line per manifest and blob deleted (or that would be, with `--dry-run`, which
 * deletes nothing), then a summary; `--output json` prints one object instead. On a terminal,
 * standard error shows a line per repository as it is marked; otherwise nothing.
 *
 * Example:
 *   vouch gc --data-dir /var/lib/vouch --dry-run
 *   vouch gc --grace 10m --output json
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError } from '../errors/index.ts';
import { DEFAULT_GC_GRACE_MS, gc, type GcReport } from '../registry/gc.ts';
import { parseServeDatabase, SERVE_DEFAULTS, type ServeDatabase } from '../serve/config.ts';
import { MysqlMetaStore, PostgresMetaStore, SqliteMetaStore, type MetaStore } from '../storage/index.ts';
import { signedManifests, type SignedManifests } from './gc-signed.ts';

/** The flags as commander hands them over. */
export interface GcFlags {
  dataDir?: string;
  db?: string;
  dryRun?: boolean;
  grace?: string;
  output?: string;
}

export interface GcSettings {
  readonly dataDir: string;
  readonly database: ServeDatabase;
  readonly dryRun: boolean;
  readonly graceMs: number;
  readonly output: 'text' | 'json';
}

export interface GcCommandDeps {
  /** Default: process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly stdout?: { write(text: string): unknown };
  /** Progress goes here when it is a terminal. */
  readonly stderr?: { write(text: string): unknown; readonly isTTY?: boolean };
}

/** What a run found and did (or would do). */
export interface GcResult {
  readonly dryRun: boolean;
  readonly report: GcReport;
  /** What the trust data signs: GUNs with targets, (repository, digest) pairs. */
  readonly signed: { readonly guns: number; readonly manifests: number };
}

const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d)/y;

/**
 * A duration as Go writes them (`0s`, `90s`, `30m`, `1h30m`, `500ms`), plus `d` for days; a bare
 * `0` is zero. Returns milliseconds.
 * @throws ConfigError for anything else (a sign, a number without unit, an unknown unit)
 */
export function parseDuration(text: string): number {
  const t = text.trim();
  if (t === '0') return 0;
  let ms = 0;
  let pos = 0;
  while (t !== '' && pos < t.length) {
    DURATION_PART.lastIndex = pos;
    const m = DURATION_PART.exec(t);
    if (m === null) break;
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    pos = DURATION_PART.lastIndex;
  }
  if (t === '' || pos < t.length || !Number.isFinite(ms)) {
    throw new ConfigError(`not a duration: ${JSON.stringify(text)} (for example 0s, 30m, 1h, 1h30m or 7d)`);
  }
  return ms;
}

/**
 * Flags, then environment, then `vouch serve`'s defaults; every problem reported together.
 * @throws ConfigError
 */
export function resolveGcSettings(flags: GcFlags, env: Readonly<Record<string, string | undefined>>): GcSettings {
  const errors: string[] = [];
  const pick = (flag: string | undefined, name: string, dflt: string): string => flag ?? (env[name] !== undefined && env[name] !== '' ? env[name] : dflt);
  let graceMs = DEFAULT_GC_GRACE_MS;
  if (flags.grace !== undefined) {
    try {
      graceMs = parseDuration(flags.grace);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      errors.push(`--grace: ${err.message}`);
    }
  }
  const output = flags.output ?? 'text';
  if (output !== 'text' && output !== 'json') errors.push(`--output: "json" (or "text", the default), got ${JSON.stringify(output)}`);
  let database: ServeDatabase = { backend: 'sqlite3' };
  try {
    database = parseServeDatabase(pick(flags.db, 'VOUCH_DB_URL', '').trim(), env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    errors.push(`--db: ${err.message.replace(/^storage\.db_url: /, '')}`);
  }
  if (errors.length > 0) throw new ConfigError(`vouch gc:\n  - ${errors.join('\n  - ')}`);
  return {
    dataDir: resolve(pick(flags.dataDir, 'VOUCH_DATA_DIR', SERVE_DEFAULTS.dataDir)),
    database,
    dryRun: flags.dryRun === true,
    graceMs,
    output: output as 'text' | 'json',
  };
}

/**
 * `vouch gc`: read what the trust data signs, collect, print.
 * @throws ConfigError when the data dir or its database is missing or a setting is wrong;
 *   DeserializationError when trust metadata or a manifest to keep cannot be read (nothing is
 *   deleted then); StorageError when the database cannot be read
 */
export async function runGc(flags: GcFlags, deps: GcCommandDeps = {}): Promise<GcResult> {
  const s = resolveGcSettings(flags, deps.env ?? process.env);
  const registryDir = join(s.dataDir, 'registry');
  if (!(await isDirectory(s.dataDir))) throw new ConfigError(`vouch gc: no data dir ${s.dataDir} (give the one vouch serve uses: --data-dir or VOUCH_DATA_DIR)`);
  if (!(await isDirectory(registryDir))) throw new ConfigError(`vouch gc: ${s.dataDir} has no registry/ directory; is it the data dir of vouch serve?`);

  const store = await openTrustStore(s);
  let signed: SignedManifests;
  try {
    signed = await signedManifests(store);
  } finally {
    await store.close();
  }

  const stderr = deps.stderr ?? process.stderr;
  const report = await gc(registryDir, {
    keep: (repo, digest) => signed.has(repo, digest),
    gracePeriodMs: s.graceMs,
    dryRun: s.dryRun,
    ...(stderr.isTTY === true ? { onRepository: (repo: string, i: number, n: number) => void stderr.write(`marking ${repo} (${i + 1}/${n})\n`) } : {}),
  });
  const result: GcResult = { dryRun: s.dryRun, report, signed: { guns: signed.guns, manifests: signed.size } };
  const stdout = deps.stdout ?? process.stdout;
  if (s.output === 'json') stdout.write(`${JSON.stringify(gcJson(result), null, 2)}\n`);
  else for (const line of gcLines(result)) stdout.write(`${line}\n`);
  return result;
}

/** The trust service's store, opened for reading; a SQLite file must exist already. */
async function openTrustStore(s: GcSettings): Promise<MetaStore> {
  const db = s.database;
  if (db.backend === 'postgres') return PostgresMetaStore.open(db.url);
  if (db.backend === 'mysql') return MysqlMetaStore.open(db.url);
  const file = join(s.dataDir, 'vouch.db');
  if (!existsSync(file)) {
    throw new ConfigError(`vouch gc: no trust database ${file}; when vouch serve runs with --db (or VOUCH_DB_URL), give vouch gc the same one`);
  }
  return new SqliteMetaStore(file);
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (st) => st.isDirectory(),
    () => false,
  );
}

/** `--output json`: snake_case as the other commands' JSON. */
export function gcJson(r: GcResult): Record<string, unknown> {
  return {
    dry_run: r.dryRun,
    signed: { guns: r.signed.guns, manifests: r.signed.manifests },
    manifests_deleted: r.report.manifestsDeleted.map((m) => ({ repository: m.repo, digest: m.digest })),
    blobs_deleted: [...r.report.blobsDeleted],
    bytes_freed: r.report.bytesFreed,
    uploads_removed: r.report.uploadsRemoved,
  };
}

/** The text report: what was deleted (or would be), then one summary line. */
export function gcLines(r: GcResult): string[] {
  const verb = r.dryRun ? 'would be deleted' : 'deleted';
  const { report } = r;
  const lines = [`trust data: ${count(r.signed.manifests, 'signed manifest')} kept whatever their tags (${count(r.signed.guns, 'signed repository', 'signed repositories')})`];
  for (const m of report.manifestsDeleted) lines.push(`${m.repo}: manifest ${m.digest} ${verb}`);
  for (const b of report.blobsDeleted) lines.push(`blob ${b} ${verb}`);
  const what = `${count(report.manifestsDeleted.length, 'manifest')} and ${count(report.blobsDeleted.length, 'blob')}`;
  const bytes = `${humanBytes(report.bytesFreed)}${report.bytesFreed >= 1000 ? ` (${report.bytesFreed} bytes)` : ''}`;
  const uploads = count(report.uploadsRemoved, 'stale upload session');
  lines.push(
    r.dryRun
      ? `dry run: would delete ${what}, freeing ${bytes}, and remove ${uploads}; nothing was deleted`
      : `deleted ${what}, freed ${bytes}, removed ${uploads}`,
  );
  return lines;
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Decimal units, as docker prints sizes: `0 B`, `999 B`, `1.5 kB`, `12.3 MB`. */
export function humanBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let i = 0;
  while (v >= 999.5 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  if (i === 0) return `${n} B`;
  const digits = v.toPrecision(3);
  return `${digits.includes('.') ? digits.replace(/\.?0+$/, '') : digits} ${units[i]}`;
}
