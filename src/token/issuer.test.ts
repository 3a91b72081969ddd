import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { decodeProtectedHeader, importX509, jwtVerify } from 'jose';
import { AuthChallengeError, catalogAccess, parseCertBundle, repositoryAccess, TokenAccessController, type Access } from '../auth/index.ts';
import { generatePrivateKey, issueCertificate, privateKeyObject } from '../crypto/index.ts';
import { ConfigError, StateError } from '../errors/index.ts';
import { createSigningMaterial, TokenIssuer } from './issuer.ts';

const NOW = Date.UTC(2030, 0, 1);
const material = createSigningMaterial({ now: new Date(NOW) });
const issuer = new TokenIssuer({ issuer: 'vouch-test', material, now: () => NOW });

function controller(now = NOW, service = 'vouch-registry'): TokenAccessController {
  return new TokenAccessController({ realm: 'https://vouch.test/token', service, issuer: 'vouch-test', roots: parseCertBundle(issuer.rootCertBundle), now: () => now });
}

async function refusal(token: string, need: readonly Access[], ac = controller()): Promise<AuthChallengeError> {
  try {
    await ac.authorized({ authorization: `Bearer ${token}`, host: undefined }, need);
  } catch (err) {
    assert.ok(err instanceof AuthChallengeError, String(err));
    return err;
  }
  assert.fail('expected a refusal');
}

const decode = (part: string): Record<string, unknown> => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;

test('the trust server verifier accepts our tokens for the granted scopes only', async () => {
  const { token } = issuer.issue({ subject: 'alice', audience: 'vouch-registry', access: [{ type: 'repository', class: '', name: 'alice/app', actions: ['pull', 'push'] }] });
  const g = await controller().authorized({ authorization: `Bearer ${token}`, host: undefined }, repositoryAccess('alice/app', ['push', 'pull']));
  assert.equal(g.subject, 'alice');
  assert.equal((await refusal(token, repositoryAccess('alice/app', ['*']))).reason, 'insufficient_scope');
  assert.equal((await refusal(token, repositoryAccess('alice/other', ['pull']))).reason, 'insufficient_scope');
  assert.equal((await refusal(token, catalogAccess())).reason, 'insufficient_scope');
  const admin = issuer.issue({ subject: 'root', audience: 'vouch-registry', access: [{ type: 'registry', class: '', name: 'catalog', actions: ['*'] }] });
  await controller().authorized({ authorization: `Bearer ${admin.token}`, host: undefined }, catalogAccess());
});

test('audience, expiry and another CA are refused', async () => {
  const { token } = issuer.issue({ subject: 'alice', audience: 'vouch-registry', access: [{ type: 'repository', class: '', name: 'a/b', actions: ['pull'] }] });
  const need = repositoryAccess('a/b', ['pull']);
  assert.equal((await refusal(token, need, controller(NOW, 'other-service'))).reason, 'invalid_token');
  assert.equal((await refusal(token, need, controller(NOW + (300 + 61) * 1000))).reason, 'invalid_token', 'past exp + leeway');
  await controller(NOW + (300 + 59) * 1000).authorized({ authorization: `Bearer ${token}`, host: undefined }, need);
  const stranger = new TokenAccessController({
    realm: 'r',
    service: 'vouch-registry',
    issuer: 'vouch-test',
    roots: parseCertBundle(createSigningMaterial({ now: new Date(NOW) }).rootPem),
    now: () => NOW,
  });
  assert.equal((await refusal(token, need, stranger)).reason, 'invalid_token');
});

test('header and claims follow the token spec; jose verifies the signature independently', async () => {
  const { token, expiresIn, issuedAt, jti } = issuer.issue({
    subject: '',
    audience: 'vouch-registry',
    access: [
      { type: 'repository', class: '', name: 'library/alpine', actions: ['pull'] },
      { type: 'repository', class: 'plugin', name: 'v/p', actions: ['pull'] },
    ],
  });
  const [h, c] = token.split('.');
  const header = decode(h!);
  assert.deepEqual(Object.keys(header), ['typ', 'alg', 'x5c']);
  assert.equal(header['alg'], 'ES256');
  const x5c = header['x5c'] as string[];
  assert.equal(x5c.length, 1);
  const leaf = new X509Certificate(Buffer.from(x5c[0]!, 'base64'));
  assert.equal(leaf.toString(), new X509Certificate(material.chainPem).toString());
  const claims = decode(c!);
  const iat = Math.floor(NOW / 1000);
  assert.deepEqual(claims, {
    iss: 'vouch-test',
    sub: '',
    aud: 'vouch-registry',
    exp: iat + 300,
    nbf: iat,
    iat,
    jti,
    access: [
      { type: 'repository', name: 'library/alpine', actions: ['pull'] },
      { type: 'repository', class: 'plugin', name: 'v/p', actions: ['pull'] },
    ],
  });
  assert.equal(expiresIn, 300);
  assert.equal(issuedAt.getTime(), iat * 1000);
  assert.match(jti, /^[A-Za-z0-9_-]{22}$/);
  assert.notEqual(issuer.issue({ subject: '', audience: 'x', access: [] }).jti, jti);
  assert.equal(decodeProtectedHeader(token).alg, 'ES256');
  const key = await importX509(leaf.toString(), 'ES256');
  const verified = await jwtVerify(token, key, { issuer: 'vouch-test', audience: 'vouch-registry', currentDate: new Date(NOW) });
  assert.equal(verified.payload.iat, iat);
  await assert.rejects(jwtVerify(token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA'), key, { currentDate: new Date(NOW) }));
});

test('tokens never outlive the signing certificate; an expired one refuses to sign', () => {
  const short = createSigningMaterial({ now: new Date(NOW), days: 1 });
  const leafEnd = new X509Certificate(short.chainPem).validToDate.getTime();
  const clock = { t: NOW };
  const i = new TokenIssuer({ issuer: 'x', material: short, now: () => clock.t });
  assert.equal(i.issue({ subject: 'a', audience: 's', access: [] }).expiresIn, 300);
  clock.t = leafEnd - 100_000;
  assert.equal(i.issue({ subject: 'a', audience: 's', access: [] }).expiresIn, 100, 'exp cut to notAfter');
  clock.t = leafEnd + 1000;
  assert.throws(() => i.issue({ subject: 'a', audience: 's', access: [] }), StateError);
});

test('signing certificate issued by a CA the caller already has', async () => {
  const caKey = generatePrivateKey('ecdsa');
  const caPem = issueCertificate({ commonName: 'vouch local CA', key: caKey, ca: true, days: 3650, now: new Date(NOW) });
  const keyPem = privateKeyObject(caKey).export({ type: 'pkcs8', format: 'pem' }) as string;
  const m = createSigningMaterial({ ca: { certPem: caPem, keyPem }, now: new Date(NOW) });
  assert.equal(m.rootPem, caPem);
  const i = new TokenIssuer({ issuer: 'vouch-test', material: m, now: () => NOW });
  const { token } = i.issue({ subject: 'alice', audience: 'vouch-registry', access: [{ type: 'repository', class: '', name: 'a/b', actions: ['pull'] }] });
  const ac = new TokenAccessController({ realm: 'r', service: 'vouch-registry', issuer: 'vouch-test', roots: parseCertBundle(caPem), now: () => NOW });
  await ac.authorized({ authorization: `Bearer ${token}`, host: undefined }, repositoryAccess('a/b', ['pull']));
});

test('bad material and settings are refused at construction', () => {
  const other = createSigningMaterial({ now: new Date(NOW) });
  assert.throws(() => new TokenIssuer({ issuer: 'x', material: { ...material, keyPem: other.keyPem }, now: () => NOW }), ConfigError);
  assert.throws(() => new TokenIssuer({ issuer: 'x', material: { ...material, rootPem: other.rootPem }, now: () => NOW }), ConfigError);
  assert.throws(() => new TokenIssuer({ issuer: 'x', material: { ...material, rootPem: '' }, now: () => NOW }), ConfigError);
  assert.throws(() => new TokenIssuer({ issuer: 'x', material: { ...material, keyPem: 'nope' }, now: () => NOW }), ConfigError);
  assert.throws(() => new TokenIssuer({ issuer: 'x', material, now: () => NOW + 400 * 86_400_000 }), ConfigError, 'expired signing certificate');
  assert.throws(() => new TokenIssuer({ issuer: '', material, now: () => NOW }), ConfigError);
  assert.throws(() => new TokenIssuer({ issuer: 'x', material, ttlSeconds: 59, now: () => NOW }), RangeError);
  assert.throws(() => new TokenIssuer({ issuer: 'x', material, ttlSeconds: 86_401, now: () => NOW }), RangeError);
});
