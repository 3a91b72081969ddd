import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchTrustRoute, TRUST_API_ROUTES, trustPaths } from './trust-routes.ts';

function op(method: string, path: string): string {
  const m = matchTrustRoute(method, path);
  return m.kind === 'route' ? m.route.operation : m.kind;
}

test('routes resolve in notary order with mux semantics', () => {
  assert.equal(op('GET', '/v2/'), 'Main');
  assert.equal(op('POST', '/v2/'), 'NotFound');
  assert.equal(op('POST', '/v2/a/b/_trust/tuf/'), 'UpdateTUF');
  assert.equal(op('DELETE', '/v2/a/b/_trust/tuf/'), 'DeleteTUF');
  assert.equal(op('PUT', '/v2/a/b/_trust/tuf/'), 'NotFound');
  assert.equal(op('GET', `/v2/a/_trust/tuf/root.${'a'.repeat(64)}.json`), 'GetRoleByHash');
  assert.equal(op('GET', `/v2/a/_trust/tuf/root.${'A'.repeat(96)}.json`), 'GetRoleByHash');
  assert.equal(op('GET', `/v2/a/_trust/tuf/root.${'a'.repeat(63)}.json`), 'NotFound');
  assert.equal(op('GET', '/v2/a/_trust/tuf/01.root.json'), 'GetRoleByVersion');
  assert.equal(op('GET', '/v2/a/_trust/tuf/0.root.json'), 'GetRoleByVersion');
  assert.equal(op('GET', '/v2/a/_trust/tuf/targets/x.json'), 'GetRole');
  assert.equal(op('GET', '/v2/a/_trust/tuf/targets/A.b.json'), 'GetRole');
  assert.equal(op('GET', '/v2/a/_trust/tuf/targets/a b.json'), 'NotFound');
  assert.equal(op('GET', '/v2/a/_trust/tuf/foo.json'), 'NotFound');
  assert.equal(op('HEAD', '/v2/a/_trust/tuf/root.json'), 'NotFound');
  assert.equal(op('GET', '/v2/a/_trust/tuf/timestamp.key'), 'GetKey');
  assert.equal(op('POST', '/v2/a/_trust/tuf/snapshot.key'), 'RotateKey');
  assert.equal(op('GET', '/v2/a/_trust/tuf/targets.key'), 'NotFound');
  assert.equal(op('GET', '/v2/a/_trust/changefeed'), 'Changefeed');
  assert.equal(op('GET', '/v2/_trust/changefeed'), 'GlobalChangefeed');
  assert.equal(op('GET', '/_notary_server/health'), 'Health');
  assert.equal(op('POST', '/_notary_server/health'), 'NotFound');
  assert.equal(op('GET', '/metrics'), 'Metrics');
  assert.equal(op('OPTIONS', '/v2/'), 'method-not-allowed');
  assert.equal(op('PATCH', '/anything'), 'method-not-allowed');
  assert.equal(op('GET', '/a\nb'), 'none');
});

test('GUN is greedy up to the last /_trust/, may hold : and spaces, never *', () => {
  const m = matchTrustRoute('GET', '/v2/a/_trust/tuf/b:1 x/_trust/tuf/3.targets/rel.json');
  assert.equal(m.kind, 'route');
  if (m.kind !== 'route') return;
  assert.deepEqual(m.params, { gun: 'a/_trust/tuf/b:1 x', role: 'targets/rel', version: '3' });
  assert.equal(op('GET', '/v2/a*b/_trust/tuf/root.json'), 'NotFound');
});

test('API-only table leaves /v2/, health, metrics and the catch-all to the host', () => {
  assert.equal(matchTrustRoute('GET', '/v2/', TRUST_API_ROUTES).kind, 'none');
  assert.equal(matchTrustRoute('GET', '/v2/x/manifests/latest', TRUST_API_ROUTES).kind, 'none');
  assert.equal(matchTrustRoute('GET', '/v2/x/_trust/tuf/root.json', TRUST_API_ROUTES).kind, 'route');
  assert.equal(matchTrustRoute('PATCH', '/v2/x/_trust/tuf/', TRUST_API_ROUTES).kind, 'method-not-allowed');
});

test('URL builders round-trip through the matcher', () => {
  const cases: [string, string][] = [
    [trustPaths.publish('a/b'), 'UpdateTUF'],
    [trustPaths.current('a/b', 'targets/x'), 'GetRole'],
    [trustPaths.byVersion('a/b', 'root', 2), 'GetRoleByVersion'],
    [trustPaths.byChecksum('a/b', 'snapshot', 'f'.repeat(64)), 'GetRoleByHash'],
    [trustPaths.key('a/b', 'timestamp'), 'GetKey'],
  ];
  for (const [path, expected] of cases) {
    const method = expected === 'UpdateTUF' ? 'POST' : 'GET';
    assert.equal(op(method, path), expected, path);
  }
  assert.equal(trustPaths.changefeed(undefined, '-1', 10), '/v2/_trust/changefeed?change_id=-1&records=10');
});
