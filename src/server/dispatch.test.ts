/**
 * Dispatcher tests for what inject() cannot send (it normalises `..` in URLs) and for the
 * embedded mode used when the trust API shares a port with the registry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { TRUST_API_ROUTES } from '../http/index.ts';
import { createTrustDispatcher, type TrustDispatcherOptions } from './dispatch.ts';
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
