/**
 * The client publish algorithm (spec §10.4): apply staged changes to the loaded repository,
 * re-sign what changed and send everything in one multipart POST (§6.1).
 *
 * 1. The repository comes from `load` (remote state, or the local cache for a first publish).
 * 2. Changes are applied in order; the first failure aborts before anything is sent.
 * 3. Root is re-signed when changed, within 6 months of expiry, or when legacy keys must sign;
 *    a first publish sends the cached root unchanged.
 * 4. Every dirty targets role (and `targets` on a first publish) is re-signed.
 * 5. The snapshot is re-signed on every publish when a snapshot key is held, else the server
 *    makes it.
 * 6. One POST. Keys replaced in root by a rotation leave the key store only after it succeeded.
 *
 * Nothing here touches the changelist or the cache: a failed publish leaves both as they were.
 *
 * @example
 *   const sent = await publishChanges({ repo, ring, remote, initialPublish: false }, changes);
 */
import type { TufKey } from '../crypto/types.ts';
import { Envelope, Root, compareRoleDepth } from '../tuf/index.ts';
import type { Change } from './changelist.ts';
import { applyChanges } from './changelist-apply.ts';
import type { Warn } from './delegation-ops.ts';
import { MAX_METADATA_BYTES } from './repo-load.ts';
import type { EditableRepo, TargetsDraft } from './repo-state.ts';
import { signRoot, signSnapshot, signTargets } from './sign-roles.ts';
import type { KeyRing } from './sign.ts';
import { isNearExpiry } from './trusted-set.ts';
import type { RemoteStore } from './types.ts';

export interface PublishInput {
  readonly repo: EditableRepo;
  readonly ring: KeyRing;
  readonly remote: RemoteStore;
  /** The server does not know the repository yet: root and targets are sent even if unchanged. */
  readonly initialPublish: boolean;
  /** `key rotate --legacy N`: also sign root with the root keys of the last N versions (-1 = all). */
  readonly legacyVersions?: number;
  readonly invalidRole?: (role: string) => Promise<TargetsDraft | null>;
  readonly warn?: Warn;
}

export interface PublishResult {
  /** The files sent, by role (root, targets roles shallowest first, snapshot). */
  readonly files: ReadonlyMap<string, Uint8Array>;
}

/**
 * Apply, sign and upload. @throws the change's, signing or upload error (nothing sent on the
 * first two)
 */
export async function publishChanges(input: PublishInput, changes: readonly Change[]): Promise<PublishResult> {
  const { repo, ring, remote } = input;
  await applyChanges(repo, ring, changes, {
    ...(input.warn === undefined ? {} : { warn: input.warn }),
    ...(input.invalidRole === undefined ? {} : { invalidRole: input.invalidRole }),
  });
  const legacyKeys = input.initialPublish ? new Map<string, TufKey>() : await legacyRootKeys(repo, remote, input.legacyVersions ?? 0);
  const files = await signForPublish(repo, ring, input.initialPublish, legacyKeys);
  await remote.publish(files);
  for (const id of repo.retiredKeyIds) {
    if (repo.root.keys.has(id)) continue; // rotated back to a key that is still in use
    try {
      await ring.remove(id);
    } catch {
      // not held here (e.g. a server-managed key): nothing to remove
    }
  }
  return { files };
}

/** Steps 3–5: the files to upload, in upload order. */
export async function signForPublish(
  repo: EditableRepo,
  ring: KeyRing,
  initialPublish: boolean,
  legacyKeys: ReadonlyMap<string, TufKey> = new Map(),
): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  if (legacyKeys.size > 0) repo.root.dirty = true;
  if (repo.root.dirty || isNearExpiry(repo.root.expires.unixMs, repo.now)) {
    files.set('root', await signRoot(repo, ring, legacyKeys));
  } else if (initialPublish && repo.root.bytes !== null) {
    files.set('root', repo.root.bytes);
  }
  const roles = [...repo.targets.keys()].sort(compareRoleDepth);
  for (const role of roles) {
    const draft = repo.targets.get(role) as TargetsDraft;
    if (draft.dirty || (role === 'targets' && initialPublish)) files.set(role, await signTargets(repo, ring, role));
  }
  const snapshot = await signSnapshot(repo, ring);
  if (snapshot !== null) files.set('snapshot', snapshot);
  return files;
}

/**
 * notary's oldKeysForLegacyClientSupport: the root role keys of root versions
 * current … current − n (all for −1) that the server still has; missing versions are skipped.
 */
export async function legacyRootKeys(repo: EditableRepo, remote: RemoteStore, legacyVersions: number): Promise<Map<string, TufKey>> {
  const out = new Map<string, TufKey>();
  const current = repo.root.version;
  const oldest = Math.max(1, legacyVersions === -1 ? 1 : current - legacyVersions);
  if (current <= 1 || oldest === current) return out;
  for (let v = current; v >= oldest; v--) {
    let bytes: Uint8Array;
    try {
      bytes = await remote.getMeta('root', MAX_METADATA_BYTES, { version: v });
    } catch {
      continue;
    }
    const old = Root.fromSigned(Envelope.parse(bytes, `${v}.root`).signed);
    try {
      for (const [id, key] of old.baseRole('root').keys) out.set(id, key);
    } catch {
      // a root without a usable root role contributes no keys
    }
  }
  return out;
}
