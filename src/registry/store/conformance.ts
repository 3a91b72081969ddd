/**
 * The `RegistryStore` conformance suite (types.ts): every backend runs it, in one line:
 *
 *   runRegistryStoreConformance('memory', async () => ({ store: new MemoryRegistryStore(), cleanup: async () => {} }));
 *
 * Each test gets a fresh, empty store. The suite assumes nothing beyond the contracts: errors
 * are compared by OCI code (and status where the contract names one), listings by content.
 */
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { RegistryApiError, type OciErrorCode } from '../errors.ts';
import { digestOf, type Digest } from '../names.ts';
import type { PutManifestInput, RegistryStore } from './types.ts';

export interface StoreUnderTest {
  readonly store: RegistryStore;
  cleanup(): Promise<void>;
}
export type StoreFactory = () => Promise<StoreUnderTest>;

const REPO = 'conformance/app';
const OTHER = 'conformance/other';

export function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
}

/** An async source of `data` in chunks of `chunk` bytes. */
export function chunks(data: Uint8Array, chunk = 1000): AsyncIterable<Uint8Array> {
  return (async function* () {
    for (let i = 0; i < data.byteLength; i += chunk) yield data.subarray(i, i + chunk);
  })();
}

/** A source that yields `data` and then fails, like a request whose client went away. */
export function failingAfter(data: Uint8Array): AsyncIterable<Uint8Array> {
  return (async function* () {
    yield data;
    throw new Error('aborted');
  })();
}

export async function rejectsWith(p: Promise<unknown>, code: OciErrorCode, status?: number): Promise<RegistryApiError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof RegistryApiError, `expected RegistryApiError ${code}, got ${String(err)}`);
    assert.equal(err.oci, code);
    if (status !== undefined) assert.equal(err.status, status);
    return err;
  }
  assert.fail(`expected ${code}`);
}

async function readAll(r: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of r) out.push(c as Buffer);
  return Buffer.concat(out);
}

async function copyAll(store: RegistryStore, d: Digest, start?: number, end?: number): Promise<Buffer> {
  const blob = await store.openBlob(d);
  assert.ok(blob !== null);
  const out: Buffer[] = [];
  const sink = new Writable({ write: (c: Buffer, _e, cb) => (out.push(Buffer.from(c)), cb()) });
  await blob.copyTo(sink, start, end);
  return Buffer.concat(out);
}

/** Upload `data` in one append and commit it; returns its digest. */
export async function putBlob(store: RegistryStore, repo: string, data: Uint8Array): Promise<Digest> {
  const s = await store.createUpload(repo);
  await store.appendUpload(repo, s.id, 0, chunks(data));
  const d = digestOf(data);
  await store.commitUpload(repo, s.id, d);
  return d;
}

function manifest(json: unknown, referrer?: { subject: Digest; artifactType?: string }): PutManifestInput {
  const b = Buffer.from(JSON.stringify(json));
  const digest = digestOf(b);
  const mediaType = 'application/vnd.oci.image.manifest.v1+json';
  return {
    digest,
    mediaType,
    bytes: b,
    ...(referrer === undefined
      ? {}
      : { referrer: { subject: referrer.subject, descriptor: { mediaType, digest, size: b.byteLength, ...(referrer.artifactType === undefined ? {} : { artifactType: referrer.artifactType }) } } }),
  };
}

export function runRegistryStoreConformance(name: string, factory: StoreFactory): void {
  const test = (title: string, fn: (s: RegistryStore) => Promise<void>): void => {
    it(title, async () => {
      const { store, cleanup } = await factory();
      try {
        await fn(store);
      } finally {
        await cleanup();
      }
    });
  };

  describe(`RegistryStore conformance: ${name}`, () => {
    test('an upload in chunks becomes a readable, linked blob only at commit', async (s) => {
      const data = bytes(300_000);
      const d = digestOf(data);
      const up = await s.createUpload(REPO);
      assert.equal(up.size, 0);
      assert.equal(await s.appendUpload(REPO, up.id, 0, chunks(data.subarray(0, 100_000))), 100_000);
      assert.equal((await s.getUpload(REPO, up.id))?.size, 100_000);
      assert.equal(await s.statBlob(d), null, 'nothing visible before commit');
      assert.equal(await s.appendUpload(REPO, up.id, 100_000, chunks(data.subarray(100_000), 65_536)), 300_000);
      assert.deepEqual(await s.commitUpload(REPO, up.id, d), { size: 300_000 });
      assert.equal(await s.statBlob(d), 300_000);
      assert.equal(await s.hasBlob(REPO, d), true);
      assert.equal(await s.hasBlob(OTHER, d), false, 'not linked elsewhere');
      assert.equal(await s.getUpload(REPO, up.id), null, 'the session ended');
      const blob = await s.openBlob(d);
      assert.ok(blob !== null);
      assert.equal(blob.size, 300_000);
      assert.deepEqual(await readAll(blob.stream()), data);
      assert.deepEqual(await copyAll(s, d), data);
      assert.deepEqual(await copyAll(s, d, 10, 299_999), data.subarray(10, 300_000));
      assert.deepEqual(await copyAll(s, d, 5, 9), data.subarray(5, 10));
    });

    test('a wrong digest stores nothing and ends the session', async (s) => {
      const data = bytes(5000);
      const up = await s.createUpload(REPO);
      await s.appendUpload(REPO, up.id, 0, chunks(data));
      const wrong = digestOf(bytes(5000, 2));
      await rejectsWith(s.commitUpload(REPO, up.id, wrong), 'DIGEST_INVALID');
      assert.equal(await s.statBlob(wrong), null);
      assert.equal(await s.statBlob(digestOf(data)), null);
      assert.equal(await s.getUpload(REPO, up.id), null);
    });

    test('sha512 digests are verified too', async (s) => {
      const data = bytes(70_000);
      const up = await s.createUpload(REPO);
      await s.appendUpload(REPO, up.id, 0, chunks(data));
      const d = digestOf(data, 'sha512');
      await s.commitUpload(REPO, up.id, d);
      assert.equal(await s.statBlob(d), 70_000);
    });

    test('an out-of-order append is 416 with the current range and changes nothing', async (s) => {
      const up = await s.createUpload(REPO);
      await s.appendUpload(REPO, up.id, 0, chunks(bytes(10)));
      const err = await rejectsWith(s.appendUpload(REPO, up.id, 5, chunks(bytes(10))), 'BLOB_UPLOAD_INVALID', 416);
      assert.equal(err.headers['Range'], '0-9');
      assert.equal((await s.getUpload(REPO, up.id))?.size, 10);
    });

    test('a failed or short append is rolled back and can be resent', async (s) => {
      const data = bytes(200_000);
      const up = await s.createUpload(REPO);
      await s.appendUpload(REPO, up.id, 0, chunks(data.subarray(0, 50_000)));
      await assert.rejects(s.appendUpload(REPO, up.id, 50_000, failingAfter(data.subarray(50_000, 120_000))));
      assert.equal((await s.getUpload(REPO, up.id))?.size, 50_000);
      await rejectsWith(s.appendUpload(REPO, up.id, 50_000, chunks(data.subarray(50_000, 60_000)), { expectedLength: 20_000 }), 'SIZE_INVALID');
      assert.equal((await s.getUpload(REPO, up.id))?.size, 50_000);
      await rejectsWith(s.appendUpload(REPO, up.id, 50_000, chunks(data.subarray(50_000)), { maxSize: 100_000 }), 'SIZE_INVALID');
      assert.equal((await s.getUpload(REPO, up.id))?.size, 50_000);
      await s.appendUpload(REPO, up.id, 50_000, chunks(data.subarray(50_000)), { expectedLength: 150_000 });
      await s.commitUpload(REPO, up.id, digestOf(data));
      assert.deepEqual(await copyAll(s, digestOf(data)), data);
    });

    test('appends on one session are serialized', async (s) => {
      const up = await s.createUpload(REPO);
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const slow = (async function* () {
        yield bytes(10);
        await gate;
        yield bytes(10, 3);
      })();
      const first = s.appendUpload(REPO, up.id, 0, slow);
      await new Promise((r) => setTimeout(r, 20));
      await rejectsWith(s.appendUpload(REPO, up.id, 0, chunks(bytes(5))), 'TOOMANYREQUESTS');
      release();
      assert.equal(await first, 20);
    });

    test('sessions belong to their repository and can be cancelled', async (s) => {
      const up = await s.createUpload(REPO);
      assert.equal(await s.getUpload(OTHER, up.id), null);
      await rejectsWith(s.appendUpload(OTHER, up.id, 0, chunks(bytes(3))), 'BLOB_UPLOAD_UNKNOWN');
      assert.equal(await s.getUpload(REPO, 'no-such-session'), null);
      assert.equal((await s.listUploads()).some((u) => u.id === up.id && u.repo === REPO), true);
      assert.equal(await s.cancelUpload(OTHER, up.id), false);
      assert.equal(await s.cancelUpload(REPO, up.id), true);
      assert.equal(await s.getUpload(REPO, up.id), null);
      await rejectsWith(s.commitUpload(REPO, up.id, digestOf(bytes(1))), 'BLOB_UPLOAD_UNKNOWN');
    });

    test('links: a stored blob can be linked elsewhere, unlinked, and deleted', async (s) => {
      const d = await putBlob(s, REPO, bytes(1234));
      await rejectsWith(s.linkBlob(OTHER, digestOf(bytes(1))), 'BLOB_UNKNOWN');
      await s.linkBlob(OTHER, d);
      assert.equal(await s.hasBlob(OTHER, d), true);
      assert.deepEqual(await s.listBlobLinks(OTHER), [d]);
      assert.equal(await s.unlinkBlob(OTHER, d), true);
      assert.equal(await s.unlinkBlob(OTHER, d), false);
      assert.equal(await s.hasBlob(OTHER, d), false);
      const listed = [];
      for await (const b of s.listBlobs()) listed.push(b);
      assert.deepEqual(listed.map((b) => [b.digest, b.size]), [[d, 1234]]);
      assert.equal(await s.deleteBlob(d), true);
      assert.equal(await s.statBlob(d), null);
      assert.equal(await s.hasBlob(REPO, d), false, 'a link to a deleted blob serves nothing');
      assert.equal(await s.openBlob(d), null);
    });

    test('manifests, tags and referrers', async (s) => {
      const image = manifest({ schemaVersion: 2, n: 1 });
      const sig = manifest({ schemaVersion: 2, n: 2 }, { subject: image.digest, artifactType: 'application/vnd.example.sig' });
      await s.putManifest(REPO, image, ['v1', 'latest', 'V0']);
      await s.putManifest(REPO, sig, []);
      assert.equal(await s.resolveTag(REPO, 'v1'), image.digest);
      assert.equal(await s.resolveTag(OTHER, 'v1'), null);
      assert.deepEqual(await s.listTags(REPO), ['V0', 'latest', 'v1']);
      assert.equal(await s.listTags(OTHER), null);
      const got = await s.getManifest(REPO, image.digest);
      assert.deepEqual(got && Buffer.from(got.bytes), Buffer.from(image.bytes));
      assert.equal(got?.mediaType, image.mediaType);
      assert.equal((await s.statManifest(REPO, sig.digest))?.subject, image.digest);
      assert.equal(await s.getManifest(OTHER, image.digest), null);
      assert.equal(await s.hasBlob(REPO, image.digest), true, 'a manifest is a blob of its repository');
      assert.deepEqual(
        (await s.listReferrers(REPO, image.digest)).map((r) => [r.digest, r.artifactType]),
        [[sig.digest, 'application/vnd.example.sig']],
      );
      assert.deepEqual(new Set((await s.listManifests(REPO)).map((m) => m.digest)), new Set([image.digest, sig.digest]));
      assert.deepEqual([...(await s.listTagTargets(REPO)).keys()].sort(), ['V0', 'latest', 'v1']);

      await s.putManifest(REPO, sig, ['latest']);
      assert.equal(await s.resolveTag(REPO, 'latest'), sig.digest, 'a tag moves in one step');
      assert.equal(await s.deleteTag(REPO, 'V0'), true);
      assert.equal(await s.deleteTag(REPO, 'V0'), false);
      assert.equal(await s.deleteManifest(REPO, sig.digest), true);
      assert.equal(await s.resolveTag(REPO, 'latest'), null, 'tags on a deleted manifest go with it');
      assert.deepEqual(await s.listReferrers(REPO, image.digest), []);
      assert.equal(await s.deleteManifest(REPO, sig.digest), false);
      assert.deepEqual(await s.listTags(REPO), ['v1']);
    });

    test('repositories are listed in order, nested names included', async (s) => {
      assert.deepEqual(await s.listRepositories(), []);
      assert.equal(await s.repositoryExists('a'), false);
      await putBlob(s, 'b/c', bytes(10));
      await s.putManifest('a', manifest({ x: 1 }), ['t']);
      await s.putManifest('a/b', manifest({ x: 2 }), []);
      assert.deepEqual(await s.listRepositories(), ['a', 'a/b', 'b/c']);
      assert.equal(await s.repositoryExists('a/b'), true);
      assert.equal(await s.repositoryExists('b'), false);
    });
  });
}
