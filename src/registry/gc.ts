/**
 * Garbage collection of registry storage (distribution's `garbage-collect --delete-untagged`,
 * plus what content trust needs):
 *
 * 1. Mark, per repository. Roots are the manifests a tag points at, the manifests `keep(repo,
 *    digest)` vouches for (the trust server's signed targets, so a signed digest survives its
 *    tag moving), and manifests younger than the grace period. From the roots: an index's child
 *    manifests, an image's config and layers, and every manifest whose `subject` is marked
 *    (signatures, SBOMs and other referrers), until nothing changes.
 * 2. Sweep: unmarked manifests are deleted (with their referrers entries); blobs no marked
 *    manifest in any repository needs, and older than the grace period, are deleted, and the
 *    repository links to them removed; upload sessions older than `uploadMaxAgeMs` and staging
 *    leftovers are removed.
 *
 * The grace period makes it safe to run while pushes are in flight: a push uploads blobs first and
 * the manifest last, and the blobs of a push younger than the grace period are never swept. A
 * manifest that cannot be parsed stops the run before anything is deleted (fail closed).
 *
 * Example:
 *   const report = await gc('/var/lib/vouch/registry', { keep: (repo, d) => signed.has(`${repo}@${d}`) });
 */
import { DeserializationError } from '../errors/index.ts';
import { parseManifest } from './manifest.ts';
import type { Digest } from './names.ts';
import { FsRegistryStore } from './store/fs-store.ts';
import type { ManifestInfo, RegistryStore } from './store/types.ts';

export interface GcOptions {
  /** Also keep this manifest (and what it needs) even when no tag points at it. */
  readonly keep?: (repo: string, digest: string) => boolean | Promise<boolean>;
  /** Content younger than this is kept whatever refers to it (default one hour). */
  readonly gracePeriodMs?: number;
  /** Upload sessions older than this are removed (default seven days). */
  readonly uploadMaxAgeMs?: number;
  /** Report what would be deleted, delete nothing. */
  readonly dryRun?: boolean;
  readonly now?: () => number;
  /** Called as the mark phase starts on each repository (`index` from 0), for progress. */
  readonly onRepository?: (repo: string, index: number, total: number) => void;
}

export interface GcReport {
  readonly manifestsDeleted: { readonly repo: string; readonly digest: Digest }[];
  readonly blobsDeleted: Digest[];
  readonly bytesFreed: number;
  readonly uploadsRemoved: number;
}

export const DEFAULT_GC_GRACE_MS = 60 * 60 * 1000;
export const DEFAULT_UPLOAD_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;

/** Collect garbage in the filesystem storage under `storageDir`. */
export async function gc(storageDir: string, opts: GcOptions = {}): Promise<GcReport> {
  const store = new FsRegistryStore({ root: storageDir });
  const report = await gcStore(store, opts);
  if (opts.dryRun !== true) await store.purgeTmp(new Date((opts.now ?? Date.now)() - (opts.gracePeriodMs ?? DEFAULT_GC_GRACE_MS)));
  return report;
}

/**
 * Collect garbage in any `RegistryStore`.
 * @throws DeserializationError when a manifest that must be kept cannot be parsed (nothing is deleted)
 */
export async function gcStore(store: RegistryStore, opts: GcOptions = {}): Promise<GcReport> {
  const now = (opts.now ?? Date.now)();
  const cutoff = now - (opts.gracePeriodMs ?? DEFAULT_GC_GRACE_MS);
  const dryRun = opts.dryRun === true;
  const neededBlobs = new Set<Digest>();
  const doomedManifests: { repo: string; digest: Digest }[] = [];
  const repos = await store.listRepositories();

  // Mark: nothing is deleted until every repository has been walked.
  for (const [i, repo] of repos.entries()) {
    opts.onRepository?.(repo, i, repos.length);
    const manifests = new Map((await store.listManifests(repo)).map((m) => [m.digest, m]));
    const kept = await markRepository(store, repo, manifests, cutoff, opts.keep, neededBlobs);
    for (const d of manifests.keys()) if (!kept.has(d)) doomedManifests.push({ repo, digest: d });
  }

  // Sweep.
  if (!dryRun) for (const m of doomedManifests) await store.deleteManifest(m.repo, m.digest);
  const blobsDeleted: Digest[] = [];
  let bytesFreed = 0;
  for await (const b of store.listBlobs()) {
    if (neededBlobs.has(b.digest) || b.modifiedAt.getTime() > cutoff) continue;
    if (!dryRun) await store.deleteBlob(b.digest);
    blobsDeleted.push(b.digest);
    bytesFreed += b.size;
  }
  if (!dryRun && blobsDeleted.length > 0) {
    const gone = new Set(blobsDeleted);
    for (const repo of repos) for (const d of await store.listBlobLinks(repo)) if (gone.has(d)) await store.unlinkBlob(repo, d);
  }
  let uploadsRemoved = 0;
  const uploadCutoff = now - (opts.uploadMaxAgeMs ?? DEFAULT_UPLOAD_MAX_AGE_MS);
  for (const u of await store.listUploads()) {
    if (u.startedAt.getTime() >= uploadCutoff) continue;
    if (!dryRun) await purgeUpload(store, u.repo, u.id);
    uploadsRemoved++;
  }
  return { manifestsDeleted: doomedManifests, blobsDeleted, bytesFreed, uploadsRemoved };
}

async function purgeUpload(store: RegistryStore, repo: string, id: string): Promise<void> {
  if (store instanceof FsRegistryStore) await store.purgeUpload(id);
  else await store.cancelUpload(repo, id);
}

/** The manifests of one repository to keep; adds every blob they need to `neededBlobs`. */
async function markRepository(
  store: RegistryStore,
  repo: string,
  manifests: Map<Digest, ManifestInfo>,
  cutoff: number,
  keep: GcOptions['keep'],
  neededBlobs: Set<Digest>,
): Promise<Set<Digest>> {
  const kept = new Set<Digest>();
  const queue: Digest[] = [...(await store.listTagTargets(repo)).values()];
  for (const m of manifests.values()) {
    if (m.createdAt.getTime() > cutoff || (keep !== undefined && (await keep(repo, m.digest)))) queue.push(m.digest);
  }
  for (;;) {
    while (queue.length > 0) {
      const d = queue.pop() as Digest;
      if (kept.has(d) || !manifests.has(d)) continue;
      kept.add(d);
      neededBlobs.add(d);
      const stored = await store.getManifest(repo, d);
      if (stored === null) continue;
      let parsed;
      try {
        parsed = parseManifest(stored.bytes, stored.mediaType);
      } catch (err) {
        throw new DeserializationError(`gc: cannot parse manifest ${d} in ${repo}; nothing was deleted`, { cause: err });
      }
      for (const b of parsed.blobs) neededBlobs.add(b.digest);
      for (const c of parsed.manifests) queue.push(c.digest);
    }
    // Referrers of what is kept are kept too; repeat until no new subject is reached.
    for (const m of manifests.values()) if (m.subject !== undefined && kept.has(m.subject) && !kept.has(m.digest)) queue.push(m.digest);
    if (queue.length === 0) return kept;
  }
}
