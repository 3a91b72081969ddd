/**
 * Loading the repository a publish edits (spec §10.4 step 1):
 * - normally the verified remote state from the updater (for write: root.json always fetched);
 * - for a repository the server does not know yet, the local cache (root and targets required,
 *   snapshot and timestamp optional, expired allowed) as an initial publish (notary's
 *   bootstrapRepo); `null` when the cache lacks root or targets, so the caller initialises.
 *
 * @example
 *   const loaded = await loadFromCache(cache, { gun, now });
 */
import { toHex } from '../canonical/index.ts';
import { NotFoundError, VouchError } from '../errors/index.ts';
import { Envelope, Metadata, RepoBuilder, Targets, type Snapshot, type TrustPinning } from '../tuf/index.ts';
import type { MetadataCache, RemoteStore, TrustedRepo } from './types.ts';
import { EditableRepo, targetsDraft, type TargetsDraft } from './repo-state.ts';
import { RepositoryNotExistError } from './updater-errors.ts';

/**
 * True for "the server has no trust data for this GUN": the updater's RepositoryNotExistError
 * (notary's ErrRepositoryNotExist), or a bare 404 on `root`, `<v>.root` or `root.<sum>` from
 * another update function. A publish then falls back to the local cache. Other 404s (say, of
 * the timestamp) are real failures.
 */
export function isRepositoryMissing(err: unknown): boolean {
  if (err instanceof RepositoryNotExistError) return true;
  if (!(err instanceof NotFoundError) && !(err instanceof VouchError && err.code === 'NOT_FOUND')) return false;
  const resource = (err as { resource?: unknown }).resource;
  return typeof resource !== 'string' || /(^|\.)root(\.|$)/.test(resource);
}

/** The verified remote state as an editable repository. */
export function editableFromTrusted(t: TrustedRepo, now: Date): EditableRepo {
  return EditableRepo.fromMetadata({ gun: t.gun, now, root: t.root, targets: t.targets, snapshot: t.snapshot });
}

export interface CacheLoadOptions {
  readonly gun: string;
  readonly now: Date;
  readonly pinning?: TrustPinning;
}

/**
 * notary's bootstrapRepo: root, targets, snapshot, timestamp from the cache, in that order,
 * expired allowed. Null when root or targets is not cached.
 * @throws the builder's validation errors for cached data that does not verify
 */
export async function loadFromCache(cache: MetadataCache, o: CacheLoadOptions): Promise<EditableRepo | null> {
  const b = new RepoBuilder({ gun: o.gun, now: o.now, ...(o.pinning === undefined ? {} : { pinning: o.pinning }) });
  for (const role of ['root', 'targets', 'snapshot', 'timestamp'] as const) {
    const bytes = await cache.get(role);
    if (bytes === null) {
      if (role === 'snapshot' || role === 'timestamp') continue;
      return null;
    }
    b.load(role, bytes, { allowExpired: true });
  }
  const root = b.root;
  const targets = b.targets('targets');
  if (root === undefined || targets === undefined) return null;
  return EditableRepo.fromMetadata({ gun: o.gun, now: o.now, root, targets: new Map([['targets', targets]]), snapshot: b.snapshot ?? null });
}

/** Largest metadata file a client downloads without a known length (Appendix A). */
export const MAX_METADATA_BYTES = 100 * 1024 * 1024;

/**
 * For `witness` of a delegation that failed verification: its current file, fetched by the
 * checksum the snapshot lists and parsed without trusting it. Null when it cannot be had.
 */
export function invalidRoleLoader(remote: RemoteStore, snapshot: Snapshot | null): (role: string) => Promise<TargetsDraft | null> {
  return async (role) => {
    const meta = snapshot?.meta.get(role);
    const sha = meta?.hashes.get('sha256');
    if (meta === undefined || sha === undefined) return null;
    try {
      const bytes = await remote.getMeta(role, meta.length, { checksum: toHex(sha) });
      const env = Envelope.parse(bytes, role);
      return targetsDraft(new Metadata(env, Targets.fromSigned(env.signed, role)));
    } catch {
      return null;
    }
  };
}
