import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { canonicalize, fromBase64, parseJson } from '../canonical/index.ts';
import { CertificateError, DeserializationError } from '../errors/index.ts';
import { canonicalKeyId, keyFromJSON, keyToJSON, tufKeyId } from './index.ts';

const FIXTURES = new URL('../../test/fixtures/crypto/', import.meta.url);
const readJson = (p: string): unknown => parseJson(new Uint8Array(readFileSync(new URL(p, FIXTURES))), p);

test('tufKeyId: spec §2.2 ed25519 vector', () => {
  const key = keyFromJSON({ keytype: 'ed25519', keyval: { private: null, public: '5uesIk+wlRBHUHVfaA++VvahNutJgOYEzQSAdjKBRaI=' } });
  assert.equal(tufKeyId(key), '37d4f0ee96719759bea4a9fea9fd0c4e0508819ca01ade8f211c10456f87356e');
  assert.equal(canonicalKeyId(key), tufKeyId(key));
});

test('keyToJSON: canonical form is what gets hashed', () => {
  const key = { keytype: 'ed25519', public: fromBase64('5uesIk+wlRBHUHVfaA++VvahNutJgOYEzQSAdjKBRaI=') };
  assert.deepEqual(keyToJSON(key), { keytype: 'ed25519', keyval: { private: null, public: '5uesIk+wlRBHUHVfaA++VvahNutJgOYEzQSAdjKBRaI=' } });
  assert.equal(
    new TextDecoder().decode(canonicalize(keyToJSON(key))),
    '{"keytype":"ed25519","keyval":{"private":null,"public":"5uesIk+wlRBHUHVfaA++VvahNutJgOYEzQSAdjKBRaI="}}',
  );
});

test('tufKeyId: every key in the notary 0.7 roots hashes to its map key', () => {
  for (const path of ['notary07/root.3.json', 'notary07-rsa/root.json', 'compat/notary0.3/root.json']) {
    const keys = (readJson(path) as { signed: { keys: Record<string, unknown> } }).signed.keys;
    for (const [id, raw] of Object.entries(keys)) assert.equal(tufKeyId(keyFromJSON(raw)), id, `${path} ${id}`);
  }
});

test('canonicalKeyId: x509 keys hash the leaf public key (notary key file names)', () => {
  const expected = readJson('notary07/key-ids.json') as Record<string, string>;
  const keys = new Map<string, unknown>();
  for (const path of ['notary07/root.3.json', 'notary07-rsa/root.json']) {
    for (const [id, k] of Object.entries((readJson(path) as { signed: { keys: Record<string, unknown> } }).signed.keys)) keys.set(id, k);
  }
  let checked = 0;
  for (const [tufId, canonicalId] of Object.entries(expected)) {
    if (tufId === 'comment') continue;
    const key = keyFromJSON(keys.get(tufId));
    assert.equal(canonicalKeyId(key), canonicalId, tufId);
    checked++;
  }
  assert.equal(checked, 4);
});

test('canonicalKeyId: x509 key without a parsable certificate throws CertificateError', () => {
  assert.throws(() => canonicalKeyId({ keytype: 'ecdsa-x509', public: new TextEncoder().encode('not a pem') }), CertificateError);
  const junk = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
  assert.throws(() => canonicalKeyId({ keytype: 'rsa-x509', public: new TextEncoder().encode(junk) }), CertificateError);
});

test('keyFromJSON: Go decoding rules', () => {
  const pub = 'AQID';
  assert.deepEqual(keyFromJSON({ keytype: 'ecdsa', keyval: { private: null, public: pub } }), { keytype: 'ecdsa', public: new Uint8Array([1, 2, 3]) });
  // Field names match case-insensitively; unknown fields are ignored; private may be absent.
  assert.deepEqual(keyFromJSON({ KeyType: 'rsa', KEYVAL: { Public: pub }, scheme: 'x' }), { keytype: 'rsa', public: new Uint8Array([1, 2, 3]) });
  // A private part is ignored (never kept in a public key).
  assert.deepEqual(keyFromJSON({ keytype: 'ed25519', keyval: { private: 'AAAA', public: pub } }).public, new Uint8Array([1, 2, 3]));
  // Unknown key types parse (they just never verify); a missing keytype is "".
  assert.equal(keyFromJSON({ keytype: 'dsa', keyval: { public: pub } }).keytype, 'dsa');
  assert.equal(keyFromJSON({ keyval: { public: pub } }).keytype, '');
  assert.deepEqual(keyFromJSON({ keytype: 'x', keyval: { public: '' } }).public, new Uint8Array(0));
});

test('keyFromJSON: malformed keys throw DeserializationError', () => {
  const bad: unknown[] = [
    null,
    'key',
    [],
    { keytype: 1, keyval: { public: 'AQID' } },
    { keytype: 'ecdsa' },
    { keytype: 'ecdsa', keyval: null },
    { keytype: 'ecdsa', keyval: { public: null } },
    { keytype: 'ecdsa', keyval: { public: 'AQI' } },
    { keytype: 'ecdsa', keyval: { public: 'AQID', private: 5 } },
    { keytype: 'ecdsa', keyval: { public: 'AQID', private: '!!' } },
  ];
  for (const v of bad) assert.throws(() => keyFromJSON(v), DeserializationError, JSON.stringify(v));
});
