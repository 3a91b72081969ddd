/**
 * Signing on the client (spec §2.3, §10.4): finding private keys for role keys in the
 * ClientKeyStore and notary's `signed.Sign` rules.
 *
 * - A role key is looked up by its canonical ID (for x509 root keys the certificate's public
 *   key), which is how key files are named.
 * - `signPayload` signs with every held key of the role, refuses when fewer than the threshold are
 *   held, and keeps earlier signatures that still verify and belong to a known key.
 *
 * Not here: which roles get re-signed, versions and expiries (sign-roles.ts).
 *
 * @example
 *   const ring = new KeyRing(keyStore);
 *   const sigs = await signPayload(ring, canonical, [], role.keys, role.threshold, new Map());
 */
import { canonicalKeyId, generatePrivateKey, signMessage, verifySignature } from '../crypto/index.ts';
import type { PrivateKey, SignatureEntry, TufKey } from '../crypto/types.ts';
import { KeyNotFoundError } from '../errors/index.ts';
import type { ClientKeyStore } from '../keystore/client-types.ts';
import type { BaseRole } from '../tuf/index.ts';
import { InsufficientSignaturesError } from './repo-errors.ts';

interface HeldKey {
  readonly key: PrivateKey;
  readonly role: string;
  readonly gun: string;
}

/**
 * The key store as the write path uses it, remembering what it decrypted (or failed to) during
 * one operation so passphrases are asked once. Not safe for concurrent use.
 */
export class KeyRing {
  readonly store: ClientKeyStore;
  readonly #held = new Map<string, Promise<HeldKey | null>>();

  constructor(store: ClientKeyStore) {
    this.store = store;
  }

  /**
   * The private key with this canonical ID, or null when no such key file exists.
   * @throws PassphraseError (and other key store errors) when the key exists but cannot be opened
   */
  held(keyId: string): Promise<HeldKey | null> {
    let p = this.#held.get(keyId);
    if (p === undefined) {
      p = this.store.get(keyId).catch((err: unknown) => {
        if (err instanceof KeyNotFoundError) return null;
        throw err;
      });
      this.#held.set(keyId, p);
    }
    return p;
  }

  /** The private key for a role key (by canonical ID), or null. @throws like `held` */
  async privateKeyFor(key: TufKey): Promise<PrivateKey | null> {
    let id: string;
    try {
      id = canonicalKeyId(key);
    } catch {
      return null; // an x509 key whose certificate does not parse has no key file
    }
    return (await this.held(id))?.key ?? null;
  }

  /** notary's VerifyCanSign test for one key: held and openable (any failure means "no"). */
  async canSignWith(key: TufKey): Promise<boolean> {
    try {
      return (await this.privateKeyFor(key)) !== null;
    } catch {
      return false;
    }
  }

  /** A new ECDSA key stored for role (and gun for targets/snapshot keys, spec §9.2). */
  async create(role: string, gun: string): Promise<PrivateKey> {
    const key = generatePrivateKey('ecdsa');
    const id = await this.store.add(key, role === 'root' ? { role } : { role, gun });
    this.#held.set(id, Promise.resolve({ key, role, gun }));
    return key;
  }

  /** Canonical IDs of the stored keys whose role is `role`. */
  async idsForRole(role: string): Promise<string[]> {
    return (await this.store.list()).filter((k) => k.role === role).map((k) => k.keyId);
  }

  async remove(keyId: string): Promise<void> {
    this.#held.delete(keyId);
    await this.store.remove(keyId);
  }
}

/**
 * notary's `signed.Sign`: sign `canonical` with every held key among `signingKeys` (TUF ID →
 * key), requiring at least `minSignatures` held keys; then keep those `existing` signatures that
 * were not just replaced, belong to a key in `signingKeys` or `whitelist`, and verify.
 * New signatures come first, in the order of `signingKeys`.
 * @throws InsufficientSignaturesError, PassphraseError
 */
export async function signPayload(
  ring: KeyRing,
  canonical: Uint8Array,
  existing: readonly SignatureEntry[],
  signingKeys: ReadonlyMap<string, TufKey>,
  minSignatures: number,
  whitelist: ReadonlyMap<string, TufKey>,
): Promise<SignatureEntry[]> {
  const privs = new Map<string, PrivateKey>();
  const missing: string[] = [];
  for (const [id, key] of signingKeys) {
    const priv = await ring.privateKeyFor(key);
    if (priv === null) missing.push(safeCanonicalId(key));
    else privs.set(id, priv);
  }
  if (privs.size < minSignatures) throw new InsufficientSignaturesError(privs.size, minSignatures, missing);
  const out: SignatureEntry[] = [];
  for (const [keyid, priv] of privs) out.push({ keyid, ...signMessage(priv, canonical) });
  for (const sig of existing) {
    if (privs.has(sig.keyid)) continue;
    const key = signingKeys.get(sig.keyid) ?? whitelist.get(sig.keyid);
    if (key === undefined) continue;
    let ok = false;
    try {
      ok = verifySignature(key, sig.method, canonical, sig.sig);
    } catch {
      ok = false;
    }
    if (ok) out.push(sig);
  }
  return out;
}

/**
 * notary's `Repo.sign`: for each role in turn, sign with its keys to its threshold (keeping the
 * signatures made for earlier roles), then try `optionalKeys` without a minimum.
 * @throws InsufficientSignaturesError, PassphraseError
 */
export async function signWithRoles(
  ring: KeyRing,
  canonical: Uint8Array,
  existing: readonly SignatureEntry[],
  roles: readonly BaseRole[],
  optionalKeys: ReadonlyMap<string, TufKey> = new Map(),
): Promise<SignatureEntry[]> {
  let sigs = [...existing];
  const valid = new Map<string, TufKey>(optionalKeys);
  for (const role of roles) {
    for (const [id, k] of role.keys) valid.set(id, k);
    sigs = await signPayload(ring, canonical, sigs, role.keys, role.threshold, valid);
  }
  if (optionalKeys.size > 0) {
    try {
      sigs = await signPayload(ring, canonical, sigs, optionalKeys, 0, valid);
    } catch {
      // optional keys: notary ignores any failure here
    }
  }
  return sigs;
}

function safeCanonicalId(key: TufKey): string {
  try {
    return canonicalKeyId(key);
  } catch {
    return '';
  }
}
