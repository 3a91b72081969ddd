import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { InvalidCredentialsError, TokenRequestError } from './errors.ts';
import { createSigningMaterial, TokenIssuer } from './issuer.ts';
import { MemoryTokenStore } from './memory-store.ts';
import { TokenService } from './service.ts';

const clock = { t: Date.UTC(2030, 0, 1) };
const store = new MemoryTokenStore({ scryptLogN: 10 });
const issuer = new TokenIssuer({ issuer: 'vouch-test', material: createSigningMaterial({ now: new Date(clock.t) }), now: () => clock.t });
const svc = new TokenService({ store, issuer, services: ['vouch-registry', 'notary'], refreshTokenTtlSeconds: 3600, now: () => clock.t });
const claims = (token: string): Record<string, unknown> => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

before(async () => {
  await store.addUser('alice', 'alice-pw');
  await store.grant('alice', 'alice');
});

const password = (username: string, pw: string) => ({ kind: 'password' as const, username, password: pw });

test('service names: default to the first, others accepted, unknown refused', async () => {
  const a = await svc.token({ credentials: { kind: 'anonymous' }, scopes: [], offline: false });
  assert.equal(claims(a.token)['aud'], 'vouch-registry');
  const b = await svc.token({ credentials: { kind: 'anonymous' }, service: 'notary', scopes: [], offline: false });
  assert.equal(claims(b.token)['aud'], 'notary');
  await assert.rejects(svc.token({ credentials: { kind: 'anonymous' }, service: 'evil', scopes: [], offline: false }), TokenRequestError);
});

test('password grant: subject, access, account check, and refresh tokens only when asked', async () => {
  const r = await svc.token({ credentials: password('alice', 'alice-pw'), scopes: ['repository:alice/app:push,pull'], account: 'alice', offline: false });
  assert.equal(r.subject, 'alice');
  assert.deepEqual(r.access, [{ type: 'repository', class: '', name: 'alice/app', actions: ['push', 'pull'] }]);
  assert.equal(r.refreshToken, undefined);
  await assert.rejects(svc.token({ credentials: password('alice', 'alice-pw'), scopes: [], account: 'bob', offline: false }), TokenRequestError);
  await assert.rejects(svc.token({ credentials: password('alice', 'nope'), scopes: [], offline: false }), InvalidCredentialsError);
  const anon = await svc.token({ credentials: { kind: 'anonymous' }, scopes: ['repository:alice/app:pull'], account: 'whoever', offline: true });
  assert.deepEqual(anon.access, []);
  assert.equal(anon.refreshToken, undefined, 'no refresh token for anonymous');
});

test('refresh tokens: work until expiry, die with a password change, never beget new ones', async () => {
  const first = await svc.token({ credentials: password('alice', 'alice-pw'), scopes: [], offline: true, clientId: 'docker' });
  assert.match(first.refreshToken ?? '', /^[A-Za-z0-9_-]{43}$/);
  const refresh = { kind: 'refresh' as const, refreshToken: first.refreshToken! };
  const again = await svc.token({ credentials: refresh, scopes: ['repository:alice/app:pull'], offline: true });
  assert.equal(again.subject, 'alice');
  assert.equal(again.refreshToken, undefined);
  assert.deepEqual(again.access.map((a) => a.name), ['alice/app']);
  await assert.rejects(svc.token({ credentials: { kind: 'refresh', refreshToken: first.refreshToken! + 'x' }, scopes: [], offline: false }), InvalidCredentialsError);
  await assert.rejects(svc.token({ credentials: { kind: 'refresh', refreshToken: '' }, scopes: [], offline: false }), InvalidCredentialsError);

  const saved = clock.t;
  clock.t += 3600 * 1000;
  await assert.rejects(svc.token({ credentials: refresh, scopes: [], offline: false }), InvalidCredentialsError, 'expired');
  clock.t = saved;
  await svc.token({ credentials: refresh, scopes: [], offline: false });
  await store.setPassword('alice', 'alice-pw2');
  await assert.rejects(svc.token({ credentials: refresh, scopes: [], offline: false }), InvalidCredentialsError, 'revoked by the password change');
  await store.setPassword('alice', 'alice-pw');
});

test('construction checks', () => {
  assert.throws(() => new TokenService({ store, issuer, services: [] }), RangeError);
  assert.throws(() => new TokenService({ store, issuer, services: [''] }), RangeError);
  assert.throws(() => new TokenService({ store, issuer, services: ['s'], refreshTokenTtlSeconds: 10 }), RangeError);
});
