/**
 * Local image formats: tar headers read back by GNU tar and by our index, OCI layouts read and
 * written, docker archives read (skopeo's older format, docker 25's layout-in-a-tar) and
 * written (read back by skopeo), and the verifying stream.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { buildLayout, dockerArchiveOf, filesOfTar, imageFilesVia, sha256, assertSameFiles } from '../../test/image/support.ts';
import { DigestMismatchError, SizeMismatchError } from './errors.ts';
import { blobsOf, readManifest } from './manifest.ts';
import { DockerArchiveSink, openDockerArchive } from './docker-archive.ts';
import { dirFiles, OciLayoutSink, OciLayoutSource } from './oci-layout.ts';
import { indexTar, TAR_END, tarHeader, tarPadding } from './tar.ts';
import { verifyingStream, type Digest } from './digest.ts';
import { hashPool } from './hash-pool.ts';
import type { ImageSink, ImageSource, PullPlan } from './types.ts';

const run = promisify(execFile);
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-image-local-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** The check a pull gives a sink: the written bytes hashed on the pool's worker. */
function checkWith(d: { digest: Digest; size: number }): (file: string, offset: number) => Promise<void> {
  return async (file, offset) => {
    const actual = `sha256:${await hashPool().hashFile(file, offset, d.size, 'sha256')}`;
    if (actual !== d.digest) throw new DigestMismatchError('blob', d.digest, actual);
  };
}

/** Copy an image from a source into a sink the way a pull would, verifying each blob. */
async function copy(source: ImageSource, sink: ImageSink, plan: Omit<PullPlan, 'manifest' | 'image'>): Promise<void> {
  const image = readManifest(source.root.bytes, source.root.desc.mediaType, 'root');
  assert.equal(image.kind, 'image');
  if (image.kind !== 'image') return;
  const need = await sink.begin({ ...plan, manifest: source.root, image });
  for (const d of need) await sink.writeBlob(d, (await source.openBlob(d)).pipe(verifyingStream(d, d.digest)), checkWith(d));
  await sink.commit();
}

describe('tar', () => {
  it('writes headers GNU tar reads, long names and all, and indexes them back', async () => {
    const long = `${'d'.repeat(60)}/${'n'.repeat(80)}.bin`;
    const files: [string, Buffer][] = [
      ['a.txt', Buffer.from('hello')],
      [long, Buffer.from('long name')],
      ['empty', Buffer.alloc(0)],
      ['block', Buffer.alloc(512, 7)],
    ];
    const parts: Buffer[] = [tarHeader({ name: 'sub', size: 0, type: 'dir' })];
    for (const [n, d] of files) parts.push(tarHeader({ name: n, size: d.length }), d, tarPadding(d.length));
    parts.push(TAR_END);
    const file = join(dir, 't.tar');
    await writeFile(file, Buffer.concat(parts));
    const { stdout } = await run('tar', ['tf', file]);
    assert.deepEqual(stdout.trim().split('\n'), ['sub/', ...files.map(([n]) => n)]);
    const idx = await indexTar(file);
    const bytes = await readFile(file);
    for (const [n, d] of files) {
      const e = idx.resolve(n);
      assert.equal(e.size, d.length);
      assert.ok(bytes.subarray(e.offset, e.offset + e.size).equals(d), n);
    }
    assert.equal(idx.entries.get('sub')?.type, 'dir');
  });

  it('indexes what GNU tar writes (ustar prefix, GNU long names, symlinks) and refuses junk', async () => {
    const src = join(dir, 'gnu');
    await mkdir(join(src, 'x'.repeat(120)), { recursive: true });
    await writeFile(join(src, 'x'.repeat(120), 'f'), 'deep');
    await run('ln', ['-s', `${'x'.repeat(120)}/f`, join(src, 'link')]);
    const file = join(dir, 'gnu.tar');
    await run('tar', ['cf', file, '-C', src, '.']);
    const idx = await indexTar(file);
    const e = idx.resolve('link');
    assert.equal((await readFile(file)).subarray(e.offset, e.offset + e.size).toString(), 'deep');
    await writeFile(join(dir, 'junk.tar'), Buffer.alloc(2048, 1));
    await assert.rejects(indexTar(join(dir, 'junk.tar')), /not a tar archive/);
    await writeFile(join(dir, 'gz.tar'), Buffer.from([0x1f, 0x8b, 8, 0, ...Buffer.alloc(600)]));
    await assert.rejects(indexTar(join(dir, 'gz.tar')), /gzip-compressed/);
    await writeFile(join(dir, 'cut.tar'), (await readFile(file)).subarray(0, 700));
    await assert.rejects(indexTar(join(dir, 'cut.tar')), /truncated/);
  });
});

describe('verifying stream', () => {
  const data = Buffer.from('some blob bytes');
  const good = { digest: sha256(data) as Digest, size: data.length };

  it('passes the right bytes through', async () => {
    assert.ok((await readAll(Readable.from([data]).pipe(verifyingStream(good, 'b')))).equals(data));
  });
  it('fails on other bytes of the same size, on too few and on too many', async () => {
    await assert.rejects(readAll(Readable.from([Buffer.from('Some blob bytes')]).pipe(verifyingStream(good, 'b'))), DigestMismatchError);
    await assert.rejects(readAll(Readable.from([data.subarray(1)]).pipe(verifyingStream(good, 'b'))), SizeMismatchError);
    await assert.rejects(pipeline(Readable.from([data, Buffer.from('x')]), verifyingStream(good, 'b'), async function* (s) {
      for await (const c of s) yield c;
    }), SizeMismatchError);
  });
});

describe('OCI layout and docker archive', () => {
  it('reads a layout by ref name, the only image otherwise, and says which names there are', async () => {
    const img = await buildLayout(join(dir, 'l1'), { tag: 'v1', layers: [{ files: 2, bytes: 3000 }, { files: 1, bytes: 10 }] });
    const src = await OciLayoutSource.open(dirFiles(img.dir), 'layout', ['nope', 'v1']);
    assert.equal(src.root.desc.digest, img.digest);
    const only = await OciLayoutSource.open(dirFiles(img.dir), 'layout', ['other']);
    assert.equal(only.root.desc.digest, img.digest);
    // two images: a name is needed
    const sink = new OciLayoutSink(img.dir);
    await copy(only, sink, { imageName: 'r/x:v2', tag: 'v2', repository: 'r/x' });
    await assert.rejects(OciLayoutSource.open(dirFiles(img.dir), 'layout', ['v3']), /holds 2 images and none is named "v3" \(names: v1, v2, r\/x:v2\)/);
    assert.equal((await OciLayoutSource.open(dirFiles(img.dir), 'layout', ['r/x:v2'])).root.desc.digest, img.digest);
  });

  it('refuses a layout whose manifest does not match its digest, or that is missing a blob', async () => {
    const img = await buildLayout(join(dir, 'l2'), { tag: 'v1', layers: [{ files: 1, bytes: 100 }] });
    const src = await OciLayoutSource.open(dirFiles(img.dir), 'layout', ['v1']);
    const layer = readManifest(src.root.bytes, src.root.desc.mediaType, 'm');
    assert.equal(layer.kind, 'image');
    await rm(join(img.dir, 'blobs', 'sha256', (img.layerDigests[0] as string).slice(7)));
    await assert.rejects(src.openBlob(layer.kind === 'image' ? (layer.layers[0] as never) : (undefined as never)), /blob sha256:[a-f0-9]+ is missing/);
    await writeFile(join(img.dir, 'blobs', 'sha256', img.digest.slice(7)), Buffer.concat([img.manifest.subarray(0, -1), Buffer.from(' ')]));
    await assert.rejects(OciLayoutSource.open(dirFiles(img.dir), 'layout', ['v1']), /hashes to sha256:/);
    await assert.rejects(OciLayoutSource.open(dirFiles(dir), 'not-a-layout', []), /is not an OCI image layout/);
  });

  it('reads the archive skopeo writes as docker save did, and an archive it wrote itself; skopeo reads what it writes', async () => {
    const img = await buildLayout(join(dir, 'l3'), { tag: 'v1', layers: [{ files: 3, bytes: 5000 }, { files: 2, bytes: 700 }] });
    const archive = join(dir, 'old.tar');
    await dockerArchiveOf(dir, img.dir, 'v1', archive, 'example.com/app:v1');
    const src = await openDockerArchive(archive, ['example.com/app:v1']);
    const m = readManifest(src.root.bytes, src.root.desc.mediaType, 'm');
    assert.equal(m.kind, 'image');
    if (m.kind !== 'image') return;
    assert.equal(m.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    assert.deepEqual(m.layers.map((l) => l.mediaType), ['application/vnd.docker.image.rootfs.diff.tar', 'application/vnd.docker.image.rootfs.diff.tar']);
    // the plain layers are the tars whose digests are the config's diff_ids
    const files = new Map<string, Buffer>();
    for (const l of m.layers) {
      const bytes = await readAll(await src.openBlob(l));
      assert.equal(sha256(bytes), l.digest);
      for (const [k, v] of filesOfTar(bytes)) files.set(k, v);
    }
    assertSameFiles(files, img.files);

    // archive → docker archive (our writer) → skopeo → same files
    const out = join(dir, 'new.tar');
    await copy(src, new DockerArchiveSink(out), { imageName: 'example.com/app:v1', tag: 'v1', repository: 'example.com/app' });
    const back = await imageFilesVia(dir, `docker-archive:${out}`, join(dir, 'via-skopeo'));
    assertSameFiles(back.files, img.files);
    // and our reader takes the layout inside it, keeping the manifest's digest
    const again = await openDockerArchive(out, ['v1']);
    assert.equal(again.root.desc.digest, src.root.desc.digest);
    const manifestJson = JSON.parse((await run('tar', ['xOf', out, 'manifest.json'])).stdout) as { RepoTags: string[]; Layers: string[] }[];
    assert.deepEqual(manifestJson[0]?.RepoTags, ['example.com/app:v1']);
    assert.equal(manifestJson[0]?.Layers.length, 2);
  });

  it('an aborted archive leaves nothing behind; a blob with wrong bytes fails the write', async () => {
    const img = await buildLayout(join(dir, 'l4'), { tag: 'v1', layers: [{ files: 1, bytes: 2000 }] });
    const src = await OciLayoutSource.open(dirFiles(img.dir), 'layout', ['v1']);
    const m = readManifest(src.root.bytes, src.root.desc.mediaType, 'm');
    if (m.kind !== 'image') throw new Error('not an image');
    const out = join(dir, 'aborted.tar');
    const sink = new DockerArchiveSink(out);
    const need = await sink.begin({ manifest: src.root, image: m, imageName: 'x:v1', tag: 'v1', repository: 'x' });
    const layer = blobsOf(m)[1];
    assert.ok(layer !== undefined && need.some((d) => d.digest === layer.digest));
    const wrong = Readable.from([Buffer.alloc(layer.size, 1)]).pipe(verifyingStream(layer, 'layer'));
    await assert.rejects(sink.writeBlob(layer, wrong, checkWith(layer)), DigestMismatchError);
    // only counted in the stream: the check of the written bytes catches it
    const counted = Readable.from([Buffer.alloc(layer.size, 1)]).pipe(verifyingStream(layer, 'layer', { hash: false }));
    await assert.rejects(sink.writeBlob(layer, counted, checkWith(layer)), DigestMismatchError);
    await sink.abort();
    const left = (await run('ls', ['-a', dir])).stdout;
    assert.doesNotMatch(left, /aborted/);
  });
});
