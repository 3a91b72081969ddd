/**
 * Token auth through the routes (spec §7.2): which access each route asks for, the 401 body and
 * challenge, and what stays unauthenticated. Bodies marked "notary body" were captured from the
 * real notary-server 0.7 configured with this test issuer's root bundle (which also accepted and
 * refused the issuer's tokens exactly as TokenAccessController does: x5c/RSA/kid/jwk/jwk+x5c
 * accepted; expired, wrong issuer, array aud, untrusted chain refused with invalid_token).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { parseServerConfig } from '../config/index.ts';
import { createTestTokenIssuer, type MintAccess, type TestTokenIssuer } from '../auth/testing.ts';
import { buildTrustApp } from './app.ts';
import { FakeTrustService } from './fake-trust-service.ts';

let issuer: TestTokenIssuer;
before(async () => {
  issuer = await createTestTokenIssuer({ issuer: 'test-issuer', service: 'notary-test', realm: 'https://auth.example/token' });
});

function setup(raw: Record<string, unknown> = {}) {
  const service = new FakeTrustService();
  const config = parseServerConfig(
    {
      server: { http_addr: ':1' },
      auth: { type: 'token', options: { realm: issuer.realm, service: issuer.service, issuer: issuer.issuer, rootcertbundle: '/unused' } },
      ...raw,
    },
    { env: {} },
  );
  return { app: buildTrustApp({ service, config, auth: issuer.controller() }), service };
}

const REALM = 'Bearer realm="https://auth.example/token",service="notary-test"';
const auth = (access: MintAccess[]) => ({ authorization: `Bearer ${issuer.mint({ access })}` });
const repo = (actions: string[]): MintAccess[] => [{ type: 'repository', name: 'foo/bar', actions }];

test('no token: 401 UNAUTHORIZED listing the required accesses, challenge without error= (notary)', async () => {
  const { app, service } = setup();
  const r = await app.inject({ method: 'GET', url: '/v2/foo/bar/_trust/tuf/root.json' });
  assert.equal(r.statusCode, 401);
  assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(r.headers['www-authenticate'], `${REALM},scope="repository:foo/bar:pull"`);
  assert.equal(r.body, '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[{"Type":"repository","Class":"","Name":"foo/bar","Action":"pull"}]}]}\n');
  assert.equal(service.calls.length, 0);
});

test('routes without a GUN ask for registry:catalog:* (notary body)', async () => {
  const { app } = setup();
  const r = await app.inject({ method: 'GET', url: '/v2/' });
  assert.equal(r.statusCode, 401);
  assert.equal(r.headers['www-authenticate'], `${REALM},scope="registry:catalog:*"`);
  assert.equal(r.body, '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[{"Type":"registry","Class":"","Name":"catalog","Action":"*"}]}]}\n');
  const p = await app.inject({ method: 'POST', url: '/v2/foo/bar/_trust/tuf/' });
  assert.equal(
    p.body,
    '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[{"Type":"repository","Class":"","Name":"foo/bar","Action":"push"},{"Type":"repository","Class":"","Name":"foo/bar","Action":"pull"}]}]}\n',
  );
});

test('each route asks for its scope (spec §5.1/§7.2)', async () => {
  const { app } = setup();
  const cases: [string, string, string][] = [
    ['GET', '/v2/', 'registry:catalog:*'],
    ['GET', '/nothing/here', 'registry:catalog:*'],
    ['GET', '/v2/_trust/changefeed?records=1', 'registry:catalog:*'],
    ['POST', '/v2/foo/bar/_trust/tuf/', 'repository:foo/bar:push,pull'],
    ['GET', '/v2/foo/bar/_trust/tuf/3.targets.json', 'repository:foo/bar:pull'],
    ['GET', '/v2/foo/bar/_trust/tuf/timestamp.key', 'repository:foo/bar:push,pull'],
    ['POST', '/v2/foo/bar/_trust/tuf/snapshot.key', 'repository:foo/bar:*'],
    ['DELETE', '/v2/foo/bar/_trust/tuf/', 'repository:foo/bar:*'],
    ['GET', '/v2/foo/bar/_trust/changefeed?records=1', 'repository:foo/bar:pull'],
  ];
  for (const [method, url, scope] of cases) {
    const r = await app.inject({ method: method as 'GET', url });
    assert.equal(r.statusCode, 401, url);
    assert.equal(r.headers['www-authenticate'], `${REALM},scope="${scope}"`, url);
  }
});

test('granted tokens reach the handlers; * covers everything', async () => {
  const { app, service } = setup();
  service.put('foo/bar', 'root', 1, '{"signed":{"version":1}}');
  assert.equal((await app.inject({ method: 'GET', url: '/v2/foo/bar/_trust/tuf/root.json', headers: auth(repo(['pull'])) })).statusCode, 200);
  assert.equal((await app.inject({ method: 'GET', url: '/v2/foo/bar/_trust/tuf/timestamp.key', headers: auth(repo(['push', 'pull'])) })).statusCode, 200);
  assert.equal((await app.inject({ method: 'DELETE', url: '/v2/foo/bar/_trust/tuf/', headers: auth(repo(['*'])) })).statusCode, 200);
  assert.equal((await app.inject({ method: 'GET', url: '/v2/', headers: auth([{ type: 'registry', name: 'catalog', actions: ['*'] }]) })).statusCode, 200);
});

test('insufficient scope and invalid tokens carry the error parameter', async () => {
  const { app } = setup();
  const r = await app.inject({ method: 'GET', url: '/v2/foo/bar/_trust/tuf/snapshot.key', headers: auth(repo(['pull'])) });
  assert.equal(r.statusCode, 401);
  assert.equal(r.headers['www-authenticate'], `${REALM},scope="repository:foo/bar:push,pull",error="insufficient_scope"`);
  const bad = await app.inject({ method: 'GET', url: '/v2/foo/bar/_trust/tuf/root.json', headers: { authorization: `Bearer ${issuer.mint({ access: repo(['pull']), iss: 'evil' })}` } });
  assert.equal(bad.statusCode, 401);
  assert.equal(bad.headers['www-authenticate'], `${REALM},scope="repository:foo/bar:pull",error="invalid_token"`);
});

test('health and metrics need no token; GUN prefixes are checked before auth', async () => {
  const { app } = setup({ repositories: { gun_prefixes: ['docker.io/'] } });
  assert.equal((await app.inject({ method: 'GET', url: '/_notary_server/health' })).statusCode, 200);
  assert.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 200);
  const r = await app.inject({ method: 'GET', url: '/v2/foo/bar/_trust/tuf/root.json' });
  assert.equal(r.statusCode, 404);
  assert.equal(r.headers['www-authenticate'], undefined);
  const p = await app.inject({ method: 'POST', url: '/v2/foo/bar/_trust/tuf/' });
  assert.equal(p.statusCode, 400);
  assert.match(p.body, /INVALID_GUN/);
});
