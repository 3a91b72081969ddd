/**
 * What `docker trust inspect` reports about a repository (spec §12.2), computed from a verified
 * repository with no I/O, and its two layouts:
 *
 * - `trustInfo(repo, tag)`: the signed tags (targets present in `targets` or `targets/releases`,
 *   keyed by tag and digest, each with the other delegations holding the same digest, in walk
 *   order), the signers (every delegation but `targets/releases`, canonical key IDs) and the
 *   administrative keys (root.json's root and targets key IDs);
 * - `inspectJson(name, info)`: docker's JSON object (`SignedTags` natural-sorted, `Signers` by
 *   name descending, `["Repo Admin"]` for a tag no delegation signed);
 * - `prettyText(name, info)`: the `--pretty` text (docker's table layout: tabwriter with minimum
 *   width 10 and padding 3, key IDs cut to 12 characters in the signer table);
 * - `prettyJson(name, info)`: the rows of those three tables as JSON (`--pretty --output json`).
 *
 * @example
 *   const info = trustInfo(repo, '');
 *   io.stdout.write(prettyText('example.com/app', info));
 */
import { delegationRoles } from '../client/cli-support.ts';
import { walkTargets, type ResolvedTarget, type TrustedRepo } from '../client/index.ts';
import type { FileMeta } from '../tuf/index.ts';
import { formatTabs } from './tabwriter.ts';

export const RELEASES_ROLE = 'targets/releases';
export const REPO_ADMIN = 'Repo Admin';
/** docker's table layout (`tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`). */
const DOCKER_TABLE = { minWidth: 10, padding: 3 } as const;
const SHORT_ID = 12;

/** A target as notary's GetAllTargetMetadataByName returns it: with the role that listed it. */
export interface RoleTarget {
  readonly role: string;
  readonly name: string;
  readonly meta: FileMeta;
}

export interface SignedTagRow {
  readonly tag: string;
  /** Hex sha256, '' when the target has none. */
  readonly digest: string;
  /** Delegations (minus `targets/`) holding the same tag and digest; empty = only the admin. */
  readonly signers: readonly string[];
}

export interface TrustInfo {
  readonly tags: readonly SignedTagRow[];
  /** Signer name (delegation minus `targets/`) → canonical key IDs. */
  readonly signers: ReadonlyMap<string, readonly string[]>;
  /** TUF key IDs of the root role, as root.json lists them. */
  readonly rootKeys: readonly string[];
  /** TUF key IDs of the targets role. */
  readonly repositoryKeys: readonly string[];
}

/** docker's isReleasedTarget. */
export function isReleasedRole(role: string): boolean {
  return role === 'targets' || role === RELEASES_ROLE;
}

/** docker's notaryRoleToSigner. */
export function signerName(role: string): string {
  return isReleasedRole(role) ? REPO_ADMIN : role.replace(/^targets\//, '');
}

export function hexSha256(meta: FileMeta): string {
  const h = meta.hashes.get('sha256');
  return h === undefined ? '' : Buffer.from(h).toString('hex');
}

/**
 * notary's GetAllTargetMetadataByName: every role (walk order) holding `name`, or all targets of
 * every role when `name` is ''.
 */
export function allTargetsByName(repo: TrustedRepo, name: string): RoleTarget[] {
  const out: RoleTarget[] = [];
  walkTargets(repo, name, '', (meta, role) => {
    if (name === '') {
      for (const [n, fm] of meta.signed.targets) out.push({ role: role.name, name: n, meta: fm });
    } else {
      const fm = meta.signed.targets.get(name);
      if (fm !== undefined) out.push({ role: role.name, name, meta: fm });
    }
    return undefined;
  });
  return out;
}

/** fvbommel/sortorder's NaturalLess as a comparator: digit runs compare by value. */
export function naturalCompare(a: string, b: string): number {
  const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) {
    const c1 = x[i] as number;
    const c2 = y[j] as number;
    const d1 = isDigit(c1);
    const d2 = isDigit(c2);
    if (d1 !== d2) return d1 ? -1 : 1;
    if (!d1) {
      if (c1 !== c2) return c1 - c2;
      i++;
      j++;
      continue;
    }
    while (i < x.length && x[i] === 0x30) i++;
    while (j < y.length && y[j] === 0x30) j++;
    const s1 = i;
    const s2 = j;
    while (i < x.length && isDigit(x[i] as number)) i++;
    while (j < y.length && isDigit(y[j] as number)) j++;
    if (i - s1 !== j - s2) return i - s1 - (j - s2);
    const cmp = Buffer.compare(x.subarray(s1, i), y.subarray(s2, j));
    if (cmp !== 0) return cmp;
    if (s1 !== s2) return s1 - s2;
  }
  return x.length < y.length ? -1 : x.length > y.length ? 1 : 0;
}

/** docker's matchReleasedSignatures. */
export function releasedSignatures(targets: readonly RoleTarget[]): SignedTagRow[] {
  const rows = new Map<string, { tag: string; digest: string; signers: string[] }>();
  const key = (t: RoleTarget): string => `${t.name}\u0000${hexSha256(t.meta)}`;
  for (const t of targets) if (isReleasedRole(t.role) && !rows.has(key(t))) rows.set(key(t), { tag: t.name, digest: hexSha256(t.meta), signers: [] });
  for (const t of targets) {
    const row = rows.get(key(t));
    if (row !== undefined && !isReleasedRole(t.role)) row.signers.push(signerName(t.role));
  }
  return [...rows.values()].sort((a, b) => naturalCompare(a.tag, b.tag));
}

/** Everything inspect shows for `repo`, for one tag or ('') all of them. */
export function trustInfo(repo: TrustedRepo, tag: string): TrustInfo {
  const tags = releasedSignatures(allTargetsByName(repo, tag));
  const signers = new Map<string, readonly string[]>();
  let roles: ReturnType<typeof delegationRoles> = [];
  try {
    roles = delegationRoles(repo);
  } catch {
    roles = []; // docker only logs a failure to list delegations
  }
  for (const r of roles) if (r.name !== RELEASES_ROLE) signers.set(signerName(r.name), r.keyIds);
  const root = repo.root.signed;
  return {
    tags,
    signers,
    rootKeys: [...(root.roles.get('root')?.keyids ?? [])],
    repositoryKeys: [...(root.roles.get('targets')?.keyids ?? [])],
  };
}

/** Go's json.Marshal escapes these even inside strings. */
function goEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `Keys` omitted when empty (`omitempty`). */
function signerJson(name: string, ids: readonly string[]): object {
  return ids.length === 0 ? { Name: name } : { Name: name, Keys: ids.map((id) => ({ ID: id })) };
}

/** docker's inspect object for one repository. */
export function inspectJson(name: string, info: TrustInfo): object {
  const byName = (a: string, b: string): number => (a > b ? -1 : a < b ? 1 : 0);
  return {
    Name: name,
    SignedTags: info.tags.map((t) => ({ SignedTag: t.tag, Digest: t.digest, Signers: t.signers.length === 0 ? [REPO_ADMIN] : [...t.signers] })),
    Signers: [...info.signers.keys()].sort(byName).map((n) => signerJson(n, info.signers.get(n) ?? [])),
    AdministrativeKeys: [signerJson('Root', info.rootKeys), signerJson('Repository', info.repositoryKeys)],
  };
}

/** The inspect output: the objects as an array indented by 4 (json.Indent), `[]` when none. */
export function inspectOutput(objects: readonly object[]): string {
  if (objects.length === 0) return '[]\n';
  return goEscape(JSON.stringify(objects, null, 4)) + '\n';
}

function sorted(ids: readonly string[]): string[] {
  return [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function dockerTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return formatTabs([header, ...rows].map((r) => r.join('\t') + '\n').join(''), DOCKER_TABLE);
}

/** `--pretty` for one repository (docker's prettyPrintTrustInfo). */
export function prettyText(name: string, info: TrustInfo): string {
  let out = '';
  if (info.tags.length > 0) {
    out += `\nSignatures for ${name}\n\n`;
    out += dockerTable(
      ['SIGNED TAG', 'DIGEST', 'SIGNERS'],
      info.tags.map((t) => [t.tag, t.digest, t.signers.length === 0 ? `(${REPO_ADMIN})` : sorted(t.signers).join(', ')]),
    );
  } else {
    out += `\nNo signatures for ${name}\n\n`;
  }
  if (info.signers.size > 0) {
    out += `\nList of signers and their keys for ${name}\n\n`;
    const names = [...info.signers.keys()].sort(naturalCompare);
    out += dockerTable(
      ['SIGNER', 'KEYS'],
      names.map((n) => [n, sorted(info.signers.get(n) ?? []).map((id) => id.slice(0, SHORT_ID)).join(', ')]),
    );
  }
  out += `\nAdministrative keys for ${name}\n\n`;
  out += `  Repository Key:\t${sorted(info.repositoryKeys).join(', ')}\n`;
  out += `  Root Key:\t${sorted(info.rootKeys).join(', ')}\n`;
  return out;
}

/**
 * The `--pretty` tables as JSON (a vouch addition for scripts): one object per repository with
 * one array per table, nothing truncated.
 */
export function prettyJson(name: string, info: TrustInfo): object {
  return {
    name,
    signatures: info.tags.map((t) => ({ signedTag: t.tag, digest: t.digest, signers: t.signers.length === 0 ? [REPO_ADMIN] : sorted(t.signers) })),
    signers: [...info.signers.keys()].sort(naturalCompare).map((n) => ({ signer: n, keys: sorted(info.signers.get(n) ?? []) })),
    administrativeKeys: [
      { role: 'Repository', keys: sorted(info.repositoryKeys) },
      { role: 'Root', keys: sorted(info.rootKeys) },
    ],
  };
}

/** A resolved target's hex sha256 (docker's digest without `sha256:`). */
export function targetDigest(t: ResolvedTarget): string {
  const h = t.hashes.get('sha256');
  return h === undefined ? '' : Buffer.from(h).toString('hex');
}
