/**
 * Listings, routing and access control through the HTTP API, in-process on 127.0.0.1: the `/v2/`
 * ping, tags and catalog with `n`/`last`/`Link`, referrers with the `artifactType` filter,
 * 405/NAME_INVALID, the `_trust` paths left to the trust API, disabled deletion, and token auth
 * with docker's scopes.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { http, startRegistry, startTokenService, type RunningRegistry, type TokenService } from '../../test/registry/support.ts';
import { createRegistryApp } from './app.ts';
import { MediaType } from './manifest.ts';
import { digestOf } from './names.ts';
import { registryPaths } from './routes.ts';
import { MemoryRegistryStore } from './store/memory-store.ts';

let dir: string;
let open: RunningRegistry;
let locked: RunningRegistry;
let tokens: TokenService;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-registry-listing-'));
  tokens = await startTokenService();
  open = await startRegistry('vouch', { storageDir: join(dir, 'open') });
  locked = await startRegistry('vouch', { storageDir: join(dir, 'locked'), auth: tokens });
});
after(async () => {
  await open.stop();
  await locked.stop();
  await tokens.stop();
  await rm(dir, { recursive: true, force: true });
});

type Opts = { headers?: Record<string, string>; body?: string | Uint8Array };

async function pushImage(reg: RunningRegistry, name: string, tags: readonly string[], extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<{ digest: string; size: number }> {
  const cfg = Buffer.from(`cfg-${name}-${JSON.stringify(extra)}`);
  assert.equal((await http(reg.url, 'POST', registryPaths.uploads(name, { digest: digestOf(cfg) }), { headers, body: cfg })).status, 201);
  const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(cfg), size: cfg.length }, layers: [], ...extra }));
  for (const tag of tags.length === 0 ? [digestOf(body)] : tags) {
    const r = await http(reg.url, 'PUT', registryPaths.manifest(name, tag), { headers: { ...headers, 'Content-Type': MediaType.OciManifest }, body });
    assert.equal(r.status, 201, r.body.toString());
  }
  return { digest: digestOf(body), size: body.length };
}

describe('listings and routing', () => {
  const req = (method: string, path: string, opts: Opts = {}) => http(open.url, method, path, opts);

  it('GET /v2/ answers 200 {} with the API version header', async () => {
    const r = await req('GET', '/v2/');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json(), {});
    assert.equal(r.headers['docker-distribution-api-version'], 'registry/2.0');
  });

  it('tags: ASCII order, n and last, a Link to the next page, n=0 empty; NAME_UNKNOWN for no repository', async () => {
    await pushImage(open, 'l/tags', ['b', 'a', 'C', '1', 'latest']);
    assert.deepEqual((await req('GET', registryPaths.tags('l/tags'))).json(), { name: 'l/tags', tags: ['1', 'C', 'a', 'b', 'latest'] });
    let r = await req('GET', registryPaths.tags('l/tags', { n: 2 }));
    assert.deepEqual(r.json(), { name: 'l/tags', tags: ['1', 'C'] });
    assert.equal(r.headers['link'], '</v2/l/tags/tags/list?n=2&last=C>; rel="next"');
    r = await req('GET', registryPaths.tags('l/tags', { n: 2, last: 'C' }));
    assert.deepEqual(r.json(), { name: 'l/tags', tags: ['a', 'b'] });
    r = await req('GET', registryPaths.tags('l/tags', { n: 2, last: 'b' }));
    assert.deepEqual(r.json(), { name: 'l/tags', tags: ['latest'] });
    assert.equal(r.headers['link'], undefined);
    assert.deepEqual((await req('GET', registryPaths.tags('l/tags', { last: 'a' }))).json(), { name: 'l/tags', tags: ['b', 'latest'] });
    r = await req('GET', registryPaths.tags('l/tags', { n: 0 }));
    assert.deepEqual(r.json(), { name: 'l/tags', tags: [] });
    assert.equal(r.headers['link'], undefined);
    r = await req('GET', registryPaths.tags('l/none'));
    assert.deepEqual([r.status, r.code()], [404, 'NAME_UNKNOWN']);
  });

  it('catalog: every repository in order, paginated the same way', async () => {
    await pushImage(open, 'l/cat/x', ['1']);
    await pushImage(open, 'l/cat', ['1']);
    const all = (await req('GET', '/v2/_catalog')).json() as { repositories: string[] };
    assert.ok(['l/cat', 'l/cat/x', 'l/tags'].every((n) => all.repositories.includes(n)));
    assert.deepEqual(all.repositories, [...all.repositories].sort());
    const first = await req('GET', registryPaths.catalog({ n: 1 }));
    assert.equal((first.json() as { repositories: string[] }).repositories.length, 1);
    assert.match(String(first.headers['link']), /^<\/v2\/_catalog\?n=1&last=[^>]+>; rel="next"$/);
  });

  it('referrers: an OCI index of the manifests whose subject is the digest, filtered by artifactType', async () => {
    const subject = await pushImage(open, 'l/ref', ['v1']);
    const sub = { mediaType: MediaType.OciManifest, ...subject };
    const sig = await pushImage(open, 'l/ref', [], { artifactType: 'application/vnd.example.sig', subject: sub, annotations: { k: 'v' } });
    const sbom = await pushImage(open, 'l/ref', [], { subject: sub });
    let r = await req('GET', registryPaths.referrers('l/ref', subject.digest));
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], MediaType.OciIndex);
    const index = r.json() as { schemaVersion: number; mediaType: string; manifests: Record<string, unknown>[] };
    assert.equal(index.schemaVersion, 2);
    assert.equal(index.mediaType, MediaType.OciIndex);
    const byDigest = new Map(index.manifests.map((m) => [m['digest'], m]));
    assert.deepEqual(byDigest.get(sig.digest), { mediaType: MediaType.OciManifest, digest: sig.digest, size: sig.size, artifactType: 'application/vnd.example.sig', annotations: { k: 'v' } });
    assert.deepEqual(byDigest.get(sbom.digest), { mediaType: MediaType.OciManifest, digest: sbom.digest, size: sbom.size, artifactType: 'application/vnd.oci.image.config.v1+json' });
    r = await req('GET', registryPaths.referrers('l/ref', subject.digest, 'application/vnd.example.sig'));
    assert.equal(r.headers['oci-filters-applied'], 'artifactType');
    assert.deepEqual((r.json() as { manifests: { digest: string }[] }).manifests.map((m) => m.digest), [sig.digest]);
    r = await req('GET', registryPaths.referrers('l/nothing', digestOf(Buffer.from('x'))));
    assert.deepEqual([r.status, (r.json() as { manifests: unknown[] }).manifests], [200, []], 'never 404');
    assert.deepEqual([(await req('GET', registryPaths.referrers('l/ref', 'sha256:nope'))).status], [400]);
    await req('DELETE', registryPaths.manifest('l/ref', sig.digest));
    r = await req('GET', registryPaths.referrers('l/ref', subject.digest));
    assert.deepEqual((r.json() as { manifests: { digest: string }[] }).manifests.map((m) => m.digest), [sbom.digest]);
  });

  it('bad names are NAME_INVALID; unsupported methods are 405 UNSUPPORTED', async () => {
    for (const name of ['UPPER', 'a//b', 'a/-b', `${'x'.repeat(256)}`]) {
      const r = await req('GET', `/v2/${name}/tags/list`);
      assert.deepEqual([r.status, r.code()], [400, 'NAME_INVALID'], name);
    }
    const r = await req('POST', registryPaths.manifest('l/tags', 'latest'));
    assert.deepEqual([r.status, r.code()], [405, 'UNSUPPORTED']);
    assert.match(String(r.headers['allow']), /GET, HEAD, PUT, DELETE/);
  });

  it('paths of the trust API (a _trust component) and unknown paths are not the registry’s', async () => {
    const app = createRegistryApp({ store: new MemoryRegistryStore() });
    for (const path of ['/v2/a/_trust/tuf/root.json', '/v2/_trust/changefeed', '/token', '/v2/a/b/c', '/v2']) {
      let touched = false;
      const res = new Proxy({} as ServerResponse, { get: () => ((touched = true), () => {}) });
      assert.equal(await app.handle({ url: path, method: 'GET', headers: {} } as IncomingMessage, res), false, path);
      assert.equal(touched, false, `${path}: the response is left alone`);
    }
    assert.equal((await req('GET', '/v2/a/_trust/tuf/root.json')).status, 404, 'the standalone listener answers 404');
  });

  it('with deletion disabled, DELETE is 405 UNSUPPORTED and removes nothing', async () => {
    const ro = await startRegistry('vouch', { storageDir: join(dir, 'ro'), vouch: { deleteEnabled: false } });
    try {
      const m = await pushImage(ro, 'l/ro', ['v1']);
      for (const path of [registryPaths.manifest('l/ro', 'v1'), registryPaths.manifest('l/ro', m.digest), registryPaths.blob('l/ro', m.digest)]) {
        const r = await http(ro.url, 'DELETE', path);
        assert.deepEqual([r.status, r.code()], [405, 'UNSUPPORTED'], path);
      }
      assert.equal((await http(ro.url, 'GET', registryPaths.manifest('l/ro', 'v1'))).status, 200);
    } finally {
      await ro.stop();
    }
  });
});

describe('token auth (docker scopes)', () => {
  const bearer = (user: string | null, ...scopes: string[]): Record<string, string> => ({ Authorization: `Bearer ${tokens.tokenFor(user, scopes)}` });

  it('without a token: 401 UNAUTHORIZED with the challenge naming the scope', async () => {
    let r = await http(locked.url, 'GET', '/v2/');
    assert.equal(r.status, 401);
    assert.equal(r.headers['www-authenticate'], `Bearer realm="${tokens.realm}",service="${tokens.issuer.service}"`);
    assert.equal(r.headers['docker-distribution-api-version'], 'registry/2.0');
    r = await http(locked.url, 'GET', registryPaths.manifest('a/b', 'latest'));
    assert.deepEqual([r.status, r.code()], [401, 'UNAUTHORIZED']);
    assert.equal(r.headers['www-authenticate'], `Bearer realm="${tokens.realm}",service="${tokens.issuer.service}",scope="repository:a/b:pull"`);
    assert.deepEqual((r.json() as { errors: { detail: unknown }[] }).errors[0]?.detail, [{ Type: 'repository', Class: '', Name: 'a/b', Action: 'pull' }]);
    r = await http(locked.url, 'POST', registryPaths.uploads('a/b'));
    assert.match(String(r.headers['www-authenticate']), /scope="repository:a\/b:pull,push"/);
    r = await http(locked.url, 'GET', '/v2/_catalog');
    assert.match(String(r.headers['www-authenticate']), /scope="registry:catalog:\*"/);
    r = await http(locked.url, 'DELETE', registryPaths.manifest('a/b', 'latest'));
    assert.match(String(r.headers['www-authenticate']), /scope="repository:a\/b:delete"/);
  });

  it('a token grants exactly its scopes', async () => {
    const push = bearer('alice', 'repository:s/app:pull,push');
    const { digest } = await pushImage(locked, 's/app', ['v1'], {}, push);
    assert.equal((await http(locked.url, 'GET', '/v2/', { headers: bearer(null) })).status, 200, 'any valid token pings');
    assert.equal((await http(locked.url, 'GET', registryPaths.manifest('s/app', 'v1'), { headers: bearer('bob', 'repository:s/app:pull') })).status, 200);
    let r = await http(locked.url, 'POST', registryPaths.uploads('s/app'), { headers: bearer('bob', 'repository:s/app:pull,push') });
    assert.equal(r.status, 401, 'bob may not push');
    assert.match(String(r.headers['www-authenticate']), /error="insufficient_scope"/);
    assert.equal((await http(locked.url, 'GET', registryPaths.manifest('s/other', 'v1'), { headers: bearer('bob', 'repository:s/app:pull') })).status, 401);
    assert.equal((await http(locked.url, 'DELETE', registryPaths.manifest('s/app', digest), { headers: push })).status, 401, 'push is not delete');
    assert.equal((await http(locked.url, 'GET', '/v2/_catalog', { headers: bearer('alice', 'registry:catalog:*') })).status, 200);
  });

  it('mount needs pull on the source: without it the registry starts an upload instead (202)', async () => {
    const cfg = Buffer.from('mount-me');
    await http(locked.url, 'POST', registryPaths.uploads('s/src', { digest: digestOf(cfg) }), { headers: bearer('alice', 'repository:s/src:pull,push'), body: cfg });
    let r = await http(locked.url, 'POST', registryPaths.uploads('s/dst', { mount: digestOf(cfg), from: 's/src' }), { headers: bearer('alice', 'repository:s/dst:pull,push') });
    assert.equal(r.status, 202);
    r = await http(locked.url, 'POST', registryPaths.uploads('s/dst', { mount: digestOf(cfg), from: 's/src' }), {
      headers: bearer('alice', 'repository:s/dst:pull,push', 'repository:s/src:pull'),
    });
    assert.equal(r.status, 201);
  });
});
