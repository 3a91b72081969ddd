/**
 * Test support: build, sign and corrupt whole notary repositories in memory (root with a
 * generated x509 root certificate, targets, delegations, snapshot, timestamp), in the spirit of
 * notary's testutils and its swizzler. Everything is deterministic except key material; the
 * clock is whatever `now` the test passes.
 *
 * Files are produced exactly as notary would: canonical `signed`, Go envelope layout, Go times.
 *
 * @example
 *   const repo = TestRepo.create({ gun: 'example.com/app', now });
 *   repo.addDelegation('targets', 'targets/releases');
 *   repo.addTarget('targets/releases', 'v1', 'hello');
 *   repo.publish('targets', 'targets/releases');   // re-sign, then snapshot + timestamp
 *   const bad = resign(repo.bytes('targets'), repo.keys('targets'), (s) => { s.version = 0; });
 */
import { canonicalize, encodeEnvelope, fromBase64, parseJson, sha256, sha512, toBase64 } from '../../src/canonical/index.ts';
import {
  certificateToTufKey,
  generatePrivateKey,
  generateRootCertificate,
  keyToJSON,
  signMessage,
  tufKeyId,
} from '../../src/crypto/index.ts';
import type { PrivateKey, SignatureEntry, TufKey } from '../../src/crypto/types.ts';
import { compareRoleDepth, defaultExpiry, formatGoTime } from '../../src/tuf/index.ts';

/** A signing key together with the public key metadata lists (x509 for root keys). */
export interface TestKey {
  readonly priv: PrivateKey;
  /** The key as written in metadata: `ecdsa-x509` for root keys, else the plain public key. */
  readonly pub: TufKey;
  /** TUF key ID of `pub` (what signatures carry). */
  readonly id: string;
}

/**
 * A generic `signed` JSON object. Deliberately loosely typed: tests reach into it and break it
 * in arbitrary ways (the swizzler's job); production code never sees this type.
 */
export type SignedValue = Record<string, any>;

export function generateKey(alg: 'ecdsa' | 'ed25519' = 'ecdsa'): TestKey {
  const priv = generatePrivateKey(alg);
  return { priv, pub: priv.publicKey, id: tufKeyId(priv.publicKey) };
}

/** A root key: ECDSA with a self-signed certificate for `commonName` (the GUN, or `prefix*`), valid from `now`. */
export function generateRootKey(commonName: string, now: Date): TestKey {
  const priv = generatePrivateKey('ecdsa');
  return rootKeyFromCertificate(priv, generateRootCertificate(priv, commonName, now));
}

/** A root key from an existing certificate chain (PEM, leaf first) for `priv`. */
export function rootKeyFromCertificate(priv: PrivateKey, chainPem: string): TestKey {
  const pub = certificateToTufKey(chainPem);
  return { priv, pub, id: tufKeyId(pub) };
}

/** Sign canonical(signed) with each key; returns the signature entries. */
export function signatureEntries(signed: unknown, keys: readonly TestKey[]): SignatureEntry[] {
  return signCanonical(canonicalize(signed), keys);
}

/** Sign already-canonical bytes (e.g. `buildSnapshot(...).canonical`) with each key. */
export function signCanonical(canonical: Uint8Array, keys: readonly TestKey[]): SignatureEntry[] {
  return keys.map((k) => ({ keyid: k.id, ...signMessage(k.priv, canonical) }));
}

/** The file bytes for `signed` signed by `keys` (as notary writes them). */
export function signEnvelope(signed: unknown, keys: readonly TestKey[]): Uint8Array {
  return encodeEnvelope(canonicalize(signed), signatureEntries(signed, keys));
}

/** The generic `signed` value of a file (a fresh copy, safe to mutate). */
export function readSigned(bytes: Uint8Array): SignedValue {
  return (parseJson(bytes, 'metadata') as { signed: SignedValue }).signed;
}

/** Swizzler: parse `bytes`, let `mutate` edit the signed value, re-sign with `keys`. */
export function resign(bytes: Uint8Array, keys: readonly TestKey[], mutate: (signed: SignedValue) => void = () => {}): Uint8Array {
  const signed = readSigned(bytes);
  mutate(signed);
  return signEnvelope(signed, keys);
}

/** Edit the signed value but keep the old signatures (so they no longer verify). */
export function tamper(bytes: Uint8Array, mutate: (signed: SignedValue) => void): Uint8Array {
  const doc = parseJson(bytes, 'metadata') as { signed: SignedValue; signatures: { keyid: string; method: string; sig: string }[] };
  mutate(doc.signed);
  return encodeEnvelope(canonicalize(doc.signed), doc.signatures.map((s) => ({ keyid: s.keyid, method: s.method, sig: fromBase64(s.sig) })));
}

/** Replace the signature list (e.g. drop, duplicate or corrupt entries). */
export function editSignatures(bytes: Uint8Array, edit: (sigs: SignatureEntry[]) => SignatureEntry[]): Uint8Array {
  const doc = parseJson(bytes, 'metadata') as { signed: unknown; signatures: { keyid: string; method: string; sig: string }[] };
  const sigs = doc.signatures.map((s) => ({ keyid: s.keyid, method: s.method, sig: fromBase64(s.sig) }));
  return encodeEnvelope(canonicalize(doc.signed), edit(sigs));
}

/** Flip one bit in every signature. */
export function corruptSignatures(bytes: Uint8Array): Uint8Array {
  return editSignatures(bytes, (sigs) => sigs.map((s) => ({ ...s, sig: s.sig.map((b, i) => (i === 0 ? b ^ 1 : b)) })));
}

/** `{hashes:{sha256,sha512},length}` of some bytes, as generic JSON. */
export function metaJSON(bytes: Uint8Array): SignedValue {
  return { hashes: { sha256: toBase64(sha256(bytes)), sha512: toBase64(sha512(bytes)) }, length: bytes.length };
}

export interface TestRepoOptions {
  readonly gun?: string;
  /** Reference time: expiries are now + notary's defaults, certificates start at now. */
  readonly now: Date;
  /** Root keys, or how many to generate (default 1; certificates with CN = GUN). */
  readonly rootKeys?: number | readonly TestKey[];
  /** Root threshold (default 1). */
  readonly rootThreshold?: number;
  /** Timestamp key algorithm (default ed25519, as the server's local signer). */
  readonly timestampAlg?: 'ecdsa' | 'ed25519';
}

export interface DelegationOptions {
  readonly keys?: readonly TestKey[];
  readonly paths?: readonly string[];
  readonly threshold?: number;
}

/**
 * A whole repository: every role's generic signed value, signing keys and current file bytes.
 * `create` signs root, targets, snapshot and timestamp at version 1.
 */
export class TestRepo {
  readonly gun: string;
  now: Date;
  readonly #keys = new Map<string, TestKey[]>();
  readonly #signed = new Map<string, SignedValue>();
  readonly #files = new Map<string, Uint8Array>();

  private constructor(gun: string, now: Date) {
    this.gun = gun;
    this.now = now;
  }

  static create(o: TestRepoOptions): TestRepo {
    const repo = new TestRepo(o.gun ?? 'example.com/test/repo', o.now);
    const rootKeys = typeof o.rootKeys === 'object' ? [...o.rootKeys] : Array.from({ length: o.rootKeys ?? 1 }, () => generateRootKey(repo.gun, o.now));
    repo.#keys.set('root', rootKeys);
    repo.#keys.set('targets', [generateKey('ecdsa')]);
    repo.#keys.set('snapshot', [generateKey('ecdsa')]);
    repo.#keys.set('timestamp', [generateKey(o.timestampAlg ?? 'ed25519')]);
    const keys: SignedValue = {};
    const roles: SignedValue = {};
    for (const role of ['root', 'targets', 'snapshot', 'timestamp']) {
      const ks = repo.keys(role);
      for (const k of ks) keys[k.id] = keyToJSON(k.pub);
      roles[role] = { keyids: ks.map((k) => k.id), threshold: role === 'root' ? (o.rootThreshold ?? 1) : 1 };
    }
    repo.#signed.set('root', { _type: 'Root', consistent_snapshot: false, expires: repo.expiry('root'), keys, roles, version: 1 });
    repo.#signed.set('targets', emptyTargets(repo.expiry('targets')));
    repo.#sign('root');
    repo.#sign('targets');
    repo.refreshSnapshot(false);
    repo.refreshTimestamp(false);
    return repo;
  }

  /** Go-formatted default expiry for a role from `now`. */
  expiry(role: string): string {
    return formatGoTime(defaultExpiry(role, this.now));
  }

  /** Signing keys of a role (root keys carry certificates). */
  keys(role: string): TestKey[] {
    const ks = this.#keys.get(role);
    if (ks === undefined) throw new Error(`no keys for ${role}`);
    return ks;
  }

  setKeys(role: string, keys: readonly TestKey[]): void {
    this.#keys.set(role, [...keys]);
  }

  /** The live generic signed value of a role (mutate, then `sign`). */
  signed(role: string): SignedValue {
    const s = this.#signed.get(role);
    if (s === undefined) throw new Error(`no metadata for ${role}`);
    return s;
  }

  /** Current file bytes of a role. */
  bytes(role: string): Uint8Array {
    const b = this.#files.get(role);
    if (b === undefined) throw new Error(`no file for ${role}`);
    return b;
  }

  /** Roles with files: root, targets, delegations (shallowest first, then by name), snapshot, timestamp. */
  roles(): string[] {
    const rank = (r: string): number => (r === 'root' ? 0 : r === 'snapshot' ? 2 : r === 'timestamp' ? 3 : 1);
    return [...this.#files.keys()].sort((a, b) => rank(a) - rank(b) || compareRoleDepth(a, b));
  }

  /** Files of the given roles (all when none given) as an upload map. */
  files(...roles: string[]): Map<string, Uint8Array> {
    const names = roles.length > 0 ? roles : this.roles();
    return new Map(names.map((r) => [r, this.bytes(r)]));
  }

  /**
   * Re-sign a role: apply `mutate`, bump the version unless `bump` is false, sign with the role's
   * keys (or `keys`). Returns the new file.
   */
  sign(role: string, opts: { mutate?: (s: SignedValue) => void; bump?: boolean; keys?: readonly TestKey[] } = {}): Uint8Array {
    const s = this.signed(role);
    opts.mutate?.(s);
    if (opts.bump !== false) s['version'] = (s['version'] as number) + 1;
    return this.#sign(role, opts.keys);
  }

  addTarget(role: string, name: string, content: Uint8Array | string, custom?: unknown): void {
    const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
    const meta = metaJSON(bytes);
    if (custom !== undefined) meta['custom'] = custom;
    this.signed(role)['targets'][name] = meta;
  }

  /**
   * Add a delegation `name` to `parent` (unsigned change to the parent) and create the
   * delegated role's empty metadata, signed at version 1. Returns the delegation's keys.
   */
  addDelegation(parent: string, name: string, o: DelegationOptions = {}): TestKey[] {
    const keys = [...(o.keys ?? [generateKey('ecdsa')])];
    const p = this.signed(parent);
    for (const k of keys) p['delegations']['keys'][k.id] = keyToJSON(k.pub);
    const entry: SignedValue = { keyids: keys.map((k) => k.id), name, threshold: o.threshold ?? 1 };
    const paths = o.paths ?? [''];
    if (paths.length > 0) entry['paths'] = [...paths];
    p['delegations']['roles'].push(entry);
    this.#keys.set(name, keys);
    this.#signed.set(name, emptyTargets(this.expiry(name)));
    this.#sign(name);
    return keys;
  }

  /** Snapshot meta for root and every targets role from their current files; version+1 unless first. */
  refreshSnapshot(bump = true): Uint8Array {
    const meta: SignedValue = { ...(this.#signed.get('snapshot')?.['meta'] ?? {}) };
    for (const role of this.roles()) {
      if (role !== 'snapshot' && role !== 'timestamp') meta[role] = metaJSON(this.bytes(role));
    }
    const prev = this.#signed.get('snapshot');
    const version = prev === undefined ? 1 : (prev['version'] as number) + (bump ? 1 : 0);
    this.#signed.set('snapshot', { _type: 'Snapshot', expires: this.expiry('snapshot'), meta, version });
    return this.#sign('snapshot');
  }

  refreshTimestamp(bump = true): Uint8Array {
    const prev = this.#signed.get('timestamp');
    const version = prev === undefined ? 1 : (prev['version'] as number) + (bump ? 1 : 0);
    this.#signed.set('timestamp', { _type: 'Timestamp', expires: this.expiry('timestamp'), meta: { snapshot: metaJSON(this.bytes('snapshot')) }, version });
    return this.#sign('timestamp');
  }

  /** Re-sign the given roles (version+1), then refresh snapshot and timestamp. */
  publish(...roles: string[]): void {
    for (const role of roles) this.sign(role);
    this.refreshSnapshot();
    this.refreshTimestamp();
  }

  /**
   * Root key rotation as `notary key rotate … root`: new root key(s) replace the root role's
   * keyids (old certificates stay in `keys`), version+1, signed by old and new keys unless
   * `signWith` says otherwise. Returns the new root file.
   */
  rotateRootKeys(newKeys: readonly TestKey[] = [generateRootKey(this.gun, this.now)], signWith?: readonly TestKey[]): Uint8Array {
    const old = this.keys('root');
    const root = this.signed('root');
    for (const k of newKeys) root['keys'][k.id] = keyToJSON(k.pub);
    root['roles']['root']['keyids'] = newKeys.map((k) => k.id);
    this.#keys.set('root', [...newKeys]);
    return this.sign('root', { keys: signWith ?? [...newKeys, ...old] });
  }

  /** Replace a base role's key in root (old key removed from `keys`), re-sign root. */
  rotateKey(role: 'targets' | 'snapshot' | 'timestamp', newKey: TestKey = generateKey(role === 'timestamp' ? 'ed25519' : 'ecdsa')): Uint8Array {
    const root = this.signed('root');
    for (const id of root['roles'][role]['keyids'] as string[]) delete root['keys'][id];
    root['keys'][newKey.id] = keyToJSON(newKey.pub);
    root['roles'][role]['keyids'] = [newKey.id];
    this.#keys.set(role, [newKey]);
    return this.sign('root');
  }

  #sign(role: string, keys?: readonly TestKey[]): Uint8Array {
    const bytes = signEnvelope(this.signed(role), keys ?? this.keys(role));
    this.#files.set(role, bytes);
    return bytes;
  }
}

function emptyTargets(expires: string): SignedValue {
  return { _type: 'Targets', delegations: { keys: {}, roles: [] }, expires, targets: {}, version: 1 };
}
