import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { PassphraseError, StorageError } from '../errors/index.ts';
import { PBES2_COUNT, sealPrivateKey, unsealPrivateKey } from './seal.ts';

function header(jwe: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwe.split('.')[0] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('sealPrivateKey / unsealPrivateKey (spec §8.3)', () => {
  const raw = Uint8Array.from(randomBytes(96));

  it('round-trips the raw bytes', async () => {
    const jwe = await sealPrivateKey(raw, 'correct horse');
    assert.deepEqual(await unsealPrivateKey(jwe, 'correct horse'), raw);
  });

  it("uses notary-signer's JWE parameters with a random salt", async () => {
    const a = await sealPrivateKey(raw, 'pw');
    const b = await sealPrivateKey(raw, 'pw');
    assert.equal(a.split('.').length, 5, 'compact serialisation');
    const h = header(a);
    assert.equal(h['alg'], 'PBES2-HS256+A128KW');
    assert.equal(h['enc'], 'A256GCM');
    assert.equal(h['p2c'], PBES2_COUNT);
    assert.equal(PBES2_COUNT, 8192);
    assert.equal(typeof h['p2s'], 'string');
    assert.ok(Buffer.from(String(h['p2s']), 'base64url').length >= 16);
    assert.notEqual(h['p2s'], header(b)['p2s']);
    assert.notEqual(a, b);
  });

  it('does not contain the key bytes in the clear', async () => {
    const jwe = await sealPrivateKey(raw, 'pw');
    const text = Buffer.from(jwe);
    assert.equal(text.indexOf(Buffer.from(raw.subarray(0, 16))), -1);
    assert.ok(!jwe.includes(Buffer.from(raw).toString('base64url').slice(0, 20)));
    assert.ok(!jwe.includes(Buffer.from(raw).toString('hex').slice(0, 20)));
  });

  it('a wrong passphrase is a PassphraseError', async () => {
    const jwe = await sealPrivateKey(raw, 'right');
    await assert.rejects(unsealPrivateKey(jwe, 'wrong'), PassphraseError);
    await assert.rejects(unsealPrivateKey(jwe, ''), PassphraseError);
  });

  it('altered ciphertext is refused', async () => {
    const jwe = await sealPrivateKey(raw, 'pw');
    const parts = jwe.split('.');
    const ct = Buffer.from(parts[3] ?? '', 'base64url');
    ct[0] = (ct[0] ?? 0) ^ 1;
    parts[3] = ct.toString('base64url');
    await assert.rejects(unsealPrivateKey(parts.join('.'), 'pw'), PassphraseError);
  });

  it('garbage and other algorithms are StorageErrors', async () => {
    await assert.rejects(unsealPrivateKey('not a jwe', 'pw'), StorageError);
    const parts = (await sealPrivateKey(raw, 'pw')).split('.');
    const h = header(parts.join('.'));
    parts[0] = Buffer.from(JSON.stringify({ ...h, alg: 'dir' })).toString('base64url');
    await assert.rejects(unsealPrivateKey(parts.join('.'), 'pw'), StorageError);
  });

  it('refuses to seal under an empty passphrase', async () => {
    await assert.rejects(sealPrivateKey(raw, ''), PassphraseError);
  });
});
