/**
 * `docker save` archives: a tar holding `manifest.json` (`[{Config, RepoTags, Layers}]`) with
 * the config and the layer files it names, and since docker 25 also an OCI layout
 * (`oci-layout`, `index.json`, `blobs/sha256/…`) over the same files.
 *
 * Reading (`openDockerArchive`): the archive is indexed once (headers only) and files are
 * streamed from their offsets. An archive with an OCI layout is read as one (the manifest it
 * names is pushed unchanged, so its digest is kept); an older one is turned into a Docker image
 * manifest (schema 2) over its config and layer files as they are — plain tar layers stay plain
 * (`…rootfs.diff.tar`), gzip'd ones keep their bytes (`…tar.gzip`), zstd makes it an OCI
 * manifest. A layer's digest is its file name when the file is `blobs/sha256/<hex>`, the
 * config's diff_id for an uncompressed layer (the same thing), else it is hashed.
 *
 * Writing (`DockerArchiveSink`): the archive docker 25 writes — both manifest.json and an OCI
 * layout over `blobs/sha256/…` — laid out up front from the plan (every size is known), so the
 * blobs are written in parallel at their offsets in a temporary file that is renamed to the
 * destination at commit. `docker load` and `skopeo copy docker-archive:` read it.
 *
 * @example
 *   const src = await openDockerArchive('app.tar', ['127.0.0.1:5000/app:v1']);
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { digestOf, hashFile, parseDigest, type Descriptor, type Digest } from './digest.ts';
import { ImageFormatError } from './errors.ts';
import { BlobMediaType, MediaType } from './manifest.ts';
import { blobPath, CONTAINERD_NAME, INDEX_FILE, LAYOUT_FILE, OciLayoutSource, REF_NAME, tarFiles } from './oci-layout.ts';
import { indexTar, TAR_END, tarHeader, tarPadding, type TarIndex } from './tar.ts';
import type { BlobCheck, ImageSink, ImageSource, ManifestBytes, PullPlan } from './types.ts';

export const ARCHIVE_MANIFEST = 'manifest.json';
const MAX_JSON_BYTES = 16 << 20;

interface ArchiveEntry {
  readonly Config: string;
  readonly RepoTags: readonly string[];
  readonly Layers: readonly string[];
}

function parseArchiveManifest(bytes: Buffer, where: string): ArchiveEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new ImageFormatError(`${where}: ${ARCHIVE_MANIFEST} is not JSON`, { cause: err });
  }
  if (!Array.isArray(doc)) throw new ImageFormatError(`${where}: ${ARCHIVE_MANIFEST} is not a list`);
  return doc.map((e, i) => {
    const o = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
    const layers = o['Layers'];
    if (typeof o['Config'] !== 'string' || !Array.isArray(layers) || !layers.every((l) => typeof l === 'string')) {
      throw new ImageFormatError(`${where}: ${ARCHIVE_MANIFEST} entry ${i} needs Config and Layers`);
    }
    const tags = Array.isArray(o['RepoTags']) ? o['RepoTags'].filter((t): t is string => typeof t === 'string') : [];
    return { Config: o['Config'], RepoTags: tags, Layers: layers as string[] };
  });
}

function chooseEntry(entries: readonly ArchiveEntry[], names: readonly string[], where: string): ArchiveEntry {
  for (const name of names) {
    const hit = entries.find((e) => e.RepoTags.includes(name));
    if (hit !== undefined) return hit;
  }
  if (entries.length === 1) return entries[0] as ArchiveEntry;
  if (entries.length === 0) throw new ImageFormatError(`${where} holds no images`);
  const have = entries.flatMap((e) => e.RepoTags);
  throw new ImageFormatError(
    `${where} holds ${entries.length} images and none is tagged ${names.map((n) => JSON.stringify(n)).join(' or ')}${have.length > 0 ? ` (tags: ${have.join(', ')})` : ''}; choose one with --source-ref`,
  );
}

type Compression = 'none' | 'gzip' | 'zstd';

async function sniff(tar: TarIndex, path: string): Promise<Compression> {
  const e = tar.resolve(path);
  if (e.size < 4) return 'none';
  const fh = await open(tar.file, 'r');
  try {
    const b = Buffer.alloc(4);
    await fh.read(b, 0, 4, e.offset);
    if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
    if (b.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
    return 'none';
  } finally {
    await fh.close();
  }
}

/** The manifest docker would push for a pre-OCI archive entry, and where each blob's bytes are. */
async function legacyImage(tar: TarIndex, entry: ArchiveEntry, where: string): Promise<{ root: ManifestBytes; paths: Map<string, string> }> {
  const files = tarFiles(tar);
  const config = await files.read(entry.Config, MAX_JSON_BYTES);
  if (config === undefined) throw new ImageFormatError(`${where}: config ${entry.Config} is missing`);
  let diffIds: unknown[] = [];
  try {
    const c = JSON.parse(config.toString('utf8')) as { rootfs?: { diff_ids?: unknown } };
    if (Array.isArray(c.rootfs?.diff_ids)) diffIds = c.rootfs.diff_ids;
  } catch (err) {
    throw new ImageFormatError(`${where}: config ${entry.Config} is not JSON`, { cause: err });
  }
  if (diffIds.length !== entry.Layers.length) {
    throw new ImageFormatError(`${where}: the config lists ${diffIds.length} layers, ${ARCHIVE_MANIFEST} ${entry.Layers.length}`);
  }
  const paths = new Map<string, string>();
  const configDesc = { mediaType: BlobMediaType.DockerConfig, size: config.length, digest: digestOf(config) };
  paths.set(configDesc.digest, entry.Config);
  const layers: { mediaType: string; size: number; digest: Digest }[] = [];
  let zstd = false;
  for (const [i, path] of entry.Layers.entries()) {
    const e = tar.resolve(path);
    const compression = await sniff(tar, path);
    zstd ||= compression === 'zstd';
    const named = /(?:^|\/)blobs\/sha256\/([a-f0-9]{64})$/.exec(e.name);
    const diffId = typeof diffIds[i] === 'string' ? parseDigest(diffIds[i]) : null;
    let digest: Digest;
    if (named !== null) digest = `sha256:${named[1]}` as Digest;
    else if (compression === 'none' && diffId !== null) digest = diffId;
    else digest = e.size === 0 ? digestOf(new Uint8Array(0)) : (await hashFile(tar.file, e.offset, e.size)).digest;
    const mediaType =
      compression === 'gzip' ? BlobMediaType.DockerLayer : compression === 'zstd' ? BlobMediaType.OciLayerZstd : BlobMediaType.DockerLayerUncompressed;
    layers.push({ mediaType, size: e.size, digest });
    paths.set(digest, path);
  }
  const oci = (t: string): string =>
    t === BlobMediaType.DockerLayer ? BlobMediaType.OciLayerGzip : t === BlobMediaType.DockerLayerUncompressed ? BlobMediaType.OciLayer : t;
  const manifest = zstd
    ? { schemaVersion: 2, mediaType: MediaType.OciManifest, config: { ...configDesc, mediaType: BlobMediaType.OciConfig }, layers: layers.map((l) => ({ ...l, mediaType: oci(l.mediaType) })) }
    : { schemaVersion: 2, mediaType: MediaType.DockerManifest, config: configDesc, layers };
  const bytes = Buffer.from(JSON.stringify(manifest, null, 3));
  return { root: { desc: { mediaType: manifest.mediaType, digest: digestOf(bytes), size: bytes.length }, bytes }, paths };
}

class LegacyArchiveSource implements ImageSource {
  readonly description: string;
  readonly root: ManifestBytes;
  readonly #tar: TarIndex;
  readonly #paths: Map<string, string>;

  constructor(description: string, root: ManifestBytes, tar: TarIndex, paths: Map<string, string>) {
    this.description = description;
    this.root = root;
    this.#tar = tar;
    this.#paths = paths;
  }

  async readManifest(desc: Descriptor): Promise<Buffer> {
    throw new ImageFormatError(`${this.description}: no manifest ${desc.digest} in the archive`);
  }

  async openBlob(desc: Descriptor): Promise<Readable> {
    const path = this.#paths.get(desc.digest);
    if (path === undefined) throw new ImageFormatError(`${this.description}: no blob ${desc.digest} in the archive`);
    return tarFiles(this.#tar).stream(path);
  }

  async close(): Promise<void> {}
}

/**
 * Open a `docker save` archive and pick the image tagged with the first of `names` that one
 * carries (else the only image).
 * @throws ImageFormatError
 */
export async function openDockerArchive(file: string, names: readonly string[]): Promise<ImageSource> {
  const where = `docker archive ${file}`;
  const tar = await indexTar(file);
  if (tar.has(LAYOUT_FILE) && tar.has(INDEX_FILE)) return OciLayoutSource.open(tarFiles(tar), where, names);
  const bytes = await tarFiles(tar).read(ARCHIVE_MANIFEST, MAX_JSON_BYTES);
  if (bytes === undefined) throw new ImageFormatError(`${where}: neither ${ARCHIVE_MANIFEST} nor an OCI layout; is it a docker save archive?`);
  const entry = chooseEntry(parseArchiveManifest(bytes, where), names, where);
  const { root, paths } = await legacyImage(tar, entry, where);
  return new LegacyArchiveSource(where, root, tar, paths);
}

// ------------------------------------------------------------------ writing

interface Slot {
  readonly header: Buffer;
  /** Offset of the data. */
  readonly offset: number;
  readonly size: number;
  /** Data written at begin (small files); undefined for streamed blobs. */
  readonly data?: Buffer;
}

export class DockerArchiveSink implements ImageSink {
  readonly description: string;
  readonly #file: string;
  readonly #tmp: string;
  #fh: FileHandle | undefined;
  readonly #slots = new Map<string, Slot>();

  constructor(file: string) {
    this.#file = file;
    this.#tmp = join(dirname(file), `.${basename(file)}.${randomBytes(4).toString('hex')}.partial`);
    this.description = `docker archive ${file}`;
  }

  async begin(plan: PullPlan): Promise<Descriptor[]> {
    const blobs: Descriptor[] = [];
    const seen = new Set<string>();
    for (const d of [plan.image.config, ...plan.image.layers]) {
      if (seen.has(d.digest) || (d.urls !== undefined && d.urls.length > 0)) continue;
      seen.add(d.digest);
      blobs.push(d);
    }
    const { desc } = plan.manifest;
    const annotations: Record<string, string> = { [CONTAINERD_NAME]: plan.imageName };
    if (plan.tag !== '') annotations[REF_NAME] = plan.tag;
    const index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [{ mediaType: desc.mediaType, digest: desc.digest, size: desc.size, annotations }] };
    const legacy = [
      {
        Config: blobPath(plan.image.config.digest),
        RepoTags: plan.tag === '' ? [] : [`${plan.repository}:${plan.tag}`],
        Layers: plan.image.layers.filter((l) => l.urls === undefined || l.urls.length === 0).map((l) => blobPath(l.digest)),
      },
    ];
    const small: [string, Buffer][] = [
      [LAYOUT_FILE, Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' }))],
      [INDEX_FILE, Buffer.from(JSON.stringify(index))],
      [ARCHIVE_MANIFEST, Buffer.from(JSON.stringify(legacy))],
    ];
    let offset = 0;
    const place = (name: string, size: number, data?: Buffer, type: 'file' | 'dir' = 'file'): void => {
      const header = tarHeader({ name, size, type });
      this.#slots.set(name, { header, offset: offset + header.length, size, ...(data === undefined ? {} : { data }) });
      offset += header.length + size + tarPadding(size).length;
    };
    place('blobs', 0, Buffer.alloc(0), 'dir');
    place('blobs/sha256', 0, Buffer.alloc(0), 'dir');
    place(blobPath(desc.digest), plan.manifest.bytes.length, plan.manifest.bytes);
    for (const b of blobs) place(blobPath(b.digest), b.size);
    for (const [name, data] of small) place(name, data.length, data);
    const total = offset + TAR_END.length;
    const fh = await open(this.#tmp, 'w+', 0o644);
    this.#fh = fh;
    try {
      await fh.truncate(total);
      for (const s of this.#slots.values()) {
        await fh.write(s.header, 0, s.header.length, s.offset - s.header.length);
        if (s.data !== undefined && s.data.length > 0) await fh.write(s.data, 0, s.data.length, s.offset);
      }
    } catch (err) {
      await this.abort();
      throw err;
    }
    return blobs;
  }

  async writeBlob(desc: Descriptor, data: Readable, check: BlobCheck): Promise<void> {
    const slot = this.#slots.get(blobPath(desc.digest));
    if (slot === undefined || this.#fh === undefined) throw new Error(`DockerArchiveSink: blob ${desc.digest} is not in the plan`);
    if (slot.size === 0) {
      data.resume();
    } else {
      // a descriptor of its own: a failed stream closes it, and a retry must still find the archive open
      await pipeline(data, createWriteStream(this.#tmp, { flags: 'r+', start: slot.offset, highWaterMark: 1 << 20 }));
    }
    await check(this.#tmp, slot.offset);
  }

  async commit(): Promise<void> {
    const fh = this.#fh;
    if (fh === undefined) throw new Error('DockerArchiveSink.commit before begin');
    await fh.sync();
    await fh.close();
    this.#fh = undefined;
    await rename(this.#tmp, this.#file);
  }

  async abort(): Promise<void> {
    const fh = this.#fh;
    this.#fh = undefined;
    await fh?.close().catch(() => undefined);
    await rm(this.#tmp, { force: true });
  }
}

