import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors/index.ts';
import { AuthChallengeError, catalogAccess, repositoryAccess, scopeParam, type Access } from './access.ts';
import { TokenAccessController } from './token.ts';
import { createTestTokenIssuer, type TestTokenIssuer } from './testing.ts';
import { libtrustKeyId } from './x509-chain.ts';

let issuer: TestTokenIssuer;
before(async () => {
  issuer = await createTestTokenIssuer({ issuer: 'test-issuer', service: 'notary-test', realm: 'https://auth.example/token' });
});

const PULL = repositoryAccess('foo/bar', ['pull']);
const PUSH_PULL = repositoryAccess('foo/bar', ['push', 'pull']);
const REALM = 'Bearer realm="https://auth.example/token",service="notary-test"';

async function refusal(authorization: string | undefined, need: readonly Access[], ac = issuer.controller()): Promise<AuthChallengeError> {
  try {
    await ac.authorized({ authorization, host: 'notary.example:4443' }, need);
  } catch (err) {
    assert.ok(err instanceof AuthChallengeError, String(err));
    return err;
  }
  assert.fail('expected a challenge');
}

function bearer(t: string): string {
  return `Bearer ${t}`;
}

test('a valid x5c token with the needed actions is granted', async () => {
  const t = issuer.mint({ access: [{ type: 'repository', name: 'foo/bar', actions: ['pull', 'push'] }] });
  const g = await issuer.controller().authorized({ authorization: bearer(t), host: undefined }, PUSH_PULL);
  assert.equal(g.subject, 'alice');
  assert.deepEqual(g.access, [{ type: 'repository', class: '', name: 'foo/bar', actions: ['pull', 'push'] }]);
});

test('no Authorization header: challenge without error=, scope lists the needed actions', async () => {
  const e = await refusal(undefined, PUSH_PULL);
  assert.equal(e.reason, 'token_required');
  assert.equal(e.challenge, `${REALM},scope="repository:foo/bar:push,pull"`);
  assert.deepEqual(e.access, PUSH_PULL);
  assert.equal((await refusal('Basic YTpi', PULL)).challenge, `${REALM},scope="repository:foo/bar:pull"`);
  assert.equal((await refusal('Bearer', PULL)).reason, 'token_required');
  assert.equal((await refusal('Bearer  x', PULL)).reason, 'token_required', 'three space-separated parts');
  assert.equal((await refusal('bEaReR x.y', PULL)).reason, 'invalid_token', 'scheme is case-insensitive');
});

test('catalog access and * grants', async () => {
  const e = await refusal(undefined, catalogAccess());
  assert.equal(e.challenge, `${REALM},scope="registry:catalog:*"`);
  const t = issuer.mint({ access: [{ type: 'repository', name: 'foo/bar', actions: ['*'] }] });
  await issuer.controller().authorized({ authorization: bearer(t), host: undefined }, repositoryAccess('foo/bar', ['push', 'pull', '*']));
  const c = issuer.mint({ access: [{ type: 'registry', name: 'catalog', actions: ['*'] }] });
  await issuer.controller().authorized({ authorization: bearer(c), host: undefined }, catalogAccess());
});

test('missing scope: insufficient_scope', async () => {
  const t = issuer.mint({ access: [{ type: 'repository', name: 'foo/bar', actions: ['pull'] }] });
  const e = await refusal(bearer(t), PUSH_PULL);
  assert.equal(e.reason, 'insufficient_scope');
  assert.equal(e.challenge, `${REALM},scope="repository:foo/bar:push,pull",error="insufficient_scope"`);
  const other = issuer.mint({ access: [{ type: 'repository', name: 'foo/baz', actions: ['*'] }] });
  assert.equal((await refusal(bearer(other), PULL)).reason, 'insufficient_scope');
  const classed = issuer.mint({ access: [{ type: 'repository', class: 'image', name: 'foo/bar', actions: ['pull'] }] });
  assert.equal((await refusal(bearer(classed), PULL)).reason, 'insufficient_scope', 'class must match');
});

test('invalid tokens: invalid_token with the challenge error parameter', async () => {
  const access = [{ type: 'repository', name: 'foo/bar', actions: ['pull'] }];
  const nowSec = Math.floor(issuer.now / 1000);
  const cases: [string, string][] = [
    ['expired beyond leeway', issuer.mint({ access, exp: nowSec - 61 })],
    ['no exp claim', issuer.mint({ access, exp: null })],
    ['not yet valid', issuer.mint({ access, nbf: nowSec + 61 })],
    ['wrong issuer', issuer.mint({ access, iss: 'someone-else' })],
    ['wrong audience', issuer.mint({ access, aud: 'other-service' })],
    ['array audience', issuer.mint({ access, aud: ['notary-test'] })],
    ['untrusted chain', issuer.mint({ access, signer: 'stranger' })],
    ['no key reference', issuer.mint({ access, keyRef: 'none' })],
    ['untrusted kid', issuer.mint({ access, keyRef: 'kid' })],
    ['untrusted bare jwk', issuer.mint({ access, keyRef: 'jwk' })],
    ['empty signature', issuer.mint({ access, signature: '' })],
    ['bad signature', issuer.mint({ access, signature: Buffer.alloc(64, 1).toString('base64url') })],
    ['alg not fitting the key', issuer.mint({ access, alg: 'ES384' })],
    ['RSA alg on an EC key', issuer.mint({ access, alg: 'RS256' })],
    ['two parts', 'a.b'],
    ['bad base64', 'a.b.c!'],
    ['claims not JSON', `${Buffer.from('{}').toString('base64url')}.${Buffer.from('nope').toString('base64url')}.AA`],
  ];
  for (const [what, token] of cases) {
    const e = await refusal(bearer(token), PULL);
    assert.equal(e.reason, 'invalid_token', what);
    assert.equal(e.challenge, `${REALM},scope="repository:foo/bar:pull",error="invalid_token"`, what);
  }
});

test('leeway: 60 s either side is tolerated', async () => {
  const access = [{ type: 'repository', name: 'foo/bar', actions: ['pull'] }];
  const nowSec = Math.floor(issuer.now / 1000);
  for (const t of [issuer.mint({ access, exp: nowSec - 59 }), issuer.mint({ access, nbf: nowSec + 59 })]) {
    await issuer.controller().authorized({ authorization: bearer(t), host: undefined }, PULL);
  }
});

test('other key references: RSA leaf, root-signed kid and jwk, jwk with its own chain', async () => {
  const access = [{ type: 'repository', name: 'foo/bar', actions: ['pull'] }];
  for (const t of [
    issuer.mint({ access, signer: 'rsa-leaf' }),
    issuer.mint({ access, signer: 'root', keyRef: 'kid' }),
    issuer.mint({ access, signer: 'root', keyRef: 'jwk' }),
    issuer.mint({ access, signer: 'root', keyRef: 'x5c' }),
    issuer.mint({ access, keyRef: 'jwk-x5c' }),
  ]) {
    await issuer.controller().authorized({ authorization: bearer(t), host: undefined }, PULL);
  }
});

test('certificates are checked against the clock', async () => {
  const t = issuer.mint({ access: [{ type: 'repository', name: 'foo/bar', actions: ['pull'] }], exp: Math.floor(issuer.now / 1000) + 10 * 86400 });
  const later = issuer.controller({ now: () => issuer.now + 2 * 86400_000 });
  assert.equal((await refusal(bearer(t), PULL, later)).reason, 'invalid_token');
});

test('autoredirect points the realm at the request host', async () => {
  const e = await refusal(undefined, PULL, issuer.controller({ autoRedirect: true }));
  assert.equal(e.challenge, 'Bearer realm="https://notary.example:4443/auth/token",service="notary-test",scope="repository:foo/bar:pull"');
});

test('create() reads the root bundle; empty or missing bundles are config errors', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-auth-'));
  try {
    const file = join(dir, 'root.crt');
    await issuer.writeRootBundle(file);
    const ac = await TokenAccessController.create(
      { realm: issuer.realm, service: issuer.service, issuer: issuer.issuer, rootCertBundle: file, autoRedirect: false },
      () => issuer.now,
    );
    const t = issuer.mint({ access: [{ type: 'repository', name: 'foo/bar', actions: ['pull'] }] });
    await ac.authorized({ authorization: bearer(t), host: undefined }, PULL);
    await writeFile(join(dir, 'empty.crt'), 'nothing here');
    const opts = { realm: 'r', service: 's', issuer: 'i', autoRedirect: false };
    await assert.rejects(TokenAccessController.create({ ...opts, rootCertBundle: join(dir, 'empty.crt') }), /at least one token signing root certificate/);
    await assert.rejects(TokenAccessController.create({ ...opts, rootCertBundle: join(dir, 'missing.crt') }), ConfigError);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('scope strings group actions per resource', () => {
  assert.equal(scopeParam([...repositoryAccess('a', ['push', 'pull']), ...repositoryAccess('b', ['*'])]), 'repository:a:push,pull repository:b:*');
  assert.equal(scopeParam([]), '');
});

test('libtrust key IDs have twelve base32 groups', async () => {
  const { createPublicKey } = await import('node:crypto');
  const { X509Certificate } = await import('node:crypto');
  const id = libtrustKeyId(createPublicKey(new X509Certificate(issuer.rootCertPem).publicKey.export({ type: 'spki', format: 'pem' })));
  assert.match(id, /^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/);
});
