import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gc, gcStore } from './gc.ts';
import { MediaType } from './manifest.ts';
import { digestOf, type Digest } from './names.ts';
import { bytes, putBlob } from './store/conformance.ts';
import { FsRegistryStore } from './store/fs-store.ts';
import { MemoryRegistryStore } from './store/memory-store.ts';
import type { RegistryStore } from './store/types.ts';

const HOUR = 3_600_000;
const later = (): number => Date.now() + 2 * HOUR;

interface Pushed {
  readonly digest: Digest;
  readonly blobs: Digest[];
}

async function pushImage(s: RegistryStore, repo: string, tags: string[], layers: Uint8Array[], extra: Record<string, unknown> = {}): Promise<Pushed> {
  const blobs: Digest[] = [];
  const descs = [];
  for (const l of layers) {
    const d = await putBlob(s, repo, l);
    blobs.push(d);
    descs.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d, size: l.byteLength });
  }
  const cfg = Buffer.from(`config ${repo} ${JSON.stringify(extra)} ${blobs.join()}`);
  const cfgDigest = await putBlob(s, repo, cfg);
  blobs.push(cfgDigest);
  const body = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfgDigest, size: cfg.length }, layers: descs, ...extra }),
  );
  const digest = digestOf(body);
  const subject = (extra['subject'] as { digest?: Digest } | undefined)?.digest;
  await s.putManifest(
    repo,
    {
      digest,
      mediaType: MediaType.OciManifest,
      bytes: body,
      ...(subject === undefined ? {} : { referrer: { subject, descriptor: { mediaType: MediaType.OciManifest, digest, size: body.length } } }),
    },
    tags,
  );
  return { digest, blobs };
}

async function stored(s: RegistryStore): Promise<Set<Digest>> {
  const out = new Set<Digest>();
  for await (const b of s.listBlobs()) out.add(b.digest);
  return out;
}

describe('gc', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'vouch-registry-gc-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('keeps what tags need, deletes untagged manifests and blobs nothing needs, keeps shared layers', async () => {
    const dir = join(root, 'tags');
    const s = new FsRegistryStore({ root: dir });
    const shared = bytes(5000, 1);
    const kept = await pushImage(s, 'a/app', ['v2'], [shared, bytes(100, 2)]);
    const old = await pushImage(s, 'a/app', ['v1'], [shared, bytes(100, 3)]);
    await s.deleteTag('a/app', 'v1');
    const report = await gc(dir, { now: later });
    assert.deepEqual(report.manifestsDeleted, [{ repo: 'a/app', digest: old.digest }]);
    const left = await stored(s);
    for (const d of [...kept.blobs, kept.digest]) assert.ok(left.has(d), `kept ${d}`);
    for (const d of [old.digest, ...old.blobs.filter((b) => !kept.blobs.includes(b))]) assert.ok(!left.has(d), `deleted ${d}`);
    assert.equal(report.blobsDeleted.length, 3, 'old manifest, its own layer and config');
    assert.ok(report.bytesFreed > 0);
    assert.equal(await s.statManifest('a/app', old.digest), null);
    assert.ok((await s.getManifest('a/app', kept.digest)) !== null);
    assert.deepEqual((await s.listBlobLinks('a/app')).filter((d) => !left.has(d)), [], 'no link points at a deleted blob');
  });

  it('keeps what `keep` vouches for (a signed digest whose tag moved) and the referrers of kept manifests', async () => {
    const s = new MemoryRegistryStore();
    const signed = await pushImage(s, 'a/app', ['v1'], [bytes(10, 4)]);
    const unsigned = await pushImage(s, 'a/app', [], [bytes(10, 5)]);
    await pushImage(s, 'a/app', ['v1'], [bytes(10, 6)]); // v1 moves on
    const sig = await pushImage(s, 'a/app', [], [bytes(10, 7)], { subject: { mediaType: MediaType.OciManifest, digest: signed.digest, size: 1 } });
    const sigOfGone = await pushImage(s, 'a/app', [], [bytes(10, 8)], { subject: { mediaType: MediaType.OciManifest, digest: unsigned.digest, size: 1 } });
    const asked: string[] = [];
    const report = await gcStore(s, { now: later, keep: (repo, d) => (asked.push(`${repo}@${d}`), d === signed.digest) });
    assert.ok(asked.includes(`a/app@${signed.digest}`));
    assert.deepEqual(new Set(report.manifestsDeleted.map((m) => m.digest)), new Set([unsigned.digest, sigOfGone.digest]));
    const left = await stored(s);
    for (const d of [signed.digest, ...signed.blobs, sig.digest, ...sig.blobs]) assert.ok(left.has(d));
    assert.deepEqual((await s.listReferrers('a/app', signed.digest)).map((r) => r.digest), [sig.digest]);
    assert.deepEqual(await s.listReferrers('a/app', unsigned.digest), []);
  });

  it('keeps the children of a tagged index', async () => {
    const s = new MemoryRegistryStore();
    const amd = await pushImage(s, 'a/multi', [], [bytes(10, 9)]);
    const arm = await pushImage(s, 'a/multi', [], [bytes(10, 10)]);
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [amd, arm].map((m) => ({ mediaType: MediaType.OciManifest, digest: m.digest, size: 1 })) }));
    await s.putManifest('a/multi', { digest: digestOf(index), mediaType: MediaType.OciIndex, bytes: index }, ['latest']);
    const report = await gcStore(s, { now: later });
    assert.deepEqual(report.manifestsDeleted, []);
    assert.deepEqual(report.blobsDeleted, []);
  });

  it('within the grace period nothing young is touched; dryRun reports without deleting', async () => {
    const s = new MemoryRegistryStore();
    const young = await pushImage(s, 'a/new', [], [bytes(10, 11)]);
    assert.deepEqual(await gcStore(s), { manifestsDeleted: [], blobsDeleted: [], bytesFreed: 0, uploadsRemoved: 0 });
    await s.createUpload('a/new');
    const dry = await gcStore(s, { now: later, dryRun: true, uploadMaxAgeMs: HOUR });
    assert.deepEqual(dry.manifestsDeleted, [{ repo: 'a/new', digest: young.digest }]);
    assert.equal(dry.uploadsRemoved, 1);
    assert.ok((await s.statManifest('a/new', young.digest)) !== null);
    assert.equal((await stored(s)).size, 3);
    assert.equal((await s.listUploads()).length, 1);
    await gcStore(s, { now: later, uploadMaxAgeMs: HOUR });
    assert.equal((await stored(s)).size, 0);
    assert.equal((await s.listUploads()).length, 0);
  });

  it('a manifest that cannot be parsed stops the run before anything is deleted', async () => {
    const s = new MemoryRegistryStore();
    const doomed = await pushImage(s, 'a/x', [], [bytes(10, 12)]);
    const junk = Buffer.from('not json');
    await s.putManifest('a/x', { digest: digestOf(junk), mediaType: MediaType.OciManifest, bytes: junk }, ['broken']);
    await assert.rejects(gcStore(s, { now: later }), /cannot parse manifest/);
    assert.ok((await s.statManifest('a/x', doomed.digest)) !== null);
    assert.equal((await stored(s)).size, 4);
  });
});
