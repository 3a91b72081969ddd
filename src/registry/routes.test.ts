import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchRegistryRoute, registryPaths, REGISTRY_ROUTES } from './routes.ts';

const D = `sha256:${'b'.repeat(64)}`;

describe('route table', () => {
  it('matches every endpoint of the spec, with names that contain slashes', () => {
    const cases: [string, string, Record<string, string>][] = [
      ['/v2/', 'base', {}],
      ['/v2/_catalog', 'catalog', {}],
      ['/v2/a/b/tags/list', 'tags', { name: 'a/b' }],
      [`/v2/a/referrers/${D}`, 'referrers', { name: 'a', digest: D }],
      ['/v2/a/b/blobs/uploads/', 'blobUploadStart', { name: 'a/b' }],
      ['/v2/a/b/blobs/uploads/1234', 'blobUpload', { name: 'a/b', uuid: '1234' }],
      ['/v2/a/b/manifests/latest', 'manifest', { name: 'a/b', reference: 'latest' }],
      [`/v2/a/b/blobs/${D}`, 'blob', { name: 'a/b', digest: D }],
      // a repository whose last component is a route word
      [`/v2/x/blobs/blobs/${D}`, 'blob', { name: 'x/blobs', digest: D }],
      ['/v2/x/manifests/manifests/v1', 'manifest', { name: 'x/manifests', reference: 'v1' }],
    ];
    for (const [path, route, params] of cases) {
      const m = matchRegistryRoute(path);
      assert.ok(m !== null, path);
      assert.equal(m.route.name, route, path);
      for (const [k, v] of Object.entries(params)) assert.equal((m.params as unknown as Record<string, string>)[k], v, `${path} ${k}`);
    }
  });

  it('leaves other paths, and the trust API under _trust, unmatched', () => {
    for (const p of ['/', '/v1/', '/v2', '/v2/a', '/v2/a/_trust/tuf/root.json', '/v2/a/_trust/manifests/x', '/v2/_trust/changefeed', '/token', '/v2/a/b/unknown/x']) {
      assert.equal(matchRegistryRoute(p), null, p);
    }
  });

  it('builds the paths it matches', () => {
    assert.equal(matchRegistryRoute(registryPaths.upload('a/b', 'u1'))?.route.name, 'blobUpload');
    assert.equal(matchRegistryRoute(registryPaths.blob('a/b', D))?.route.name, 'blob');
    assert.equal(registryPaths.tags('a', { n: 2, last: 'v1' }), '/v2/a/tags/list?n=2&last=v1');
    assert.equal(registryPaths.referrers('a', D, 'application/vnd.x+json'), `/v2/a/referrers/${D}?artifactType=application%2Fvnd.x%2Bjson`);
    assert.equal(registryPaths.uploads('a', { mount: D, from: 'b' }), `/v2/a/blobs/uploads/?mount=${D}&from=b`);
  });

  it('declares every route once', () => {
    assert.equal(new Set(REGISTRY_ROUTES.map((r) => r.name)).size, REGISTRY_ROUTES.length);
  });
});
