import assert from 'node:assert/strict';
import { createDecipheriv, pbkdf2Sync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { canonicalKeyId, generatePrivateKey, pemDecode, privateKeyFromRaw, signMessage, verifySignature } from '../crypto/index.ts';
import type { PrivateKey } from '../crypto/index.ts';
import { children, encodeOctetString, encodeOid, encodeSequence, encodeUnsignedInteger, parseDer, readInteger, readOid } from '../crypto/der.ts';
import { DeserializationError, PassphraseError } from '../errors/index.ts';
import {
  decodePrivateKeyPem,
  decodePublicKeyPem,
  encodePemBlock,
  encodePrivateKeyPem,
  encodePublicKeyPem,
  readPrivateKeyAttributes,
} from './key-file.ts';
import { decodePkcs8, encodePkcs8, encryptPkcs8, PKCS8_OID, WRONG_PASSPHRASE_MESSAGE } from './key-file-pkcs8.ts';

const FIXTURES = join(import.meta.dirname, '../../test/fixtures/keys');
const fixture = (p: string): Buffer => readFileSync(join(FIXTURES, p));

const NOTARY_ROOT = '3c3d98a98525d5f928aa1bea31020671f30f382b14ed2390f0b40923550e80f1';
const NOTARY_RELEASES = '75194658a520952f0b239ac0d275ed4605287d49f16cf802cae49418bc94d32c';
const NOTARY_RSA_TARGETS = '3a57aa50657c95424bf3f1f6ae6086ee16e25ee1faca3c64150caa87db5683cd';
const NOTARY_EC_SNAPSHOT = '2c27941dbc3ef2fed7fbd290ec5800f11a8c57a6eb04dde174836f29237debbc';
const DOCKER_ALICE = '77e8d298ee811c1398d9015363730922a20fd705f4f1855fb46f26b4bcf8b013';
const OPENSSL_PASS = 'openssl-passphrase-1';

/** salt and IV of a notary `ENCRYPTED PRIVATE KEY` file. */
function pbes2SaltAndIv(pem: string): { salt: Uint8Array; iv: Uint8Array; encrypted: Uint8Array } {
  const [block] = pemDecode(pem);
  assert.ok(block);
  const [alg, data] = children(parseDer(block.bytes));
  const [, params] = children(alg!);
  const [kdf, scheme] = children(params!);
  const [salt] = children(children(kdf!)[1]!);
  const [, iv] = children(scheme!);
  return { salt: salt!.content, iv: iv!.content, encrypted: data!.content };
}

function assertSigns(key: PrivateKey): void {
  const msg = new TextEncoder().encode('{"signed":"by a key file"}');
  const { method, sig } = signMessage(key, msg);
  assert.equal(verifySignature(key.publicKey, method, msg, sig), true);
}

describe('key files written by notary and docker (spec §9.2)', () => {
  const cases: [string, string, string, string, 'ecdsa' | 'rsa'][] = [
    [`notary/${NOTARY_ROOT}.key`, 'root-passphrase-1', 'root', '', 'ecdsa'],
    [`notary/${NOTARY_RELEASES}.key`, 'delegation-passphrase-1', 'targets/releases', '', 'ecdsa'],
    [`notary/${NOTARY_RSA_TARGETS}.key`, 'targets-passphrase-1', 'targets', 'example.com/spec/app', 'rsa'],
    [`notary/${NOTARY_EC_SNAPSHOT}.key`, 'snapshot-passphrase-1', 'snapshot', 'example.com/spec/app', 'ecdsa'],
    [`docker/${DOCKER_ALICE}.key`, 'repository-passphrase-1', 'alice', '', 'ecdsa'],
  ];
  for (const [file, passphrase, role, gun, keytype] of cases) {
    it(`opens ${file} (${role}) and its canonical id is the file name`, () => {
      const text = fixture(file);
      const attrs = readPrivateKeyAttributes(text);
      assert.deepEqual([attrs.type, attrs.role, attrs.gun, attrs.encrypted], ['ENCRYPTED PRIVATE KEY', role, gun, true]);
      const decoded = decodePrivateKeyPem(text, passphrase);
      assert.equal(decoded.key.keytype, keytype);
      assert.equal(`${canonicalKeyId(decoded.key.publicKey)}.key`, file.split('/')[1]);
      assertSigns(decoded.key);
    });
    it(`re-encodes ${file} byte for byte given the same salt and IV`, () => {
      const text = fixture(file).toString('latin1');
      const { key } = decodePrivateKeyPem(text, passphrase);
      const { salt, iv } = pbes2SaltAndIv(text);
      assert.equal(encodePrivateKeyPem(key, { role, gun, passphrase, salt, iv }), text);
    });
  }

  it('refuses a wrong passphrase with notary\'s message, and an empty one', () => {
    const text = fixture(`notary/${NOTARY_ROOT}.key`);
    assert.throws(() => decodePrivateKeyPem(text, 'not-the-passphrase'), (e: unknown) => e instanceof PassphraseError && e.message === WRONG_PASSPHRASE_MESSAGE);
    assert.throws(() => decodePrivateKeyPem(text, ''), PassphraseError);
  });

  it('reads the public key files of `notary key generate -o` and `docker trust key generate`, and writes them identically', () => {
    for (const [pub, priv, pass, role] of [
      ['notary/bob.pem', 'notary/bob-key.pem', 'delegation-passphrase-1', 'bob'],
      ['docker/alice.pub', `docker/${DOCKER_ALICE}.key`, 'repository-passphrase-1', 'alice'],
    ] as const) {
      const decodedPub = decodePublicKeyPem(fixture(pub));
      const { key, role: privRole } = decodePrivateKeyPem(fixture(priv), pass);
      assert.equal(decodedPub.role, role);
      assert.equal(privRole, role);
      assert.equal(decodedPub.keyId, canonicalKeyId(key.publicKey));
      assert.equal(encodePublicKeyPem(key.publicKey, role), fixture(pub).toString('latin1'));
    }
  });

  it('refuses public key blocks notary refuses', () => {
    assert.throws(() => decodePublicKeyPem(fixture(`notary/${NOTARY_ROOT}.key`)), /unsupported PEM block type "ENCRYPTED PRIVATE KEY"/);
    const ed = generatePrivateKey('ed25519');
    assert.throws(() => decodePublicKeyPem(encodePublicKeyPem(ed.publicKey, 'x')), /unknown public key format/);
    assert.throws(() => decodePublicKeyPem('nothing here'), DeserializationError);
  });
});

describe('notary\'s PKCS#8 dialect (spec §9.2, §13 item 14)', () => {
  it('ECDSA: version 1, algorithms {id-ecPublicKey, prime256v1}, SEC1 key', () => {
    const key = generatePrivateKey('ecdsa');
    const [version, algs, octets, ...rest] = children(parseDer(encodePkcs8(key)));
    assert.equal(readInteger(version!), 1n);
    assert.deepEqual(children(algs!).map(readOid), [PKCS8_OID.ecPublicKey, '1.2.840.10045.3.1.7']);
    assert.deepEqual(octets!.content, key.raw);
    assert.equal(rest.length, 0);
  });

  it('RSA: version 0, {rsaEncryption} without NULL, PKCS#1 key', () => {
    const { key } = decodePrivateKeyPem(fixture('openssl/rsa-legacy-plain.pem'), '');
    const [version, algs, octets] = children(parseDer(encodePkcs8(key)));
    assert.equal(readInteger(version!), 0n);
    assert.deepEqual(children(algs!).map((n) => [n.tag, readOid(n)]), [[0x06, PKCS8_OID.rsaEncryption]]);
    assert.deepEqual(octets!.content, key.raw);
  });

  it('Ed25519: version 0, GnuPG OID, the 96 raw bytes; round trip through an encrypted file', () => {
    const key = generatePrivateKey('ed25519');
    const [version, algs, octets] = children(parseDer(encodePkcs8(key)));
    assert.equal(readInteger(version!), 0n);
    assert.deepEqual(children(algs!).map(readOid), ['1.3.6.1.4.1.11591.15.1']);
    assert.equal(octets!.content.length, 96);
    const pem = encodePrivateKeyPem(key, { role: 'timestamp', gun: 'example.com/app', passphrase: 'pw-123456' });
    const back = decodePrivateKeyPem(pem, 'pw-123456');
    assert.deepEqual(back.key.raw, key.raw);
    assertSigns(back.key);
  });

  it('encryption: PBES2 / PBKDF2 {8-byte salt, 2048} without keyLength or PRF / AES-256-CBC, 16-byte IV, PKCS#7 padding', () => {
    const key = generatePrivateKey('ecdsa');
    const pem = encodePrivateKeyPem(key, { role: 'root', passphrase: 'correct horse' });
    const [block] = pemDecode(pem);
    assert.ok(block);
    const [alg] = children(parseDer(block.bytes));
    const [pbes2, params] = children(alg!);
    assert.equal(readOid(pbes2!), PKCS8_OID.pbes2);
    const [kdf, scheme] = children(params!);
    const [kdfOid, kdfParams] = children(kdf!);
    assert.equal(readOid(kdfOid!), PKCS8_OID.pbkdf2);
    const kdfFields = children(kdfParams!);
    assert.equal(kdfFields.length, 2, 'only salt and iteration count');
    assert.equal(kdfFields[0]!.content.length, 8);
    assert.equal(readInteger(kdfFields[1]!), 2048n);
    const [encOid, iv] = children(scheme!);
    assert.equal(readOid(encOid!), PKCS8_OID.aes256Cbc);
    assert.equal(iv!.content.length, 16);
    // decrypt independently: PBKDF2-HMAC-SHA1, AES-256-CBC, padding present
    const { salt, encrypted } = pbes2SaltAndIv(pem);
    const k = pbkdf2Sync('correct horse', salt, 2048, 32, 'sha1');
    const d = createDecipheriv('aes-256-cbc', k, iv!.content);
    const plain = Buffer.concat([d.update(encrypted), d.final()]); // throws on bad padding
    assert.deepEqual(new Uint8Array(plain), encodePkcs8(key));
  });

  it('an inner structure that is exactly a block long still gets a full padding block', () => {
    const key = generatePrivateKey('ecdsa');
    const inner = encodePkcs8(key);
    const der = encryptPkcs8(inner, 'pw', { salt: new Uint8Array(8), iv: new Uint8Array(16) });
    const [, data] = children(parseDer(der));
    assert.equal(data!.content.length, inner.length + (16 - (inner.length % 16)));
  });

  it('headers are written like Go\'s pem.Encode: Proc-Type first, the rest sorted, blank line, 64 columns', () => {
    const text = encodePemBlock('EC PRIVATE KEY', { role: 'targets', 'DEK-Info': 'AES-256-CBC,00', gun: 'g', 'Proc-Type': '4,ENCRYPTED' }, new Uint8Array(60));
    const lines = text.split('\n');
    assert.deepEqual(lines.slice(0, 6), ['-----BEGIN EC PRIVATE KEY-----', 'Proc-Type: 4,ENCRYPTED', 'DEK-Info: AES-256-CBC,00', 'gun: g', 'role: targets', '']);
    assert.equal(lines[6]!.length, 64);
    assert.throws(() => encodePemBlock('X', { 'a:b': 'c' }, new Uint8Array(1)), TypeError);
  });

  it('gun before role; no headers when role and gun are empty; empty passphrase ⇒ PRIVATE KEY', () => {
    const key = generatePrivateKey('ecdsa');
    const withGun = encodePrivateKeyPem(key, { role: 'targets', gun: 'example.com/app', passphrase: 'x' });
    assert.match(withGun, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\ngun: example\.com\/app\nrole: targets\n\n/);
    const plain = encodePrivateKeyPem(key, { passphrase: '' });
    assert.match(plain, /^-----BEGIN PRIVATE KEY-----\nM/);
    const decoded = decodePrivateKeyPem(plain, '');
    assert.equal(decoded.encrypted, false);
    assert.deepEqual(decoded.key.raw, key.raw);
    // an unencrypted block opens whatever passphrase is offered
    assert.deepEqual(decodePrivateKeyPem(plain, 'anything').key.raw, key.raw);
  });
});

describe('files from other tools', () => {
  const ecId = NOTARY_EC_SNAPSHOT;
  const rsaId = NOTARY_RSA_TARGETS;
  const open = (file: string, pass: string): string => canonicalKeyId(decodePrivateKeyPem(fixture(file), pass).key.publicKey);

  it('reads OpenSSL PKCS#8 encrypted with hmacWithSHA1 and 2048 iterations', () => {
    assert.equal(open('openssl/pkcs8-ec-sha1.pem', OPENSSL_PASS), ecId);
    assert.equal(open('openssl/pkcs8-rsa-sha1.pem', OPENSSL_PASS), rsaId);
  });

  it('ignores the PRF field: OpenSSL\'s default hmacWithSHA256 file fails as a wrong passphrase', () => {
    assert.throws(() => open('openssl/pkcs8-ec-sha256.pem', OPENSSL_PASS), (e: unknown) => e instanceof PassphraseError && e.message === WRONG_PASSPHRASE_MESSAGE);
  });

  it('reads standard unencrypted PKCS#8 (RSA with NULL, curve in the algorithm only)', () => {
    assert.equal(open('openssl/pkcs8-ec-plain.pem', ''), ecId);
    assert.equal(open('openssl/pkcs8-rsa-plain.pem', ''), rsaId);
  });

  it('reads legacy EC/RSA PRIVATE KEY blocks, plain and RFC 1423 encrypted (AES-256-CBC, DES-EDE3-CBC)', () => {
    assert.equal(open('openssl/ec-legacy-plain.pem', ''), ecId);
    assert.equal(open('openssl/rsa-legacy-plain.pem', ''), rsaId);
    assert.equal(open('openssl/ec-legacy-aes256.pem', OPENSSL_PASS), ecId);
    assert.equal(open('openssl/rsa-legacy-3des.pem', OPENSSL_PASS), rsaId);
    assert.equal(readPrivateKeyAttributes(fixture('openssl/ec-legacy-aes256.pem')).encrypted, true);
    assert.throws(() => open('openssl/ec-legacy-aes256.pem', 'wrong'), PassphraseError);
    assert.throws(() => open('openssl/ec-legacy-aes256.pem', ''), PassphraseError);
  });

  it('reads a legacy ED25519 PRIVATE KEY block (96 raw bytes)', () => {
    const key = generatePrivateKey('ed25519');
    const decoded = decodePrivateKeyPem(encodePemBlock('ED25519 PRIVATE KEY', { role: 'timestamp' }, key.raw), '');
    assert.deepEqual(decoded.key.raw, key.raw);
    assert.equal(decoded.role, 'timestamp');
  });

  it('refuses standard Ed25519 PKCS#8, unknown block types and non-PEM input', () => {
    assert.throws(() => decodePrivateKeyPem(fixture('openssl/ed25519-standard.pem'), ''), /unsupported key type/);
    assert.throws(() => decodePrivateKeyPem(fixture('docker/alice.pub'), ''), /unknown key format/);
    assert.throws(() => readPrivateKeyAttributes('no pem'), /PEM block is empty/);
  });

  it('refuses encryption algorithms other than PBES2/PBKDF2/AES-256-CBC as malformed, not as a wrong passphrase', () => {
    const bogus = encodeSequence(
      encodeSequence(
        encodeOid(PKCS8_OID.pbes2),
        encodeSequence(
          encodeSequence(encodeOid(PKCS8_OID.pbkdf2), encodeSequence(encodeOctetString(new Uint8Array(8)), encodeUnsignedInteger(2048n))),
          encodeSequence(encodeOid('2.16.840.1.101.3.4.1.2'), encodeOctetString(new Uint8Array(16))),
        ),
      ),
      encodeOctetString(new Uint8Array(32)),
    );
    assert.throws(() => decodePrivateKeyPem(encodePemBlock('ENCRYPTED PRIVATE KEY', {}, bogus), 'pw'), (e: unknown) => e instanceof DeserializationError && /only AES-256-CBC/.test(e.message));
  });

  it('a garbage inner structure is an error, not a key', () => {
    assert.throws(() => decodePkcs8(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00])), DeserializationError);
    assert.throws(() => privateKeyFromRaw('ecdsa', new Uint8Array(5)), DeserializationError);
  });
});
