/**
 * Moving an image between a registry and a local source or sink, several blobs at a time, with
 * events for progress displays:
 *
 * - `pushImage(client, source)`: every blob the image (or each image of an index) needs that the
 *   registry lacks is uploaded (or mounted), then every child manifest of an index is put by
 *   digest. The root manifest is not put: the caller puts it by digest and/or tag once it has
 *   decided (content trust signs between the two, so a tag never moves before it is signed).
 * - `resolveImage(client, reference, platform)`: the manifest a pull starts from (an index
 *   narrowed to one platform, each step checked against its digest);
 * - `pullImage(client, plan, sink)`: the blobs the sink lacks are downloaded (their length
 *   limited as they stream), and each one's bytes as written are hashed on a worker thread and
 *   must match its digest before the sink lets it be seen; a transport failure retries the blob
 *   from the start; the sink is committed only when all arrived, and aborted on any failure.
 *
 * @example
 *   const root = await pushImage(client, source, { onEvent: (e) => progress.update(e) });
 *   await client.putManifest('v1', root.bytes, root.desc.mediaType);
 */
import { digestAlgorithm, verifyingStream, type Descriptor, type Digest, type Platform } from './digest.ts';
import { hashPool } from './hash-pool.ts';
import { DigestMismatchError, ImageFormatError, RegistryError, SizeMismatchError } from './errors.ts';
import { blobsOf, choosePlatform, readManifest, type ImageManifest } from './manifest.ts';
import type { BlobPushResult, FetchedManifest, RegistryClient } from './registry-client.ts';
import type { ImageSink, ImageSource, ManifestBytes, PullPlan } from './types.ts';

export type BlobRole = 'config' | 'layer';

export type TransferEvent =
  | { readonly type: 'queued'; readonly desc: Descriptor; readonly role: BlobRole }
  | { readonly type: 'started'; readonly desc: Descriptor }
  | { readonly type: 'progress'; readonly desc: Descriptor; readonly bytes: number }
  | { readonly type: 'retrying'; readonly desc: Descriptor; readonly error: Error }
  | { readonly type: 'done'; readonly desc: Descriptor; readonly result: BlobPushResult | 'downloaded' | 'present' };

export interface TransferOptions {
  /** Blobs in flight at once (default 4). */
  readonly concurrency?: number;
  readonly onEvent?: (e: TransferEvent) => void;
}

export interface PushOptions extends TransferOptions {
  /** Mount blobs from this repository of the same registry when it has them. */
  readonly mountFrom?: string;
}

export interface PullOptions extends TransferOptions {
  /** Attempts per blob after a transport failure (default 3 in all). */
  readonly attempts?: number;
}

/** Run `work` over `items`, `n` at a time; the first failure stops new work and is thrown. */
export async function pool<T>(items: readonly T[], n: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
  if (failed !== undefined) throw failed;
}

/** The images of a source: the root itself, or each manifest its index lists (recursively). */
async function imagesOf(source: ImageSource, root: ManifestBytes): Promise<{ children: ManifestBytes[]; images: ImageManifest[] }> {
  const parsed = readManifest(root.bytes, root.desc.mediaType, `${source.description} manifest ${root.desc.digest}`);
  if (parsed.kind === 'image') return { children: [], images: [parsed] };
  const children: ManifestBytes[] = [];
  const images: ImageManifest[] = [];
  for (const d of parsed.manifests) {
    const bytes = await source.readManifest(d);
    const sub = await imagesOf(source, { desc: d, bytes });
    children.push(...sub.children, { desc: d, bytes });
    images.push(...sub.images);
  }
  return { children, images };
}

/**
 * Upload what the registry lacks of `source`, and the child manifests of an index.
 * @returns the root manifest, not yet put
 */
export async function pushImage(client: RegistryClient, source: ImageSource, o: PushOptions = {}): Promise<ManifestBytes> {
  const { children, images } = await imagesOf(source, source.root);
  const blobs = new Map<string, { desc: Descriptor; role: BlobRole }>();
  for (const img of images) {
    for (const d of blobsOf(img)) if (!blobs.has(d.digest)) blobs.set(d.digest, { desc: d, role: d.digest === img.config.digest ? 'config' : 'layer' });
  }
  for (const b of blobs.values()) o.onEvent?.({ type: 'queued', desc: b.desc, role: b.role });
  await pool([...blobs.values()], o.concurrency ?? 4, async ({ desc }) => {
    o.onEvent?.({ type: 'started', desc });
    let sent = 0;
    const result = await client.pushBlob(desc, () => source.openBlob(desc), {
      ...(o.mountFrom === undefined ? {} : { mountFrom: o.mountFrom }),
      onProgress: (n) => {
        sent += n;
        o.onEvent?.({ type: 'progress', desc, bytes: sent });
      },
    });
    o.onEvent?.({ type: 'done', desc, result });
  });
  for (const c of children) await client.putManifest(c.desc.digest, c.bytes, c.desc.mediaType);
  return source.root;
}

export interface ResolvedImage {
  /** What the reference named (an index for a multi-platform image). */
  readonly root: FetchedManifest;
  /** The image manifest to pull (the root itself, or the index's entry for the platform). */
  readonly manifest: ManifestBytes;
  readonly image: ImageManifest;
}

/**
 * The manifest to pull for `reference` (a tag or digest): an index is narrowed to `platform`.
 * @param expected when given (content trust), the root must have this digest and size
 * @throws ImageFormatError, RegistryError, DigestMismatchError, SizeMismatchError
 */
export async function resolveImage(client: RegistryClient, reference: string, platform: Platform, expected?: { digest: Digest; size: number }): Promise<ResolvedImage> {
  const root = await client.getManifest(reference);
  const name = `${client.host}/${client.repository}`;
  if (expected !== undefined) {
    if (root.digest !== expected.digest) throw new DigestMismatchError(`manifest of ${name}`, expected.digest, root.digest);
    if (root.bytes.length !== expected.size) throw new SizeMismatchError(`manifest ${root.digest} of ${name}`, expected.size, root.bytes.length);
  }
  let current: FetchedManifest = root;
  let desc: Descriptor = { mediaType: root.mediaType, digest: root.digest, size: root.bytes.length };
  for (let depth = 0; depth < 4; depth++) {
    const parsed = readManifest(current.bytes, current.mediaType, `manifest ${current.digest} of ${name}`);
    if (parsed.kind === 'image') {
      return { root, manifest: { desc: { ...desc, mediaType: parsed.mediaType }, bytes: current.bytes }, image: parsed };
    }
    const entry = choosePlatform(parsed, platform, `${name}@${current.digest}`);
    const child = await client.getManifest(entry.digest);
    if (child.bytes.length !== entry.size) throw new SizeMismatchError(`manifest ${entry.digest} of ${name}`, entry.size, child.bytes.length);
    current = child;
    desc = { mediaType: entry.mediaType, digest: entry.digest, size: entry.size, ...(entry.platform === undefined ? {} : { platform: entry.platform }) };
  }
  throw new ImageFormatError(`${name}@${root.digest}: image indexes nested too deep`);
}

function isTransient(err: unknown): boolean {
  return err instanceof RegistryError && (err.status === undefined || err.status >= 500);
}

/** Download what `sink` lacks of `plan`, verified, and commit the sink. */
export async function pullImage(client: RegistryClient, plan: PullPlan, sink: ImageSink, o: PullOptions = {}): Promise<void> {
  const needed = await sink.begin(plan);
  try {
    const wanted = new Set(needed.map((d) => d.digest));
    for (const d of blobsOf(plan.image)) {
      o.onEvent?.({ type: 'queued', desc: d, role: d.digest === plan.image.config.digest ? 'config' : 'layer' });
      if (!wanted.has(d.digest)) o.onEvent?.({ type: 'done', desc: d, result: 'present' });
    }
    const attempts = Math.max(1, o.attempts ?? 3);
    await pool(needed, o.concurrency ?? 4, async (desc) => {
      for (let attempt = 1; ; attempt++) {
        o.onEvent?.({ type: 'started', desc });
        try {
          const body = await client.openBlob(desc);
          let got = 0;
          body.on('data', (c: Buffer) => {
            got += c.length;
            o.onEvent?.({ type: 'progress', desc, bytes: got });
          });
          const what = `blob ${desc.digest} of ${client.host}/${client.repository}`;
          // the stream is only counted here; the bytes as written are hashed on a worker thread
          const counted = body.pipe(verifyingStream(desc, what, { hash: false }));
          body.on('error', (err) => counted.destroy(err));
          await sink.writeBlob(desc, counted, async (file, offset) => {
            const alg = digestAlgorithm(desc.digest);
            const actual = `${alg}:${await hashPool().hashFile(file, offset, desc.size, alg)}`;
            if (actual !== desc.digest) throw new DigestMismatchError(what, desc.digest, actual);
          });
          break;
        } catch (err) {
          if (attempt >= attempts || !isTransient(err)) throw err;
          o.onEvent?.({ type: 'retrying', desc, error: err as Error });
        }
      }
      o.onEvent?.({ type: 'done', desc, result: 'downloaded' });
    });
  } catch (err) {
    await sink.abort();
    throw err;
  }
  await sink.commit();
}
