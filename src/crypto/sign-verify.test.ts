import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { constants, createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { DeserializationError } from '../errors/index.ts';
import {
  certificateToTufKey,
  generatePrivateKey,
  pemDecode,
  pemEncode,
  privateKeyFromRaw,
  signMessage,
  tufKeyId,
  verifySignature,
  type TufKey,
} from './index.ts';

const FIXTURES = new URL('../../test/fixtures/crypto/', import.meta.url);
const readText = (p: string): string => readFileSync(new URL(p, FIXTURES), 'latin1');
const msg = new TextEncoder().encode('{"_type":"Targets","version":1}');
const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

function rsaTestKey(bits: number): { raw: Uint8Array } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return { raw: new Uint8Array(privateKey.export({ format: 'der', type: 'pkcs1' })) };
}
const rsa2048 = privateKeyFromRaw('rsa', rsaTestKey(2048).raw);

test('ecdsa: sign → verify round trip, raw r‖s of 64 bytes', () => {
  const key = generatePrivateKey('ecdsa');
  assert.equal(key.keytype, 'ecdsa');
  assert.equal(key.publicKey.keytype, 'ecdsa');
  const { method, sig } = signMessage(key, msg);
  assert.equal(method, 'ecdsa');
  assert.equal(sig.length, 64);
  assert.ok(verifySignature(key.publicKey, method, msg, sig));
  assert.ok(verifySignature(key.publicKey, 'ECDSA', msg, sig), 'method is case-insensitive');
});

test('ecdsa: tampered message or signature, wrong lengths and DER form fail', () => {
  const key = generatePrivateKey('ecdsa');
  const { sig } = signMessage(key, msg);
  const tampered = msg.slice();
  tampered[0] = tampered[0]! ^ 1;
  assert.equal(verifySignature(key.publicKey, 'ecdsa', tampered, sig), false);
  const badSig = sig.slice();
  badSig[10] = badSig[10]! ^ 0x40;
  assert.equal(verifySignature(key.publicKey, 'ecdsa', msg, badSig), false);
  assert.equal(verifySignature(key.publicKey, 'ecdsa', msg, sig.subarray(0, 63)), false);
  assert.equal(verifySignature(key.publicKey, 'ecdsa', msg, new Uint8Array([...sig, 0])), false);
  // The same signature ASN.1/DER-encoded is refused: notary requires raw r‖s.
  const der = sign('sha256', msg, { key: createPrivateKey({ key: Buffer.from(key.raw), format: 'der', type: 'sec1' }), dsaEncoding: 'der' });
  assert.equal(verifySignature(key.publicKey, 'ecdsa', msg, new Uint8Array(der)), false);
  // Wrong method for the key type.
  assert.equal(verifySignature(key.publicKey, 'eddsa', msg, sig), false);
  assert.equal(verifySignature(key.publicKey, 'rsapss', msg, sig), false);
});

test('ed25519: sign → verify, method eddsa, 96-byte internal form', () => {
  const key = generatePrivateKey('ed25519');
  assert.equal(key.raw.length, 96);
  assert.deepEqual(key.raw.subarray(0, 32), key.publicKey.public);
  assert.deepEqual(key.raw.subarray(64), key.publicKey.public);
  const { method, sig } = signMessage(key, msg);
  assert.equal(method, 'eddsa');
  assert.equal(sig.length, 64);
  assert.ok(verifySignature(key.publicKey, 'eddsa', msg, sig));
  assert.ok(verifySignature(key.publicKey, 'EdDSA', msg, sig));
  assert.equal(verifySignature(key.publicKey, 'ed25519', msg, sig), false, 'the method is eddsa, not ed25519');
  assert.equal(verifySignature(key.publicKey, 'eddsa', msg.subarray(1), sig), false);
  assert.equal(verifySignature(key.publicKey, 'eddsa', msg, sig.subarray(1)), false);
  const again = privateKeyFromRaw('ed25519', key.raw);
  assert.deepEqual(again.publicKey, key.publicKey);
});

test('ed25519: RFC 8032 test 1 through the internal form', () => {
  const seed = hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
  const pub = hex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
  const key = privateKeyFromRaw('ed25519', new Uint8Array([...pub, ...seed, ...pub]));
  const { sig } = signMessage(key, new Uint8Array(0));
  assert.equal(
    Buffer.from(sig).toString('hex'),
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  );
  assert.ok(verifySignature({ keytype: 'ed25519', public: pub }, 'eddsa', new Uint8Array(0), sig));
  // Public halves that do not belong to the seed are refused.
  const other = generatePrivateKey('ed25519').publicKey.public;
  assert.throws(() => privateKeyFromRaw('ed25519', new Uint8Array([...other, ...seed, ...other])), DeserializationError);
  assert.throws(() => privateKeyFromRaw('ed25519', seed), DeserializationError);
});

test('rsa: sign (rsapss, salt 32) → verify; pkcs1v15 verify; tamper fails', () => {
  const { method, sig } = signMessage(rsa2048, msg);
  assert.equal(method, 'rsapss');
  assert.equal(sig.length, 256);
  assert.ok(verifySignature(rsa2048.publicKey, 'rsapss', msg, sig));
  assert.equal(verifySignature(rsa2048.publicKey, 'rsapss', msg.subarray(1), sig), false);
  assert.equal(verifySignature(rsa2048.publicKey, 'rsapkcs1v15', msg, sig), false);
  const ko = createPrivateKey({ key: Buffer.from(rsa2048.raw), format: 'der', type: 'pkcs1' });
  const pkcs1 = new Uint8Array(sign('sha256', msg, ko));
  assert.ok(verifySignature(rsa2048.publicKey, 'rsapkcs1v15', msg, pkcs1));
  assert.equal(verifySignature(rsa2048.publicKey, 'rsapss', msg, pkcs1), false);
  // A PSS signature with another salt length is refused.
  const salt20 = new Uint8Array(sign('sha256', msg, { key: ko, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 20 }));
  assert.equal(verifySignature(rsa2048.publicKey, 'rsapss', msg, salt20), false);
  // Leading-zero-stripped or padded signatures are refused (length must equal the modulus).
  assert.equal(verifySignature(rsa2048.publicKey, 'rsapss', msg, new Uint8Array([0, ...sig])), false);
});

test('rsa: keys under 2048 bits never verify', () => {
  const small = privateKeyFromRaw('rsa', rsaTestKey(1024).raw);
  const { sig } = signMessage(small, msg);
  assert.equal(verifySignature(small.publicKey, 'rsapss', msg, sig), false);
});

test('pycrypto-pkcs#1 pss: rsa key whose public bytes are a PEM block', () => {
  const { sig } = signMessage(rsa2048, msg);
  const pemKey: TufKey = { keytype: 'rsa', public: new TextEncoder().encode(pemEncode('PUBLIC KEY', rsa2048.publicKey.public)) };
  assert.ok(verifySignature(pemKey, 'pycrypto-pkcs#1 pss', msg, sig));
  assert.equal(verifySignature(rsa2048.publicKey, 'pycrypto-pkcs#1 pss', msg, sig), false, 'DER public is not PEM');
  assert.equal(verifySignature(pemKey, 'rsapss', msg, sig), false, 'rsapss needs DER');
});

test('x509 keys verify with the certificate key; the real notary delegation key matches', () => {
  const rsaRoot = privateKeyFromRaw('rsa', pemDecode(readText('pki/notary07-rsa-root.key'))[0]!.bytes);
  const certKey = certificateToTufKey(readText('pki/notary07-rsa-root.crt'));
  assert.equal(certKey.keytype, 'rsa-x509');
  const { method, sig } = signMessage(rsaRoot, msg);
  assert.ok(verifySignature(certKey, method, msg, sig));
  assert.equal(verifySignature({ keytype: 'ecdsa-x509', public: certKey.public }, 'ecdsa', msg, sig), false);

  const deleg = privateKeyFromRaw('ecdsa', pemDecode(readText('pki/notary07-delegation.key'))[0]!.bytes);
  assert.equal(tufKeyId(deleg.publicKey), '75a32d44c4b4c51f7d126000109165539680d111da11ba001eb485ac65bb95c7');
  const ecdsaSig = signMessage(deleg, msg);
  assert.equal(verifySignature(certificateToTufKey(readText('pki/notary07-root.crt')), 'ecdsa', msg, ecdsaSig.sig), false, 'other key');
});

test('privateKeyFromRaw: round trip of generated keys and bad input', () => {
  const ec = generatePrivateKey('ecdsa');
  assert.deepEqual(privateKeyFromRaw('ecdsa', ec.raw).publicKey, ec.publicKey);
  assert.deepEqual(privateKeyFromRaw('rsa', rsa2048.raw).publicKey, rsa2048.publicKey);
  assert.throws(() => privateKeyFromRaw('ecdsa', new Uint8Array([1, 2, 3])), DeserializationError);
  assert.throws(() => privateKeyFromRaw('rsa', ec.raw), DeserializationError);
  // A PrivateKey built by hand (e.g. read from a key file) signs too.
  const copy = { keytype: ec.keytype, publicKey: ec.publicKey, raw: ec.raw.slice() };
  assert.ok(verifySignature(ec.publicKey, 'ecdsa', msg, signMessage(copy, msg).sig));
});

test('verifySignature never throws on garbage', () => {
  const ed = generatePrivateKey('ed25519');
  const cases: [TufKey, string][] = [
    [{ keytype: 'ecdsa', public: new Uint8Array([1, 2, 3]) }, 'ecdsa'],
    [{ keytype: 'ecdsa-x509', public: new TextEncoder().encode('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n') }, 'ecdsa'],
    [{ keytype: 'rsa', public: new Uint8Array(0) }, 'rsapss'],
    [{ keytype: 'rsa-x509', public: new Uint8Array(0) }, 'rsapkcs1v15'],
    [{ keytype: 'ed25519', public: new Uint8Array(31) }, 'eddsa'],
    [{ keytype: 'unknown', public: ed.publicKey.public }, 'eddsa'],
    [ed.publicKey, 'nonsense'],
    [ed.publicKey, ''],
  ];
  for (const [key, method] of cases) {
    assert.equal(verifySignature(key, method, msg, new Uint8Array(64)), false, `${key.keytype}/${method}`);
  }
  // An ecdsa key that is really an RSA SPKI does not verify as ecdsa.
  assert.equal(verifySignature({ keytype: 'ecdsa', public: rsa2048.publicKey.public }, 'ecdsa', msg, new Uint8Array(64)), false);
});
