/**
 * Test images for `vouch push`/`pull` tests, made here: layers are tars of files with random
 * bytes (gzip'd or not), written into an OCI image layout; a `docker save` archive of the same
 * image comes from skopeo (`docker-archive:`), which writes the older archive format.
 *
 * And the other direction: `imageFiles(dir | archive)` reads an image back — every file of
 * every layer — so a test can say "the files pulled are the files pushed".
 *
 * Example:
 *   const img = await buildLayout(join(dir, 'img'), { tag: 'v1', layers: [{ files: 2, bytes: 1000 }] });
 *   img.files // Map path → Buffer of everything in the image
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { BlobMediaType, MediaType, TAR_END, tarHeader, tarPadding } from '../../src/image/index.ts';
import { describeResult, runCommand } from '../support/exec.ts';

export function sha256(bytes: Uint8Array | string): string {
  return 'sha256:' + createHash('sha256').update(bytes).digest('hex');
}

/** A tar of the given files. */
export function tarOf(files: ReadonlyMap<string, Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, data] of files) parts.push(tarHeader({ name, size: data.length }), data, tarPadding(data.length));
  parts.push(TAR_END);
  return Buffer.concat(parts);
}

/** The regular files of an (uncompressed or gzip'd) tar held in memory. */
export function filesOfTar(blob: Buffer): Map<string, Buffer> {
  const tar = blob[0] === 0x1f && blob[1] === 0x8b ? gunzipSync(blob) : blob;
  const out = new Map<string, Buffer>();
  let off = 0;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(h.subarray(124, 136).toString('ascii').replace(/\0.*$/s, '').trim() || '0', 8);
    const type = String.fromCharCode(h[156] as number);
    if (type === '0' || type === '\0') out.set(name, Buffer.from(tar.subarray(off + 512, off + 512 + size)));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

export interface LayerSpec {
  readonly files: number;
  readonly bytes: number;
}

export interface BuiltImage {
  readonly dir: string;
  readonly tag: string;
  /** Digest of the image manifest. */
  readonly digest: string;
  readonly manifest: Buffer;
  readonly configDigest: string;
  readonly layerDigests: readonly string[];
  /** Every file of every layer, by path (paths are unique across layers). */
  readonly files: ReadonlyMap<string, Buffer>;
}

async function putBlob(dir: string, bytes: Buffer): Promise<string> {
  const d = sha256(bytes);
  await writeFile(join(dir, 'blobs', 'sha256', d.slice(7)), bytes);
  return d;
}

/**
 * An OCI layout at `dir` with one image (tagged `tag` by ref.name), its layers made of random
 * files. `gzip: false` keeps layers as plain tars.
 */
export async function buildLayout(dir: string, o: { tag: string; layers: readonly LayerSpec[]; gzip?: boolean; seed?: string }): Promise<BuiltImage> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const gzip = o.gzip ?? true;
  const all = new Map<string, Buffer>();
  const layers: { mediaType: string; digest: string; size: number }[] = [];
  const diffIds: string[] = [];
  for (const [i, spec] of o.layers.entries()) {
    const files = new Map<string, Buffer>();
    for (let f = 0; f < spec.files; f++) {
      const name = `layer${i}/${o.seed ?? 'f'}-${f}.bin`;
      const data = randomBytes(spec.bytes);
      files.set(name, data);
      all.set(name, data);
    }
    const tar = tarOf(files);
    diffIds.push(sha256(tar));
    const blob = gzip ? gzipSync(tar, { level: 1 }) : tar;
    layers.push({ mediaType: gzip ? BlobMediaType.OciLayerGzip : BlobMediaType.OciLayer, digest: await putBlob(dir, blob), size: blob.length });
  }
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Env: [`SEED=${o.seed ?? ''}`] }, rootfs: { type: 'layers', diff_ids: diffIds } }));
  const configDigest = await putBlob(dir, config);
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: BlobMediaType.OciConfig, digest: configDigest, size: config.length }, layers }),
  );
  const digest = await putBlob(dir, manifest);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MediaType.OciManifest, digest, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': o.tag } }] }),
  );
  return { dir, tag: o.tag, digest, manifest, configDigest, layerDigests: layers.map((l) => l.digest), files: all };
}

/** Environment for skopeo that reads no user config. */
export function skopeoEnv(home: string): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, XDG_RUNTIME_DIR: home, REGISTRY_AUTH_FILE: join(home, 'skopeo-auth.json') };
}

export async function skopeo(home: string, args: readonly string[]): Promise<string> {
  const r = await runCommand('skopeo', args, { env: skopeoEnv(home), timeoutMs: 300_000 });
  assert.equal(r.code, 0, describeResult(['skopeo', ...args], r));
  return r.stdout;
}

/** A `docker save`-style archive of a layout's image, written by skopeo (older format: manifest.json, plain layer tars). */
export async function dockerArchiveOf(home: string, layout: string, tag: string, file: string, repoTag: string): Promise<void> {
  await skopeo(home, ['copy', '--quiet', `oci:${layout}:${tag}`, `docker-archive:${file}:${repoTag}`]);
}

/**
 * Every file in the image a layout holds under `ref` (or the only one): skopeo copies it to a
 * `dir:` (checking digests as it goes) and each layer is unpacked in memory.
 */
export async function imageFilesVia(home: string, transport: string, out: string): Promise<{ files: Map<string, Buffer>; manifest: Buffer }> {
  await skopeo(home, ['copy', '--quiet', transport, `dir:${out}`]);
  const manifest = await readFile(join(out, 'manifest.json'));
  const m = JSON.parse(manifest.toString('utf8')) as { layers: { digest: string }[] };
  const files = new Map<string, Buffer>();
  for (const l of m.layers) for (const [k, v] of filesOfTar(await readFile(join(out, l.digest.slice(7))))) files.set(k, v);
  return { files, manifest };
}

/** Assert two file maps are the same files with the same bytes. */
export function assertSameFiles(actual: ReadonlyMap<string, Buffer>, expected: ReadonlyMap<string, Buffer>): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort());
  for (const [k, v] of expected) assert.ok(actual.get(k)?.equals(v), `file ${k} differs`);
}

/**
 * A plain-http proxy in front of a registry that can rewrite responses: `tamper(path)` returns a
 * function applied to each body chunk of matching GET responses (e.g. flip one byte of a blob).
 */
export async function startTamperingProxy(upstream: string, tamper: (method: string, path: string) => ((chunk: Buffer) => Buffer) | undefined): Promise<{ host: string; close(): Promise<void> }> {
  const { createServer, request } = await import('node:http');
  const { once } = (await import('node:events')) as unknown as { once: (e: unknown, n: string) => Promise<unknown> };
  const up = new URL(upstream);
  const server = createServer((req, res) => {
    const f = tamper(req.method ?? 'GET', req.url ?? '/');
    const headers = { ...req.headers, host: up.host };
    const out = request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers }, (upRes) => {
      const h = { ...upRes.headers };
      res.writeHead(upRes.statusCode ?? 502, h);
      upRes.on('data', (c: Buffer) => res.write(f === undefined ? c : f(c)));
      upRes.on('end', () => res.end());
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  const host = `127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`;
  return {
    host,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
