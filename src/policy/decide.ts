/**
 * The content-trust rules over one verified repository (pure: no I/O, no clock). Each rule
 * answers with a reason a person can act on: it names the GUN, the tag or digest, and what is
 * missing.
 *
 * Serving (GET/HEAD of a manifest):
 * - by tag: the tag must be signed as docker resolves it (spec §10.3: `targets/releases`, else
 *   `targets`; a hit from any other role does not count) with the sha256 digest the registry
 *   would serve, and every required signer's role `targets/<name>` must list the tag with that
 *   same digest;
 * - by digest: some tag must satisfy the rule above for that digest — or, for the platform
 *   manifests docker pulls after resolving a signed image index, the digest must be listed in the
 *   index of such a tag (`children` gives an index's child digests; one level).
 *
 * Deleting: refused when the tag (any role of the repository lists it) or, for a digest, any
 * tag signed for that digest is signed; the reason names the command that unsigns it first.
 *
 * Example:
 *   const d = decideServe(repo, { gun, tag: 'v1', digest, requiredSigners: [] });
 *   if (!d.allow) console.log(d.reason);
 */
import type { ResolvedTarget, TrustedRepo } from '../client/types.ts';
import { dockerDigest, getDockerTarget, listDockerTargets, walkTargets, NoSuchTargetError } from '../client/walk.ts';

export type Outcome = { readonly allow: true; readonly reason: string } | { readonly allow: false; readonly reason: string };

export interface ServeQuestion {
  readonly gun: string;
  /** The tag asked for; undefined when the request named the digest. */
  readonly tag?: string;
  /** The digest the registry would serve. */
  readonly digest: string;
  readonly requiredSigners: readonly string[];
  /** Child manifest digests of an image index in the registry, by the index's digest. */
  readonly children?: ReadonlyMap<string, readonly string[]>;
}

const allow = (reason: string): Outcome => ({ allow: true, reason });
const refuse = (reason: string): Outcome => ({ allow: false, reason });

/** The digest `role` lists for `tag` (as a walk from that role would find it), or undefined. */
function signerDigest(repo: TrustedRepo, role: string, tag: string): string | undefined {
  let found: string | undefined;
  walkTargets(repo, tag, role, (meta, walkRole) => {
    if (walkRole.name !== role) return 'stop';
    const fm = meta.signed.targets.get(tag);
    const sha = fm?.hashes.get('sha256');
    if (sha !== undefined) found = `sha256:${Buffer.from(sha).toString('hex')}`;
    return 'stop';
  });
  return found;
}

/** Why a signed tag does not satisfy the required signers for `digest`, or null when it does. */
function missingSigners(repo: TrustedRepo, tag: string, digest: string, required: readonly string[]): string | null {
  const missing: string[] = [];
  for (const name of required) {
    const role = `targets/${name}`;
    const got = signerDigest(repo, role, tag);
    if (got === undefined) missing.push(repo.targets.has(role) ? `"${name}" has not signed it` : `"${name}" is not a signer (no valid ${role} role)`);
    else if (got !== digest) missing.push(`"${name}" signed it for ${got}`);
  }
  return missing.length === 0 ? null : `required signer ${missing.join(', ')}`;
}

/** docker's resolution of `tag`, or undefined when it is not signed. */
export function signedTarget(repo: TrustedRepo, tag: string): ResolvedTarget | undefined {
  try {
    return getDockerTarget(repo, tag);
  } catch (err) {
    if (err instanceof NoSuchTargetError) return undefined;
    throw err;
  }
}

export function decideServe(repo: TrustedRepo, q: ServeQuestion): Outcome {
  if (q.tag !== undefined) {
    const t = signedTarget(repo, q.tag);
    if (t === undefined) return refuse(`tag "${q.tag}" is not signed in ${q.gun} (neither targets/releases nor targets lists it)`);
    const signed = dockerDigest(t);
    if (signed !== q.digest) {
      return refuse(`tag "${q.tag}" is signed in ${q.gun} for ${signed ?? 'no sha256 digest'}, but the registry's "${q.tag}" is ${q.digest}`);
    }
    const missing = missingSigners(repo, q.tag, q.digest, q.requiredSigners);
    if (missing !== null) return refuse(`tag "${q.tag}" (${q.digest}) in ${q.gun} lacks a required signature: ${missing}`);
    return allow(`tag "${q.tag}" signed in ${t.role}${q.requiredSigners.length === 0 ? '' : ` and by ${q.requiredSigners.join(', ')}`}`);
  }
  const released = listDockerTargets(repo);
  const shortfalls: string[] = [];
  for (const t of released) {
    if (dockerDigest(t) !== q.digest) continue;
    const missing = missingSigners(repo, t.name, q.digest, q.requiredSigners);
    if (missing === null) return allow(`digest of signed tag "${t.name}" (${t.role})`);
    shortfalls.push(`tag "${t.name}": ${missing}`);
  }
  for (const t of released) {
    const index = dockerDigest(t);
    if (index === undefined || !(q.children?.get(index)?.includes(q.digest) ?? false)) continue;
    if (missingSigners(repo, t.name, index, q.requiredSigners) === null) return allow(`listed in the image index of signed tag "${t.name}" (${index})`);
  }
  if (shortfalls.length > 0) return refuse(`${q.digest} is signed in ${q.gun} but lacks a required signature (${shortfalls.join('; ')})`);
  return refuse(`${q.digest} is not the digest of any signed tag in ${q.gun}`);
}

/** Every role listing `tag`, in walk order. */
export function rolesSigning(repo: TrustedRepo, tag: string): string[] {
  const roles: string[] = [];
  walkTargets(repo, tag, '', (meta, role) => {
    if (meta.signed.targets.has(tag)) roles.push(role.name);
    return undefined;
  });
  return roles;
}

/** Tags any role signs for `digest`, sorted. */
export function tagsSignedFor(repo: TrustedRepo, digest: string): string[] {
  const tags = new Set<string>();
  walkTargets(repo, '', '', (meta) => {
    for (const [name, fm] of meta.signed.targets) {
      const sha = fm.hashes.get('sha256');
      if (sha !== undefined && `sha256:${Buffer.from(sha).toString('hex')}` === digest) tags.add(name);
    }
    return undefined;
  });
  return [...tags].sort();
}

const revokeCommand = (gun: string, tag: string): string => `docker trust revoke ${gun}:${tag}`;

/** Deleting `tag` (or, without a tag, the manifest `digest` and every tag on it). */
export function decideDelete(repo: TrustedRepo, q: { readonly gun: string; readonly tag?: string; readonly digest: string }): Outcome {
  if (q.tag !== undefined) {
    const roles = rolesSigning(repo, q.tag).sort();
    if (roles.length === 0) return allow(`tag "${q.tag}" is not signed in ${q.gun}`);
    return refuse(`tag "${q.tag}" is signed in ${q.gun} (${roles.join(', ')}); unsign it first: ${revokeCommand(q.gun, q.tag)}`);
  }
  const tags = tagsSignedFor(repo, q.digest);
  if (tags.length === 0) return allow(`${q.digest} is not signed in ${q.gun}`);
  return refuse(
    `${q.digest} is signed in ${q.gun} as ${tags.map((t) => `"${t}"`).join(', ')}; unsign ${tags.length === 1 ? 'it' : 'them'} first: ${tags.map((t) => revokeCommand(q.gun, t)).join('; ')}`,
  );
}
