import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseCertBundle, repositoryAccess, TokenAccessController } from '../auth/index.ts';
import { createSigningMaterial, TokenIssuer } from './issuer.ts';
import { MemoryTokenStore } from './memory-store.ts';
import { startTokenServer, type TokenServerHandle } from './server.ts';
import { TokenService } from './service.ts';

const store = new MemoryTokenStore({ scryptLogN: 10 });
const issuer = new TokenIssuer({ issuer: 'vouch-test', material: createSigningMaterial() });
const service = new TokenService({ store, issuer, services: ['vouch-registry'] });
const faults: unknown[] = [];
let srv: TokenServerHandle;

before(async () => {
  await store.addUser('alice', 'alice-pw');
  await store.grant('alice', 'alice');
  srv = await startTokenServer({ service, basicRealm: 'vouch test', onError: (e) => faults.push(e) });
});
after(async () => {
  await srv.close();
  assert.deepEqual(faults, []);
});

const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const claims = (token: string): Record<string, unknown> => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

async function get(query: string, authorization?: string): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const r = await fetch(`${srv.realm}${query}`, { headers: authorization === undefined ? {} : { authorization } });
  return { status: r.status, headers: r.headers, body: (await r.json()) as Record<string, unknown> };
}

async function post(form: Record<string, string>, contentType = 'application/x-www-form-urlencoded'): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const r = await fetch(srv.realm, { method: 'POST', headers: { 'content-type': contentType }, body: new URLSearchParams(form).toString() });
  return { status: r.status, headers: r.headers, body: (await r.json()) as Record<string, unknown> };
}

test('GET with Basic credentials: the docker token response, verifiable by the trust server', async () => {
  const r = await get('?service=vouch-registry&scope=repository%3Aalice%2Fapp%3Apush%2Cpull&account=alice', basic('alice', 'alice-pw'));
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/json');
  assert.equal(r.headers.get('cache-control'), 'no-store');
  assert.deepEqual(Object.keys(r.body), ['token', 'access_token', 'expires_in', 'issued_at']);
  assert.equal(r.body['token'], r.body['access_token']);
  assert.equal(r.body['expires_in'], 300);
  assert.match(String(r.body['issued_at']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  const ac = new TokenAccessController({ realm: srv.realm, service: 'vouch-registry', issuer: 'vouch-test', roots: parseCertBundle(issuer.rootCertBundle) });
  const g = await ac.authorized({ authorization: `Bearer ${String(r.body['token'])}`, host: undefined }, repositoryAccess('alice/app', ['push', 'pull']));
  assert.equal(g.subject, 'alice');
});

test('GET: bad credentials are 401 with a Basic challenge and a docker-readable details body', async () => {
  for (const auth of [basic('alice', 'wrong'), basic('nobody', 'alice-pw'), basic('alice', ''), 'Basic !!!', 'Basic YWxpY2U=', 'Bearer abc.def.ghi']) {
    const r = await get('?service=vouch-registry&account=alice', auth);
    assert.equal(r.status, 401, auth);
    assert.equal(r.headers.get('www-authenticate'), 'Basic realm="vouch test"');
    assert.equal(r.headers.get('content-type'), 'application/json');
    assert.equal(typeof r.body['details'], 'string');
  }
  const r = await get('?service=vouch-registry', basic('nobody', 'x'));
  assert.deepEqual(r.body, { details: 'incorrect username or password' });
  assert.deepEqual((await get('?service=vouch-registry', basic('alice', 'x'))).body, r.body, 'unknown user and wrong password look the same');
});

test('GET anonymous: a token with only what anonymous may have', async () => {
  await store.setAnonymousPull('library', true);
  const r = await get('?service=vouch-registry&scope=repository%3Alibrary%2Falpine%3Apull%2Cpush&scope=repository%3Aalice%2Fapp%3Apull');
  assert.equal(r.status, 200);
  const c = claims(String(r.body['token']));
  assert.equal(c['sub'], '');
  assert.deepEqual(c['access'], [{ type: 'repository', name: 'library/alpine', actions: ['pull'] }]);
});

test('docker login exchange: no scope, offline_token → a refresh token that works on the OAuth2 POST', async () => {
  const login = await get('?account=alice&client_id=docker&offline_token=true&service=vouch-registry', basic('alice', 'alice-pw'));
  assert.equal(login.status, 200);
  assert.deepEqual(claims(String(login.body['token']))['access'], []);
  const refresh = String(login.body['refresh_token']);
  assert.match(refresh, /^[A-Za-z0-9_-]{43}$/);

  const r = await post({ client_id: 'docker', grant_type: 'refresh_token', refresh_token: refresh, scope: 'repository:alice/app:pull,push repository:bob/app:pull', service: 'vouch-registry' });
  assert.equal(r.status, 200);
  assert.equal(r.body['refresh_token'], undefined);
  assert.equal(r.body['scope'], 'repository:alice/app:pull,push');
  assert.deepEqual(claims(String(r.body['access_token']))['access'], [{ type: 'repository', name: 'alice/app', actions: ['pull', 'push'] }]);

  const bad = await post({ client_id: 'docker', grant_type: 'refresh_token', refresh_token: 'x' + refresh.slice(1), service: 'vouch-registry' });
  assert.equal(bad.status, 401);
  assert.equal(bad.body['error'], 'invalid_grant');
  assert.equal(typeof bad.body['details'], 'string');
});

test('POST password grant, with and without offline access', async () => {
  const r = await post({ client_id: 'docker', grant_type: 'password', username: 'alice', password: 'alice-pw', access_type: 'offline', scope: 'repository:alice/x:pull', service: 'vouch-registry' });
  assert.equal(r.status, 200);
  assert.equal(typeof r.body['refresh_token'], 'string');
  const n = await post({ client_id: 'cli', grant_type: 'password', username: 'alice', password: 'alice-pw' });
  assert.equal(n.status, 200);
  assert.equal(n.body['refresh_token'], undefined);
  const w = await post({ client_id: 'cli', grant_type: 'password', username: 'alice', password: 'nope' });
  assert.equal(w.status, 401);
  assert.equal(w.body['error'], 'invalid_grant');
});

test('malformed requests are 400 with an OAuth2 error code', async () => {
  const cases: [Record<string, string>, string][] = [
    [{ client_id: 'docker', grant_type: 'client_credentials' }, 'unsupported_grant_type'],
    [{ client_id: 'docker' }, 'unsupported_grant_type'],
    [{ grant_type: 'password', username: 'alice', password: 'alice-pw' }, 'invalid_request'],
    [{ client_id: 'docker', grant_type: 'password', username: 'alice' }, 'invalid_request'],
    [{ client_id: 'docker', grant_type: 'refresh_token' }, 'invalid_request'],
    [{ client_id: 'docker', grant_type: 'password', username: 'alice', password: 'alice-pw', service: 'other' }, 'invalid_request'],
    [{ client_id: 'docker', grant_type: 'password', username: 'alice', password: 'alice-pw', scope: 'repository:nope' }, 'invalid_request'],
  ];
  for (const [form, error] of cases) {
    const r = await post(form);
    assert.equal(r.status, 400, JSON.stringify(form));
    assert.equal(r.body['error'], error, JSON.stringify(form));
  }
  assert.equal((await post({ client_id: 'docker', grant_type: 'password' }, 'application/json')).status, 400);
  assert.equal((await get('?service=nope')).status, 400);
  assert.equal((await get('?scope=bad')).status, 400);
  assert.equal((await get('?account=alice&account=bob', basic('alice', 'alice-pw'))).status, 400);
  assert.equal((await get('?account=bob', basic('alice', 'alice-pw'))).status, 400);
  const big = await fetch(srv.realm, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a='.padEnd(20_000, 'x') });
  assert.equal(big.status, 413);
  await big.body?.cancel();
});

test('other paths are left to the host server; other methods get 405', async () => {
  const r = await fetch(`${srv.url}/v2/`);
  assert.equal(r.status, 404);
  await r.body?.cancel();
  const p = await fetch(`${srv.url}/token/extra`);
  assert.equal(p.status, 404);
  await p.body?.cancel();
  const m = await fetch(srv.realm, { method: 'PUT' });
  assert.equal(m.status, 405);
  assert.equal(m.headers.get('allow'), 'GET, POST');
  await m.body?.cancel();
});
