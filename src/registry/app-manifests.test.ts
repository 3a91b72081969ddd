/**
 * Manifests through the HTTP API, in-process on 127.0.0.1 (OCI Distribution Spec v1.1 "Pushing
 * Manifests", "Pulling manifests", "Deleting"): the four manifest types, digest and tag
 * references, `?tag=`, `OCI-Subject`, the failures (digest mismatch, missing blobs, oversized,
 * invalid), deletion, and the TrustPolicy hook.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { http, startRegistry, type RunningRegistry } from '../../test/registry/support.ts';
import { MediaType } from './manifest.ts';
import { digestOf } from './names.ts';
import { ALLOW, deny, type PolicyRequest } from './policy.ts';
import { registryPaths } from './routes.ts';

let reg: RunningRegistry;
let dir: string;
const asked: { op: string; req: PolicyRequest }[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-registry-manifests-'));
  reg = await startRegistry('vouch', {
    storageDir: join(dir, 'storage'),
    vouch: {
      limits: { maxManifestBytes: 64 * 1024 },
      policy: {
        mayServe: async (r) => (asked.push({ op: 'serve', req: r }), r.reference === 'unsigned' ? deny('no trust data for unsigned') : ALLOW),
        mayDelete: async (r) => (asked.push({ op: 'delete', req: r }), r.reference === 'protected' ? deny('signed tags cannot be deleted') : ALLOW),
      },
    },
  });
});
after(async () => {
  await reg.stop();
  await rm(dir, { recursive: true, force: true });
});

const req = (method: string, path: string, opts: { headers?: Record<string, string>; body?: string | Uint8Array } = {}) => http(reg.url, method, path, opts);

async function blob(name: string, content: string): Promise<{ mediaType: string; digest: string; size: number }> {
  const b = Buffer.from(content);
  const r = await req('POST', registryPaths.uploads(name, { digest: digestOf(b) }), { body: b });
  assert.equal(r.status, 201);
  return { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digestOf(b), size: b.length };
}

async function image(name: string, tag: string, seed: string, type: string = MediaType.OciManifest, extra: Record<string, unknown> = {}) {
  const config = { ...(await blob(name, `config-${seed}`)), mediaType: 'application/vnd.oci.image.config.v1+json' };
  const layers = [await blob(name, `layer-a-${seed}`), await blob(name, `layer-b-${seed}`)];
  const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: type, config, layers, ...extra }));
  const r = await req('PUT', registryPaths.manifest(name, tag), { headers: { 'Content-Type': type }, body });
  return { r, body, digest: digestOf(body), layers };
}

describe('manifests over HTTP', () => {
  it('PUT by tag: 201 with Location and Docker-Content-Digest; GET/HEAD by tag and digest return the exact bytes', async () => {
    for (const type of [MediaType.OciManifest, MediaType.DockerManifest]) {
      const { r, body, digest } = await image('m/app', type === MediaType.OciManifest ? 'oci' : 'docker', type, type);
      assert.equal(r.status, 201);
      assert.equal(r.headers['location'], registryPaths.manifest('m/app', digest));
      assert.equal(r.headers['docker-content-digest'], digest);
      for (const ref of [type === MediaType.OciManifest ? 'oci' : 'docker', digest]) {
        const get = await req('GET', registryPaths.manifest('m/app', ref));
        assert.equal(get.status, 200);
        assert.deepEqual(get.body, body);
        assert.equal(get.headers['content-type'], type);
        assert.equal(get.headers['docker-content-digest'], digest);
        const head = await req('HEAD', registryPaths.manifest('m/app', ref));
        assert.equal(head.status, 200);
        assert.equal(head.headers['content-length'], String(body.length));
        assert.equal(head.headers['content-type'], type);
      }
    }
  });

  it('an index (OCI and Docker list) needs its child manifests; PUT by digest with ?tag=', async () => {
    const a = await image('m/multi', 'amd64', 'x1');
    const b = await image('m/multi', 'arm64', 'x2');
    for (const type of [MediaType.OciIndex, MediaType.DockerManifestList]) {
      const children = [a, b].map((m) => ({ mediaType: MediaType.OciManifest, digest: m.digest, size: m.body.length }));
      const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: type, manifests: children }));
      const r = await req('PUT', `${registryPaths.manifest('m/multi', digestOf(body))}?tag=all&tag=multi`, { headers: { 'Content-Type': type }, body });
      assert.equal(r.status, 201);
      assert.equal(r.headers['oci-tag'], 'all, multi');
      assert.equal((await req('GET', registryPaths.manifest('m/multi', 'multi'))).headers['docker-content-digest'], digestOf(body));
    }
    const orphan = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [{ mediaType: MediaType.OciManifest, digest: digestOf(Buffer.from('none')), size: 4 }] }));
    const r = await req('PUT', registryPaths.manifest('m/multi', 'orphan'), { headers: { 'Content-Type': MediaType.OciIndex }, body: orphan });
    assert.equal(r.status, 400);
    assert.equal(r.code(), 'MANIFEST_BLOB_UNKNOWN');
  });

  it('refuses: wrong digest, missing blob, oversized, invalid JSON, type mismatch, bad tag; nothing is stored', async () => {
    const config = { ...(await blob('m/bad', 'cfg')), mediaType: 'application/vnd.oci.image.config.v1+json' };
    const good = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [] }));
    const put = (ref: string, body: string | Buffer, type: string = MediaType.OciManifest) => req('PUT', registryPaths.manifest('m/bad', ref), { headers: { 'Content-Type': type }, body });
    let r = await put(digestOf(Buffer.from('other')), good);
    assert.deepEqual([r.status, r.code()], [400, 'DIGEST_INVALID']);
    const missing = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digestOf(Buffer.from('absent')), size: 6 };
    r = await put('t1', JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [missing] }));
    assert.deepEqual([r.status, r.code()], [400, 'MANIFEST_BLOB_UNKNOWN']);
    assert.deepEqual((r.json() as { errors: { detail: unknown }[] }).errors[0]?.detail, { digest: missing.digest });
    r = await put('t1', JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { ...config, size: 999 }, layers: [] }));
    assert.deepEqual([r.status, r.code()], [400, 'MANIFEST_INVALID'], 'a descriptor size that does not match the blob');
    r = await put('t1', Buffer.alloc(64 * 1024 + 1, 0x20));
    assert.deepEqual([r.status, r.code()], [413, 'MANIFEST_INVALID']);
    r = await put('t1', '{"schemaVersion":2,');
    assert.deepEqual([r.status, r.code()], [400, 'MANIFEST_INVALID']);
    r = await put('t1', good, MediaType.DockerManifest);
    assert.deepEqual([r.status, r.code()], [400, 'MANIFEST_INVALID']);
    r = await put('-bad', good);
    assert.deepEqual([r.status, r.code()], [400, 'MANIFEST_INVALID']);
    r = await req('PUT', `${registryPaths.manifest('m/bad', digestOf(good))}?tag=.bad`, { headers: { 'Content-Type': MediaType.OciManifest }, body: good });
    assert.deepEqual([r.status, r.code()], [400, 'MANIFEST_INVALID']);
    assert.equal((await req('GET', registryPaths.manifest('m/bad', 't1'))).code(), 'MANIFEST_UNKNOWN');
    assert.equal((await req('HEAD', registryPaths.manifest('m/bad', digestOf(good)))).status, 404);
    assert.deepEqual((await req('GET', registryPaths.tags('m/bad'))).json(), { name: 'm/bad', tags: [] });
  });

  it('unknown references: MANIFEST_UNKNOWN for tags and digests, DIGEST_INVALID for malformed digests', async () => {
    assert.deepEqual(
      [(await req('GET', registryPaths.manifest('m/app', 'nope'))).code(), (await req('GET', registryPaths.manifest('m/app', digestOf(Buffer.from('?'))))).code()],
      ['MANIFEST_UNKNOWN', 'MANIFEST_UNKNOWN'],
    );
    assert.equal((await req('GET', registryPaths.manifest('m/app', 'sha256:123'))).code(), 'DIGEST_INVALID');
    assert.equal((await req('GET', registryPaths.manifest('m/never', 'latest'))).status, 404);
  });

  it('a manifest with a subject is answered with OCI-Subject and listed by the referrers API', async () => {
    const subject = await image('m/ref', 'v1', 'subj');
    const sig = await image('m/ref', 'sig', 'sig1', MediaType.OciManifest, {
      artifactType: 'application/vnd.example.signature',
      subject: { mediaType: MediaType.OciManifest, digest: subject.digest, size: subject.body.length },
      annotations: { 'org.example.k': 'v' },
    });
    assert.equal(sig.r.status, 201);
    assert.equal(sig.r.headers['oci-subject'], subject.digest);
    const early = await image('m/ref', 'sbom', 'sbom1', MediaType.OciManifest, {
      subject: { mediaType: MediaType.OciManifest, digest: digestOf(Buffer.from('not pushed yet')), size: 1 },
    });
    assert.equal(early.r.status, 201, 'the subject need not exist');
  });

  it('DELETE: by tag removes the tag, by digest the manifest and its tags; the policy is asked first', async () => {
    const { digest } = await image('m/del', 'keep', 'd1');
    await req('PUT', registryPaths.manifest('m/del', 'protected'), { headers: { 'Content-Type': MediaType.OciManifest }, body: (await req('GET', registryPaths.manifest('m/del', 'keep'))).body });
    let r = await req('DELETE', registryPaths.manifest('m/del', 'protected'));
    assert.deepEqual([r.status, r.code()], [403, 'DENIED']);
    assert.match((r.json() as { errors: { message: string }[] }).errors[0]?.message ?? '', /signed tags cannot be deleted/);
    assert.deepEqual(asked.at(-1), { op: 'delete', req: { name: 'm/del', reference: 'protected', digest } });
    await req('PUT', registryPaths.manifest('m/del', 'other'), { headers: { 'Content-Type': MediaType.OciManifest }, body: (await req('GET', registryPaths.manifest('m/del', 'keep'))).body });
    r = await req('DELETE', registryPaths.manifest('m/del', 'other'));
    assert.equal(r.status, 202);
    assert.equal((await req('GET', registryPaths.manifest('m/del', 'other'))).code(), 'MANIFEST_UNKNOWN');
    assert.equal((await req('GET', registryPaths.manifest('m/del', 'keep'))).status, 200, 'other tags stay');
    r = await req('DELETE', registryPaths.manifest('m/del', digest));
    assert.equal(r.status, 202);
    for (const ref of ['keep', 'protected', digest]) assert.equal((await req('GET', registryPaths.manifest('m/del', ref))).status, 404, ref);
    assert.equal((await req('DELETE', registryPaths.manifest('m/del', digest))).code(), 'MANIFEST_UNKNOWN');
  });

  it('GET and HEAD ask mayServe with the resolved digest; a denial is 403 DENIED', async () => {
    const { digest, body } = await image('m/policy', 'signed', 'p1');
    await req('PUT', registryPaths.manifest('m/policy', 'unsigned'), { headers: { 'Content-Type': MediaType.OciManifest }, body });
    assert.equal((await req('GET', registryPaths.manifest('m/policy', 'signed'))).status, 200);
    assert.deepEqual(asked.at(-1), { op: 'serve', req: { name: 'm/policy', reference: 'signed', digest } });
    const r = await req('GET', registryPaths.manifest('m/policy', 'unsigned'));
    assert.deepEqual([r.status, r.code()], [403, 'DENIED']);
    assert.equal((await req('HEAD', registryPaths.manifest('m/policy', 'unsigned'))).status, 403);
  });
});
