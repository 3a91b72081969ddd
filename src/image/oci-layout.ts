/**
 * OCI image layouts (OCI Image Spec `image-layout.md`): `oci-layout`, `index.json` and
 * `blobs/<alg>/<hex>`, in a directory or inside a tar (a newer `docker save` archive is one).
 *
 * Reading (`OciLayoutSource`): the image to push is chosen from index.json by name — an entry
 * whose `org.opencontainers.image.ref.name` is the name (skopeo, buildkit) or whose
 * `io.containerd.image.name` is it (containerd, docker) — else the only entry there is. The
 * chosen manifest is read whole (≤ 4 MiB) and must hash to its digest; blobs are streamed.
 *
 * Writing (`OciLayoutSink`): blobs go to a temporary file next to their final name and are
 * renamed into place once the caller's check of the written file passed, so a layout never holds
 * a blob under a wrong name; an existing blob of the right size is not fetched again. index.json
 * is rewritten atomically at commit, replacing entries of the same name.
 *
 * Not here: `docker save`'s own manifest.json (docker-archive.ts).
 *
 * @example
 *   const src = await OciLayoutSource.open(dirFiles('./img'), './img', ['v1']);
 *   src.root.desc.digest
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { digestAlgorithm, digestHex, digestOf, type Descriptor } from './digest.ts';
import { ImageFormatError } from './errors.ts';
import { MediaType, readManifest, type ImageIndex } from './manifest.ts';
import type { TarIndex } from './tar.ts';
import type { BlobCheck, ImageSink, ImageSource, ManifestBytes, PullPlan } from './types.ts';

export const REF_NAME = 'org.opencontainers.image.ref.name';
export const CONTAINERD_NAME = 'io.containerd.image.name';
export const LAYOUT_FILE = 'oci-layout';
export const INDEX_FILE = 'index.json';
/** Largest manifest or index.json read into memory (distribution's limit too). */
export const MAX_MANIFEST_BYTES = 4 << 20;

/** Read access to the files of a layout, wherever they are. */
export interface LayoutFiles {
  /** The whole file, at most `limit` bytes; undefined when it does not exist. @throws ImageFormatError over the limit */
  read(path: string, limit: number): Promise<Buffer | undefined>;
  /** Size of a regular file, or undefined. */
  size(path: string): Promise<number | undefined>;
  stream(path: string): Readable;
}

/** The files of a layout directory. */
export function dirFiles(dir: string): LayoutFiles {
  return {
    async read(path, limit) {
      let fh;
      try {
        fh = await open(join(dir, path), 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
      try {
        const { size } = await fh.stat();
        if (size > limit) throw new ImageFormatError(`${join(dir, path)}: larger than ${limit} bytes`);
        return await fh.readFile();
      } finally {
        await fh.close();
      }
    },
    async size(path) {
      try {
        const s = await stat(join(dir, path));
        return s.isFile() ? s.size : undefined;
      } catch {
        return undefined;
      }
    },
    stream: (path) => createReadStream(join(dir, path), { highWaterMark: 1 << 20 }),
  };
}

/** The files of a layout inside a tar archive. */
export function tarFiles(tar: TarIndex): LayoutFiles {
  return {
    async read(path, limit) {
      if (!tar.has(path)) return undefined;
      const e = tar.resolve(path);
      if (e.size > limit) throw new ImageFormatError(`${tar.file}: ${path} is larger than ${limit} bytes`);
      if (e.size === 0) return Buffer.alloc(0);
      const fh = await open(tar.file, 'r');
      try {
        const buf = Buffer.alloc(e.size);
        const { bytesRead } = await fh.read(buf, 0, e.size, e.offset);
        if (bytesRead !== e.size) throw new ImageFormatError(`${tar.file}: truncated entry ${path}`);
        return buf;
      } finally {
        await fh.close();
      }
    },
    async size(path) {
      return tar.has(path) ? tar.resolve(path).size : undefined;
    },
    stream(path) {
      const e = tar.resolve(path);
      if (e.size === 0) return Readable.from([]);
      return createReadStream(tar.file, { start: e.offset, end: e.offset + e.size - 1, highWaterMark: 1 << 20 });
    },
  };
}

export function blobPath(digest: string): string {
  return `blobs/${digestAlgorithm(digest as Descriptor['digest'])}/${digestHex(digest as Descriptor['digest'])}`;
}

/** Read a manifest-sized blob and check it against its descriptor. */
async function readSmallBlob(files: LayoutFiles, desc: Descriptor, where: string): Promise<Buffer> {
  if (desc.size > MAX_MANIFEST_BYTES) throw new ImageFormatError(`${where}: manifest ${desc.digest} is larger than ${MAX_MANIFEST_BYTES} bytes`);
  const bytes = await files.read(blobPath(desc.digest), MAX_MANIFEST_BYTES);
  if (bytes === undefined) throw new ImageFormatError(`${where}: blob ${desc.digest} is missing`);
  const actual = digestOf(bytes, digestAlgorithm(desc.digest));
  if (actual !== desc.digest) throw new ImageFormatError(`${where}: blob ${desc.digest} hashes to ${actual}`);
  if (bytes.length !== desc.size) throw new ImageFormatError(`${where}: blob ${desc.digest} has ${bytes.length} bytes, the descriptor says ${desc.size}`);
  return bytes;
}

/** index.json of a layout, checked to be an OCI layout. */
export async function readLayoutIndex(files: LayoutFiles, where: string): Promise<ImageIndex> {
  const marker = await files.read(LAYOUT_FILE, 64 * 1024);
  if (marker === undefined) throw new ImageFormatError(`${where} is not an OCI image layout (no ${LAYOUT_FILE} file)`);
  let version: unknown;
  try {
    version = (JSON.parse(marker.toString('utf8')) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
  } catch (err) {
    throw new ImageFormatError(`${where}: ${LAYOUT_FILE} is not JSON`, { cause: err });
  }
  if (typeof version !== 'string' || !version.startsWith('1.')) throw new ImageFormatError(`${where}: unsupported imageLayoutVersion ${JSON.stringify(version)}`);
  const bytes = await files.read(INDEX_FILE, MAX_MANIFEST_BYTES);
  if (bytes === undefined) throw new ImageFormatError(`${where}: no ${INDEX_FILE}`);
  const parsed = readManifest(bytes, MediaType.OciIndex, `${where} ${INDEX_FILE}`);
  if (parsed.kind !== 'index') throw new ImageFormatError(`${where}: ${INDEX_FILE} is not an image index`);
  return parsed;
}

function namesOf(d: Descriptor): string[] {
  const a = d.annotations ?? {};
  return [a[REF_NAME], a[CONTAINERD_NAME]].filter((n): n is string => typeof n === 'string' && n !== '');
}

/**
 * The index.json entry for the first of `names` that some entry carries, else the only entry.
 * @throws ImageFormatError when nothing or more than one thing matches
 */
export function selectEntry(index: ImageIndex, names: readonly string[], where: string): Descriptor {
  for (const name of names) {
    const hits = index.manifests.filter((d) => namesOf(d).includes(name));
    if (hits.length >= 1) return hits[hits.length - 1] as Descriptor;
  }
  if (index.manifests.length === 1) return index.manifests[0] as Descriptor;
  const have = index.manifests.flatMap(namesOf);
  if (index.manifests.length === 0) throw new ImageFormatError(`${where} holds no images`);
  throw new ImageFormatError(
    `${where} holds ${index.manifests.length} images and none is named ${names.map((n) => JSON.stringify(n)).join(' or ')}${have.length > 0 ? ` (names: ${[...new Set(have)].join(', ')})` : ''}; choose one with --source-ref`,
  );
}

export class OciLayoutSource implements ImageSource {
  readonly description: string;
  readonly root: ManifestBytes;
  readonly #files: LayoutFiles;
  readonly #onClose: () => Promise<void>;

  private constructor(description: string, root: ManifestBytes, files: LayoutFiles, onClose: () => Promise<void>) {
    this.description = description;
    this.root = root;
    this.#files = files;
    this.#onClose = onClose;
  }

  /**
   * @param names the names to look for in index.json, first match wins
   * @throws ImageFormatError
   */
  static async open(files: LayoutFiles, description: string, names: readonly string[], onClose: () => Promise<void> = async () => {}): Promise<OciLayoutSource> {
    const index = await readLayoutIndex(files, description);
    const desc = selectEntry(index, names, description);
    const bytes = await readSmallBlob(files, desc, description);
    return new OciLayoutSource(description, { desc, bytes }, files, onClose);
  }

  readManifest(desc: Descriptor): Promise<Buffer> {
    return readSmallBlob(this.#files, desc, this.description);
  }

  async openBlob(desc: Descriptor): Promise<Readable> {
    const size = await this.#files.size(blobPath(desc.digest));
    if (size === undefined) throw new ImageFormatError(`${this.description}: blob ${desc.digest} is missing`);
    if (size !== desc.size) throw new ImageFormatError(`${this.description}: blob ${desc.digest} has ${size} bytes, the manifest says ${desc.size}`);
    return this.#files.stream(blobPath(desc.digest));
  }

  close(): Promise<void> {
    return this.#onClose();
  }
}

/** Write `bytes` to `file` through a temporary file and a rename. */
export async function writeFileAtomic(file: string, bytes: Uint8Array | string, mode = 0o644): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, bytes, { mode });
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export class OciLayoutSink implements ImageSink {
  readonly description: string;
  readonly #dir: string;
  #plan: PullPlan | undefined;

  constructor(dir: string) {
    this.#dir = dir;
    this.description = `OCI layout ${dir}`;
  }

  /** Make `dir` a layout (an empty or missing directory), or check that it is one. */
  async #prepare(): Promise<void> {
    let entries: string[];
    try {
      entries = await readdir(this.#dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      entries = [];
    }
    if (entries.length > 0 && !entries.includes(LAYOUT_FILE)) {
      throw new ImageFormatError(`${this.#dir} is neither empty nor an OCI image layout; pick another output directory`);
    }
    if (entries.includes(LAYOUT_FILE)) {
      await readLayoutIndex(dirFiles(this.#dir), this.#dir);
      return;
    }
    await mkdir(join(this.#dir, 'blobs'), { recursive: true });
    await writeFileAtomic(join(this.#dir, LAYOUT_FILE), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await writeFileAtomic(join(this.#dir, INDEX_FILE), JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] }));
  }

  async begin(plan: PullPlan): Promise<Descriptor[]> {
    await this.#prepare();
    this.#plan = plan;
    await this.#writeBytes(plan.manifest.desc, plan.manifest.bytes);
    const needed: Descriptor[] = [];
    const seen = new Set<string>();
    for (const d of [plan.image.config, ...plan.image.layers]) {
      if (seen.has(d.digest) || (d.urls !== undefined && d.urls.length > 0)) continue;
      seen.add(d.digest);
      const size = await dirFiles(this.#dir).size(blobPath(d.digest));
      if (size !== d.size) needed.push(d);
    }
    return needed;
  }

  async #writeBytes(desc: Descriptor, bytes: Buffer): Promise<void> {
    const file = join(this.#dir, blobPath(desc.digest));
    await mkdir(dirname(file), { recursive: true });
    await writeFileAtomic(file, bytes);
  }

  async writeBlob(desc: Descriptor, data: Readable, check: BlobCheck): Promise<void> {
    const file = join(this.#dir, blobPath(desc.digest));
    await mkdir(dirname(file), { recursive: true });
    const tmp = join(dirname(file), `.${digestHex(desc.digest)}.${randomBytes(4).toString('hex')}.partial`);
    try {
      await pipeline(data, createWriteStream(tmp, { highWaterMark: 1 << 20 }));
      await check(tmp, 0);
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async commit(): Promise<void> {
    const plan = this.#plan;
    if (plan === undefined) throw new Error('OciLayoutSink.commit before begin');
    const indexFile = join(this.#dir, INDEX_FILE);
    const doc = JSON.parse(await readFile(indexFile, 'utf8')) as { manifests?: unknown[] } & Record<string, unknown>;
    const annotations: Record<string, string> = { [CONTAINERD_NAME]: plan.imageName };
    if (plan.tag !== '') annotations[REF_NAME] = plan.tag;
    const keep = (Array.isArray(doc.manifests) ? doc.manifests : []).filter((m) => {
      const a = (m as { annotations?: Record<string, unknown> }).annotations ?? {};
      return a[CONTAINERD_NAME] !== plan.imageName && (plan.tag === '' || a[REF_NAME] !== plan.tag);
    });
    const { desc } = plan.manifest;
    keep.push({ mediaType: desc.mediaType, digest: desc.digest, size: desc.size, annotations });
    await writeFileAtomic(indexFile, JSON.stringify({ ...doc, schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: keep }));
  }

  async abort(): Promise<void> {
    // verified blobs may stay (content-addressed, harmless); index.json was not touched
  }
}
