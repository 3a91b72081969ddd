/**
 * Dispatcher tests for what inject() cannot send (it normalises `..` in URLs) and for the
 * embedded mode used when the trust API shares a port with the registry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { muxCleanPath, TRUST_API_ROUTES } from '../http/index.ts';
import { createTrustDispatcher, isCleanRootedPath, type TrustDispatcherOptions } from './dispatch.ts';
import { trustRoutesPlugin, sendTrustResponse, toTrustRequest } from './app.ts';
import { FakeTrustService } from './fake-trust-service.ts';

function opts(extra: Partial<TrustDispatcherOptions> = {}): TrustDispatcherOptions {
  return { service: new FakeTrustService(), gunPrefixes: [], currentMaxAge: 300, consistentMaxAge: 2592000, maxUploadBytes: 1 << 20, ...extra };
}

const get = (rawUrl: string) => ({ method: 'GET', rawUrl, headers: {}, body: [] as Uint8Array[] });

test('dot segments in GUNs are cleaned away with a 301, never reach a handler (notary)', async () => {
  const service = new FakeTrustService();
  const dispatch = createTrustDispatcher(opts({ service }));
  for (const [from, to] of [
    ['/v2/foo/../bar/_trust/tuf/root.json', '/v2/bar/_trust/tuf/root.json'],
    ['/v2/%2e%2e/x/_trust/tuf/root.json', '/x/_trust/tuf/root.json'],
    ['/v2/a/./b/_trust/tuf/?q', '/v2/a/b/_trust/tuf/?q'],
    ['/v2/foo/_trust/tuf/.', '/v2/foo/_trust/tuf'],
  ]) {
    const res = await dispatch(get(from!));
    assert.equal(res?.status, 301, from);
    assert.equal(res?.headers['location'], to, from);
  }
  assert.equal(service.calls.length, 0);
});

test('a decoded newline escapes the catch-all: plain 404 as Go http.NotFound', async () => {
  const res = await createTrustDispatcher(opts())(get('/v2/a%0Ab/_trust/x'));
  assert.equal(res?.status, 404);
  assert.equal(res?.body, '404 page not found\n');
});

test('embedded mode answers only trust API paths and leaves the rest to the host', async () => {
  const dispatch = createTrustDispatcher(opts({ routes: TRUST_API_ROUTES }));
  assert.equal(await dispatch(get('/v2/')), null);
  assert.equal(await dispatch(get('/v2/lib/app/manifests/latest')), null);
  assert.equal(await dispatch(get('/v2/lib//app/manifests/latest')), null, 'no redirect for registry paths');
  assert.equal(await dispatch(get('/v2/%zz')), null);
  assert.equal(await dispatch(get('/_notary_server/health')), null);
  assert.equal((await dispatch(get('/v2/lib/app/_trust/tuf/root.json')))?.status, 404);
  assert.equal((await dispatch(get('/v2/lib//app/_trust/tuf/root.json')))?.status, 301);
  assert.equal((await dispatch(get('/v2/_trust/changefeed?records=1')))?.status, 200);
});

test('the plugin registers under a prefix in another app, and the host can share /v2/* via the dispatcher', async () => {
  const host = Fastify();
  await host.register(trustRoutesPlugin, { ...opts(), prefix: '/trust' });
  const r = await host.inject({ method: 'GET', url: '/trust/v2/' });
  assert.equal(r.statusCode, 200);
  assert.equal(r.body, '{}');

  const shared = Fastify();
  const dispatch = createTrustDispatcher(opts({ routes: TRUST_API_ROUTES }));
  shared.removeAllContentTypeParsers();
  shared.addContentTypeParser('*', (_req, _payload, done) => done(null));
  shared.all('/v2/*', async (req, reply) => {
    const res = await dispatch(toTrustRequest(req));
    if (res !== null) return sendTrustResponse(reply, res);
    return reply.code(200).send('registry');
  });
  assert.equal((await shared.inject({ method: 'GET', url: '/v2/lib/app/tags/list' })).body, 'registry');
  const t = await shared.inject({ method: 'GET', url: '/v2/lib/app/_trust/tuf/timestamp.key' });
  assert.equal(t.statusCode, 200);
  assert.match(t.body, /"keytype":"ed25519"/);
});

test('a path is taken as clean exactly when mux cleaning would leave it unchanged', () => {
  const parts = ['', '.', '..', '...', 'a', '.a', 'a.', '..a', 'v2', '_trust', '%2e'];
  let checked = 0;
  for (const x of parts) for (const y of parts) for (const z of parts) {
    for (const p of [`/${x}/${y}/${z}`, `/${x}/${y}/${z}/`, `${x}/${y}`, `/${x}//${y}`, `/${x}`]) {
      assert.equal(isCleanRootedPath(p), muxCleanPath(p) === p, p);
      checked++;
    }
  }
  assert.ok(checked > 6000);
});

test('routing decisions are remembered per method and path, answers are not', async () => {
  const service = new FakeTrustService();
  const dispatch = createTrustDispatcher(opts({ service }));
  assert.equal((await dispatch(get('/v2/a//_trust/tuf/?x=1')))?.headers['location'], '/v2/a/_trust/tuf/?x=1');
  assert.equal((await dispatch(get('/v2/a//_trust/tuf/?y=2')))?.headers['location'], '/v2/a/_trust/tuf/?y=2');
  assert.equal((await dispatch(get('/v2/a//_trust/tuf/')))?.headers['location'], '/v2/a/_trust/tuf/');
  assert.equal((await dispatch(get('/v2/g/_trust/tuf/root.json')))?.status, 404);
  service.put('g', 'root', 1, '{"signed":{"_type":"Root","version":1},"signatures":[]}');
  const r = await dispatch(get('/v2/g/_trust/tuf/root.json'));
  assert.equal(r?.status, 200);
  assert.equal((await dispatch({ ...get('/v2/g/_trust/tuf/root.json'), method: 'PATCH' }))?.status, 405);
  for (let i = 0; i < 1100; i++) await dispatch(get(`/v2/g${i}/_trust/tuf/root.json`));
  const longGun = `g/${'x'.repeat(600)}`;
  assert.equal((await dispatch(get(`/v2/${longGun}//_trust/tuf/root.json`)))?.headers['location'], `/v2/${longGun}/_trust/tuf/root.json`, 'long paths are decided each time');
  assert.equal((await dispatch(get('/v2/g/_trust/tuf/root.json')))?.status, 200, 'still right after the oldest decisions were dropped');
});
