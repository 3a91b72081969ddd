/**
 * Private keys in notary's internal forms (spec §2.4) and signing with them (§2.3).
 *
 * - ecdsa: SEC1 `ECPrivateKey` DER → signature raw r‖s (64 bytes for P-256), method `ecdsa`
 * - rsa: PKCS#1 DER → RSASSA-PSS SHA-256, salt 32, method `rsapss`
 * - ed25519: 96 bytes pub‖seed‖pub → pure Ed25519, method `eddsa`
 *
 * Not here: key files at rest (src/keystore) and remote signing (src/signer).
 */
import { constants, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { DeserializationError } from '../errors/index.ts';
import type { PrivateKey, TufKey } from './types.ts';

const keyObjects = new WeakMap<PrivateKey, KeyObject>();

/** A fresh key: ECDSA P-256 (client keys) or Ed25519 (server timestamp/snapshot keys). */
export function generatePrivateKey(alg: 'ecdsa' | 'ed25519'): PrivateKey {
  if (alg === 'ecdsa') {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return fromKeyObject('ecdsa', privateKey);
  }
  if (alg === 'ed25519') {
    const { privateKey } = generateKeyPairSync('ed25519');
    return fromKeyObject('ed25519', privateKey);
  }
  throw new TypeError(`unsupported key algorithm: ${String(alg)}`);
}

/**
 * A private key from its internal bytes.
 * @throws DeserializationError when the bytes are not a valid key of that type (for ed25519 also
 *   when the embedded public keys do not belong to the seed)
 */
export function privateKeyFromRaw(keytype: 'ecdsa' | 'rsa' | 'ed25519', raw: Uint8Array): PrivateKey {
  try {
    switch (keytype) {
      case 'ecdsa':
        return fromKeyObject('ecdsa', createPrivateKey({ key: Buffer.from(raw), format: 'der', type: 'sec1' }));
      case 'rsa':
        return fromKeyObject('rsa', createPrivateKey({ key: Buffer.from(raw), format: 'der', type: 'pkcs1' }));
      case 'ed25519': {
        if (raw.length !== 96) throw new Error(`ed25519 private key must be 96 bytes, got ${raw.length}`);
        const pub = raw.subarray(0, 32);
        const seed = raw.subarray(32, 64);
        const ko = createPrivateKey({
          key: { kty: 'OKP', crv: 'Ed25519', d: b64url(seed), x: b64url(pub) },
          format: 'jwk',
        });
        const key = fromKeyObject('ed25519', ko);
        if (!equalBytes(key.raw, raw)) throw new Error('ed25519 public key does not match the seed');
        return key;
      }
      default:
        throw new Error(`unsupported private key type ${String(keytype)}`);
    }
  } catch (err) {
    if (err instanceof DeserializationError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new DeserializationError(`${keytype} private key: ${reason}`, { cause: err });
  }
}

/** Build the internal form from a node KeyObject (the inverse of `privateKeyFromRaw`). */
export function fromKeyObject(keytype: 'ecdsa' | 'rsa' | 'ed25519', ko: KeyObject): PrivateKey {
  const pubObj = createPublicKey(ko);
  let raw: Uint8Array;
  let publicKey: TufKey;
  if (keytype === 'ed25519') {
    if (ko.asymmetricKeyType !== 'ed25519') throw new Error('not an ed25519 key');
    const jwk = ko.export({ format: 'jwk' });
    const pub = Buffer.from(jwk.x ?? '', 'base64url');
    const seed = Buffer.from(jwk.d ?? '', 'base64url');
    raw = new Uint8Array(Buffer.concat([pub, seed, pub]));
    publicKey = { keytype: 'ed25519', public: new Uint8Array(pub) };
  } else {
    const expected = keytype === 'ecdsa' ? 'ec' : 'rsa';
    if (ko.asymmetricKeyType !== expected) throw new Error(`not an ${keytype} key`);
    raw = new Uint8Array(ko.export({ format: 'der', type: keytype === 'ecdsa' ? 'sec1' : 'pkcs1' }));
    publicKey = { keytype, public: new Uint8Array(pubObj.export({ format: 'der', type: 'spki' })) };
  }
  const key: PrivateKey = { keytype, publicKey, raw };
  keyObjects.set(key, ko);
  return key;
}

/** The node KeyObject of a private key (cached per key object). */
export function privateKeyObject(key: PrivateKey): KeyObject {
  let ko = keyObjects.get(key);
  if (ko === undefined) {
    ko = privateKeyFromRawObject(key);
    keyObjects.set(key, ko);
  }
  return ko;
}

function privateKeyFromRawObject(key: PrivateKey): KeyObject {
  const k = privateKeyFromRaw(key.keytype, key.raw);
  return keyObjects.get(k) as KeyObject;
}

/** Sign `msg` (canonical `signed` bytes) the way notary's own signers do. */
export function signMessage(key: PrivateKey, msg: Uint8Array): { method: string; sig: Uint8Array } {
  const ko = privateKeyObject(key);
  switch (key.keytype) {
    case 'ecdsa':
      return { method: 'ecdsa', sig: new Uint8Array(sign('sha256', msg, { key: ko, dsaEncoding: 'ieee-p1363' })) };
    case 'rsa':
      return {
        method: 'rsapss',
        sig: new Uint8Array(sign('sha256', msg, { key: ko, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })),
      };
    case 'ed25519':
      return { method: 'eddsa', sig: new Uint8Array(sign(null, msg, ko)) };
    default:
      throw new TypeError(`cannot sign with key type ${String(key.keytype)}`);
  }
}

function b64url(b: Uint8Array): string {
  return Buffer.from(b).toString('base64url');
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
