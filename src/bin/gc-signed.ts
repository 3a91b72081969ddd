/**
 * What the trust data signs, for `vouch gc`: every manifest digest listed as a target in the
 * current `targets` metadata or in the current metadata of any delegation role of any GUN in the
 * trust server's store, by registry repository. `vouch gc` keeps these manifests (and what they
 * need) even when no tag points at them any more, so a signed digest stays pullable after its tag
 * moved on.
 *
 * - The GUNs are those the store's changefeed names (every publish stores a timestamp and so
 *   appends a change); a GUN deleted since has no current `targets` and signs nothing.
 * - A GUN names its repository after the registry host clients used (`127.0.0.1:5000/team/app`,
 *   `registry.example.com/team/app`): the first path component is a host when docker would read
 *   it as one (it has a `.` or a `:`, or is `localhost`), and the rest is the repository. Any
 *   host counts, not only this server's names: keeping a manifest some other name signs costs
 *   space, deleting one a client will verify breaks a pull. A GUN without a host counts for the
 *   repository of that name.
 * - Delegations are found from `targets` down (each role's `delegations.roles`) and from the
 *   current snapshot's list, so a role that is listed in only one of them still counts.
 * - Only reads: the metadata is parsed, not verified (what a role lists is kept whether or not its
 *   signatures are still good: keeping too much is the safe side). Metadata that cannot be parsed
 *   at all stops the run (DeserializationError), since what it signs is then unknown.
 *
 * Example:
 *   const signed = await signedManifests(store);
 *   await gc(registryDir, { keep: (repo, digest) => signed.has(repo, digest) });
 */
import { toHex } from '../canonical/index.ts';
import { DeserializationError } from '../errors/index.ts';
import type { MetaStore } from '../storage/index.ts';
import { Envelope, Snapshot, Targets } from '../tuf/index.ts';

export interface SignedManifests {
  /** True when some GUN of `repo` signs the manifest `digest` (`sha256:<hex>`). */
  has(repo: string, digest: string): boolean;
  /** GUNs with current `targets` metadata. */
  readonly guns: number;
  /** Distinct (repository, digest) pairs signed, a repository counted once under all its GUNs. */
  readonly size: number;
}

/** Changes read per page of the changefeed. */
const PAGE = 1000;

/**
 * Read every GUN's current targets and delegations from `store`.
 * @throws DeserializationError naming the GUN and role whose metadata cannot be parsed
 * @throws StorageError when the store cannot be read
 */
export async function signedManifests(store: MetaStore): Promise<SignedManifests> {
  const pairs = new Set<string>();
  const counted = new Set<string>();
  let guns = 0;
  for (const gun of await listGuns(store)) {
    const digests = await signedDigests(store, gun);
    if (digests === null) continue;
    guns++;
    const repos = repositoriesOf(gun);
    for (const d of digests) {
      for (const repo of repos) pairs.add(`${repo}@${d}`);
      counted.add(`${repos.at(-1)!}@${d}`);
    }
  }
  return { has: (repo, digest) => pairs.has(`${repo}@${digest}`), guns, size: counted.size };
}

/** Every GUN the changefeed names, oldest first. */
export async function listGuns(store: MetaStore): Promise<string[]> {
  const guns = new Set<string>();
  for (let after = 0; ; ) {
    const page = await store.getChanges(after, PAGE);
    for (const c of page) guns.add(c.gun);
    if (page.length < PAGE) return [...guns];
    after = Number(page[page.length - 1]!.id);
  }
}

/**
 * The digests (`sha256:<hex>`, and `sha512:<hex>` where listed) of every target of `gun`'s
 * current `targets` and delegation roles; null when the GUN has no `targets`.
 * @throws DeserializationError
 */
export async function signedDigests(store: MetaStore, gun: string): Promise<Set<string> | null> {
  const read = async (role: string): Promise<Targets | null> => {
    const stored = await store.getCurrent(gun, role);
    if (stored === null) return null;
    try {
      return Targets.read(Envelope.parse(stored.data, role).signed, role);
    } catch (err) {
      throw new DeserializationError(`cannot read ${role} of ${gun} in the trust store (what it signs is unknown, so nothing was deleted): ${(err as Error).message}`, { cause: err });
    }
  };
  const top = await read('targets');
  if (top === null) return null;
  const out = new Set<string>();
  const seen = new Set<string>(['targets']);
  const queue: string[] = [...(await snapshotRoles(store, gun))];
  let t: Targets | null = top;
  for (;;) {
    if (t !== null) {
      for (const meta of t.targets.values()) {
        for (const alg of ['sha256', 'sha512']) {
          const h = meta.hashes.get(alg);
          if (h !== undefined && h.byteLength > 0) out.add(`${alg}:${toHex(h)}`);
        }
      }
      for (const r of t.delegations.roles) queue.push(r.name);
    }
    let next: string | undefined;
    while ((next = queue.shift()) !== undefined && seen.has(next));
    if (next === undefined) return out;
    seen.add(next);
    t = await read(next);
  }
}

/** The delegation roles the current snapshot lists (none when it has no snapshot). */
async function snapshotRoles(store: MetaStore, gun: string): Promise<string[]> {
  const stored = await store.getCurrent(gun, 'snapshot');
  if (stored === null) return [];
  try {
    return [...Snapshot.read(Envelope.parse(stored.data, 'snapshot').signed).meta.keys()].filter((r) => r.startsWith('targets/'));
  } catch (err) {
    throw new DeserializationError(`cannot read snapshot of ${gun} in the trust store (what it signs is unknown, so nothing was deleted): ${(err as Error).message}`, { cause: err });
  }
}

/** The registry repositories a GUN may name: itself, and without its host when it starts with one. */
export function repositoriesOf(gun: string): string[] {
  const slash = gun.indexOf('/');
  if (slash <= 0) return [gun];
  const first = gun.slice(0, slash);
  const isHost = first.includes('.') || first.includes(':') || first === 'localhost';
  return isHost ? [gun, gun.slice(slash + 1)] : [gun];
}
