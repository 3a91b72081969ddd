/**
 * Just enough of notary's metadata dialect to forge uploads in end-to-end tests: canonical JSON
 * (spec §1.1), the Go envelope (§1.2), key IDs (§2.2), ECDSA signatures (§2.3) and the notary
 * client's encrypted key files (§9.2).
 *
 * This is deliberately independent of src/: the tests must not trust the code they test.
 * Only ECDSA keys are handled (what the notary CLI creates); hashing is sha256 + sha512.
 *
 * Example:
 *   const keys = await readTrustDirKeys(cli.trustDir, PASSPHRASE);
 *   const env = parseEnvelope((await getMeta(srv, gun, 'targets')).body);
 *   env.signed.version += 1;
 *   const bytes = signEnvelope(env.signed, [keys.byRole('targets')]);
 */
import { createDecipheriv, createHash, createPrivateKey, createPublicKey, pbkdf2Sync, sign, type KeyObject } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

// ---------------------------------------------------------------------------------------------
// canonical JSON and the envelope

/** docker/go canonical JSON: sorted keys, no whitespace, only `"` and `\` escaped, integers only. */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`canonical JSON: unsupported number ${value}`);
    return String(value);
  }
  if (typeof value === 'string') return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : Buffer.from(a) > Buffer.from(b) ? 1 : 0));
    return `{${keys.map((k) => `${canonicalJson(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
  }
  throw new Error(`canonical JSON: unsupported value of type ${typeof value}`);
}

/** Go's encoding/json HTML escaping, applied to already-serialised JSON. */
function htmlEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export interface Signature {
  keyid: string;
  method: string;
  sig: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface Envelope {
  signed: Json;
  signatures: Signature[];
}

export function parseEnvelope(bytes: Uint8Array | string): Envelope {
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8');
  return JSON.parse(text) as Envelope;
}

/** The file bytes Go would write for this envelope. */
export function serializeEnvelope(env: Envelope): string {
  const sigs = env.signatures.map((s) => `{"keyid":${JSON.stringify(s.keyid)},"method":${JSON.stringify(s.method)},"sig":${JSON.stringify(s.sig)}}`);
  return htmlEscape(`{"signed":${canonicalJson(env.signed)},"signatures":[${sigs.join(',')}]}`);
}

// ---------------------------------------------------------------------------------------------
// keys

export interface PublicKeyJson {
  keytype: string;
  keyval: { private: null; public: string };
}

/** TUF key ID: hex sha256 of the canonical public key JSON. */
export function keyIdOf(key: PublicKeyJson): string {
  return createHash('sha256').update(canonicalJson({ keytype: key.keytype, keyval: { private: null, public: key.keyval.public } })).digest('hex');
}

/** `ecdsa` public key JSON of a KeyObject (SPKI DER). */
export function ecdsaPublicJson(key: KeyObject): PublicKeyJson {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return { keytype: 'ecdsa', keyval: { private: null, public: pub.export({ format: 'der', type: 'spki' }).toString('base64') } };
}

/** `ecdsa-x509` public key JSON of a PEM certificate. */
export function x509PublicJson(certPem: string): PublicKeyJson {
  return { keytype: 'ecdsa-x509', keyval: { private: null, public: Buffer.from(certPem).toString('base64') } };
}

/** Canonical ID of a key JSON: for *-x509 the ID of the leaf's bare public key (spec §2.2). */
export function canonicalIdOf(key: PublicKeyJson): string {
  if (!key.keytype.endsWith('-x509')) return keyIdOf(key);
  const pem = Buffer.from(key.keyval.public, 'base64').toString('utf8');
  const first = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(pem);
  if (first === null) throw new Error('x509 key without a certificate');
  const pub = createPublicKey(first[0]);
  return keyIdOf({ keytype: key.keytype.replace(/-x509$/, ''), keyval: { private: null, public: pub.export({ format: 'der', type: 'spki' }).toString('base64') } });
}

export interface SigningKey {
  /** The key ID to put in the signature (must match the role's key listing). */
  readonly keyid: string;
  readonly key: KeyObject;
}

/** Sign canonical(signed) with ECDSA P-256 (raw r‖s) for every key; returns the file bytes. */
export function signEnvelope(signed: Json, keys: readonly SigningKey[]): string {
  const msg = Buffer.from(canonicalJson(signed));
  const signatures = keys.map((k) => ({
    keyid: k.keyid,
    method: 'ecdsa',
    sig: sign('sha256', msg, { key: k.key, dsaEncoding: 'ieee-p1363' }).toString('base64'),
  }));
  return serializeEnvelope({ signed, signatures });
}

/** Notary file meta (`{hashes:{sha256,sha512},length}`) of some bytes. */
export function fileMeta(bytes: Uint8Array | string): { hashes: { sha256: string; sha512: string }; length: number } {
  const b = typeof bytes === 'string' ? Buffer.from(bytes) : Buffer.from(bytes);
  return {
    hashes: { sha256: createHash('sha256').update(b).digest('base64'), sha512: createHash('sha512').update(b).digest('base64') },
    length: b.length,
  };
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// the notary client's key files (spec §9.2)

interface Der {
  tag: number;
  content: Buffer;
  /** offset just past this element */
  end: number;
}

function readDer(buf: Buffer, offset: number): Der {
  const tag = buf[offset];
  let len = buf[offset + 1];
  if (tag === undefined || len === undefined) throw new Error('DER: truncated');
  let p = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[p + i] ?? 0);
    p += n;
  }
  return { tag, content: buf.subarray(p, p + len), end: p + len };
}

function derChildren(content: Buffer): Der[] {
  const out: Der[] = [];
  let p = 0;
  while (p < content.length) {
    const d = readDer(content, p);
    out.push(d);
    p = d.end;
  }
  return out;
}

function child(list: Der[], i: number): Der {
  const d = list[i];
  if (d === undefined) throw new Error('DER: missing element');
  return d;
}

/** Decrypt notary's PBES2/PBKDF2-SHA1/AES-256-CBC EncryptedPrivateKeyInfo into a KeyObject. */
export function decryptNotaryKey(der: Buffer, passphrase: string): KeyObject {
  const top = derChildren(readDer(der, 0).content);
  const algId = derChildren(child(top, 0).content);
  const params = derChildren(child(algId, 1).content);
  const kdf = derChildren(child(params, 0).content);
  const kdfParams = derChildren(child(kdf, 1).content);
  const salt = child(kdfParams, 0).content;
  const iterations = child(kdfParams, 1).content.readUIntBE(0, child(kdfParams, 1).content.length);
  const iv = child(derChildren(child(params, 1).content), 1).content;
  const key = pbkdf2Sync(passphrase, salt, iterations, 32, 'sha1');
  const decipher = createDecipheriv('aes-256-cbc', key, iv);
  const plain = Buffer.concat([decipher.update(child(top, 1).content), decipher.final()]);
  return parseNotaryInnerKey(plain);
}

/** notary's inner form: SEQUENCE{ INTEGER, SEQUENCE OF OID, OCTET STRING key } (ECDSA → SEC1). */
function parseNotaryInnerKey(plain: Buffer): KeyObject {
  const parts = derChildren(readDer(plain, 0).content);
  const keyBytes = child(parts, 2).content;
  const algs = derChildren(child(parts, 1).content).map((d) => d.content.toString('hex'));
  if (algs[0] === '2a8648ce3d0201') return createPrivateKey({ key: keyBytes, format: 'der', type: 'sec1' });
  if (algs[0] === '2a864886f70d010101') return createPrivateKey({ key: keyBytes, format: 'der', type: 'pkcs1' });
  throw new Error(`unsupported key algorithm OID ${algs[0]}`);
}

export interface TrustDirKey {
  /** File name without `.key` = canonical key ID. */
  readonly id: string;
  readonly role: string;
  readonly gun: string | undefined;
  readonly key: KeyObject;
}

/** Every private key in `<trustDir>/private`, decrypted with the passphrase. */
export async function readTrustDirKeys(trustDir: string, passphrase: string): Promise<TrustDirKey[]> {
  const dir = join(trustDir, 'private');
  const out: TrustDirKey[] = [];
  for (const name of await readdir(dir)) {
    if (!name.endsWith('.key')) continue;
    const pem = await readFile(join(dir, name), 'utf8');
    const m = /-----BEGIN ([A-Z ]+)-----\n([\s\S]*?)-----END \1-----/.exec(pem);
    if (m === null) continue;
    const [, , inner = ''] = m;
    const blank = inner.indexOf('\n\n');
    const headerText = blank >= 0 ? inner.slice(0, blank) : '';
    const body = blank >= 0 ? inner.slice(blank + 2) : inner;
    const headers = Object.fromEntries(
      headerText
        .split('\n')
        .filter((l) => l.includes(':'))
        .map((l) => [l.slice(0, l.indexOf(':')).trim(), l.slice(l.indexOf(':') + 1).trim()]),
    );
    const der = Buffer.from(body.replace(/\s+/g, ''), 'base64');
    out.push({ id: name.slice(0, -4), role: headers['role'] ?? '', gun: headers['gun'], key: decryptNotaryKey(der, passphrase) });
  }
  return out;
}

/** The signing key for a role listed in root.json (`root`, `targets`, `snapshot`), from a trust dir's keys. */
export function signingKeyFor(root: Json, role: string, keys: readonly TrustDirKey[]): SigningKey {
  const ids: string[] = root.roles[role].keyids;
  for (const keyid of ids) {
    const canonical = canonicalIdOf(root.keys[keyid] as PublicKeyJson);
    const k = keys.find((x) => x.id === canonical || x.id === keyid);
    if (k !== undefined) return { keyid, key: k.key };
  }
  throw new Error(`no private key for ${role} (${ids.join(', ')})`);
}
