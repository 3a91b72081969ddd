/**
 * The route suite (route-suite.ts) through the fastify app's inject(), and what only the
 * fastify app does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseServerConfig } from '../config/index.ts';
import { buildTrustApp } from './app.ts';
import { FakeTrustService } from './fake-trust-service.ts';
import { runRouteSuite } from './route-suite.ts';

runRouteSuite('fastify app', ({ service, config, metrics }) => {
  const app = buildTrustApp({ service, config, metrics });
  return {
    async inject(o) {
      const r = await app.inject(o);
      return { statusCode: r.statusCode, headers: r.headers, body: r.body };
    },
  };
});

test('buildTrustApp refuses a token-auth config without an AccessController', () => {
  const config = parseServerConfig(
    { server: { http_addr: ':1' }, auth: { type: 'token', options: { realm: 'r', service: 's', issuer: 'i', rootcertbundle: '/x' } } },
    { env: {} },
  );
  assert.throws(() => buildTrustApp({ service: new FakeTrustService(), config }), /refusing to serve unauthenticated/);
});
