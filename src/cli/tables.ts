/**
 * The four tables the notary CLI prints (spec §11, notary's cmd/notary/prettyprint.go) and their
 * `--output json` form, a vouch addition for scripts.
 *
 * Text: Go tabwriter layout (tabwriter.ts), notary's sorting, truncation and empty messages.
 * JSON: one array of objects per table, one object per row, the table's columns as keys, nothing
 * truncated, `[]` when empty; printed on one line followed by a newline:
 *
 * | command           | object                                                            |
 * |-------------------|-------------------------------------------------------------------|
 * | `list`            | `{"name","digest" (hex sha256),"size" (number),"role"}`           |
 * | `status`          | `{"number" (0-based),"action","scope","type","path"}`             |
 * | `key list`        | `{"role","gun","keyId","location"}`                               |
 * | `delegation list` | `{"role","paths" (array, "" = all paths),"keyIds" (array),"threshold"}` |
 *
 * @example
 *   io.stdout.write(targetsTable(rows));          // notary's text
 *   io.stdout.write(JSON.stringify(targetsJson(rows)) + '\n');
 */
import { compareCodePoints } from '../canonical/index.ts';
import { formatTable } from './tabwriter.ts';

export type OutputFormat = 'table' | 'json';

export interface TargetRow {
  readonly name: string;
  /** Hex sha256, '' when the target has none. */
  readonly digest: string;
  readonly size: number;
  readonly role: string;
}

export interface KeyRow {
  readonly role: string;
  readonly gun: string;
  readonly keyId: string;
  readonly location: string;
}

export interface RoleRow {
  readonly role: string;
  readonly paths: readonly string[];
  readonly keyIds: readonly string[];
  readonly threshold: number;
}

export interface ChangeRow {
  readonly action: string;
  readonly scope: string;
  readonly type: string;
  readonly path: string;
}

const MAX_GUN_WIDTH = 25;
const MAX_LOCATION_WIDTH = 40;

/** notary's truncateWithEllipsis (byte lengths, as Go's `len`). */
export function truncateWithEllipsis(s: string, maxWidth: number, leftTruncate: boolean): string {
  const bytes = Buffer.from(s, 'utf8');
  if (bytes.length <= maxWidth) return s;
  if (leftTruncate) return '...' + bytes.subarray(bytes.length - (maxWidth - 3)).toString('utf8');
  return bytes.subarray(0, maxWidth - 3).toString('utf8') + '...';
}

function byName<T extends { readonly name: string }>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => compareCodePoints(a.name, b.name));
}

/** `list`: sorted by name; the empty message when there are none. */
export function targetsTable(rows: readonly TargetRow[]): string {
  if (rows.length === 0) return '\nNo targets present in this repository.\n\n';
  return formatTable(
    ['NAME', 'DIGEST', 'SIZE (BYTES)', 'ROLE'],
    byName(rows).map((t) => [t.name, t.digest, String(t.size), t.role]),
  );
}

export function targetsJson(rows: readonly TargetRow[]): object[] {
  return byName(rows).map((t) => ({ name: t.name, digest: t.digest, size: t.size, role: t.role }));
}

/** notary's keyInfoSorter: root keys first, then by GUN, role, key ID, location. */
export function sortKeys(rows: readonly KeyRow[]): KeyRow[] {
  return [...rows].sort((a, b) => {
    if (a.role !== b.role) {
      if (a.role === 'root') return -1;
      if (b.role === 'root') return 1;
    }
    for (const k of ['gun', 'role', 'keyId', 'location'] as const) {
      const c = compareCodePoints(a[k], b[k]);
      if (c !== 0) return c;
    }
    return 0;
  });
}

/** `key list` between its blank lines: the table, or `No signing keys found.`. */
export function keysTable(rows: readonly KeyRow[]): string {
  if (rows.length === 0) return 'No signing keys found.\n';
  return formatTable(
    ['ROLE', 'GUN', 'KEY ID', 'LOCATION'],
    sortKeys(rows).map((k) => [k.role, truncateWithEllipsis(k.gun, MAX_GUN_WIDTH, true), k.keyId, truncateWithEllipsis(k.location, MAX_LOCATION_WIDTH, true)]),
  );
}

export function keysJson(rows: readonly KeyRow[]): object[] {
  return sortKeys(rows).map((k) => ({ role: k.role, gun: k.gun, keyId: k.keyId, location: k.location }));
}

/** notary's prettyPaths: sorted, `""` shown as `"" <all paths>`. */
export function prettyPaths(paths: readonly string[]): string[] {
  return [...paths].sort(compareCodePoints).map((p) => (p === '' ? '"" <all paths>' : p));
}

function byRole(rows: readonly RoleRow[]): RoleRow[] {
  return [...rows].sort((a, b) => compareCodePoints(a.role, b.role));
}

/** `delegation list` between its blank lines; extra paths and keys go on continuation rows. */
export function rolesTable(rows: readonly RoleRow[]): string {
  if (rows.length === 0) return '\nNo delegations present in this repository.\n\n';
  const lines: string[][] = [];
  for (const r of byRole(rows)) {
    const paths = prettyPaths(r.paths);
    lines.push([r.role, paths[0] ?? '', r.keyIds[0] ?? '', String(r.threshold)]);
    for (let i = 1; i < Math.max(paths.length, r.keyIds.length); i++) lines.push(['', paths[i] ?? '', r.keyIds[i] ?? '', '']);
  }
  return formatTable(['ROLE', 'PATHS', 'KEY IDS', 'THRESHOLD'], lines);
}

export function rolesJson(rows: readonly RoleRow[]): object[] {
  return byRole(rows).map((r) => ({ role: r.role, paths: [...r.paths].sort(compareCodePoints), keyIds: [...r.keyIds], threshold: r.threshold }));
}

/** `status` with changes: the heading and the numbered table. */
export function changesTable(gun: string, rows: readonly ChangeRow[]): string {
  if (rows.length === 0) return `No unpublished changes for ${gun}\n`;
  return (
    `Unpublished changes for ${gun}:\n\n` +
    formatTable(
      ['#', 'ACTION', 'SCOPE', 'TYPE', 'PATH'],
      rows.map((c, i) => [String(i), c.action, c.scope, c.type, c.path]),
    )
  );
}

export function changesJson(rows: readonly ChangeRow[]): object[] {
  return rows.map((c, i) => ({ number: i, action: c.action, scope: c.scope, type: c.type, path: c.path }));
}

/** `--output` value check. @throws Error with the accepted values */
export function parseOutputFormat(value: string | undefined): OutputFormat {
  if (value === undefined || value === '' || value === 'table') return 'table';
  if (value === 'json') return 'json';
  throw new Error(`invalid output format ${JSON.stringify(value)}: use "table" or "json"`);
}

/** JSON output line. */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value) + '\n';
}
