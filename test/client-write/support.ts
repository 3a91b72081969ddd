/**
 * Test doubles for the client write path:
 * - `MemoryKeyStore`: a ClientKeyStore in memory (no passphrases);
 * - `InProcessRemote`: a RemoteStore over vouch's own TufTrustService with memory storage and an
 *   in-process signer, so every publish goes through real push validation (spec §6.2) and the
 *   server signs timestamps (and snapshots when it holds the key);
 * - `testRepository`: a Repository updating through the real Updater; `freshRead`: what a new
 *   client (empty cache) gets from the server.
 * Deterministic apart from key material; the clock is whatever the test passes.
 */
import { canonicalKeyId } from '../../src/crypto/index.ts';
import type { PrivateKey, TufKey } from '../../src/crypto/types.ts';
import { KeyNotFoundError, NotFoundError } from '../../src/errors/index.ts';
import type { ClientKeyStore, KeyInfo } from '../../src/keystore/client-types.ts';
import { LocalCryptoService } from '../../src/keystore/local-crypto-service.ts';
import { MemoryKeyRecordStore, MemoryMetaStore } from '../../src/storage/index.ts';
import { TufTrustService } from '../../src/server/tuf-service.ts';
import { MemoryMetadataCache } from '../../src/client/cache.ts';
import { Repository } from '../../src/client/repo.ts';
import type { MetadataCache, RemoteStore, TrustedRepo } from '../../src/client/types.ts';
import { Updater, loadTrustedRepo } from '../../src/client/updater.ts';

export class MemoryKeyStore implements ClientKeyStore {
  readonly keys = new Map<string, { key: PrivateKey; role: string; gun: string }>();

  async list(): Promise<KeyInfo[]> {
    return [...this.keys].map(([keyId, k]) => ({ keyId, role: k.role, gun: k.gun, location: 'memory' }));
  }
  async has(keyId: string): Promise<boolean> {
    return this.keys.has(keyId);
  }
  async get(keyId: string): Promise<{ key: PrivateKey; role: string; gun: string }> {
    const k = this.keys.get(keyId);
    if (k === undefined) throw new KeyNotFoundError(`signing key not found: ${keyId}`);
    return k;
  }
  async add(key: PrivateKey, info: { role: string; gun?: string }): Promise<string> {
    const id = canonicalKeyId(key.publicKey);
    this.keys.set(id, { key, role: info.role, gun: info.gun ?? '' });
    return id;
  }
  async remove(keyId: string): Promise<void> {
    if (!this.keys.delete(keyId)) throw new KeyNotFoundError(`signing key not found: ${keyId}`);
  }
  /** Role of each held key, by canonical ID. */
  roles(): Map<string, string> {
    return new Map([...this.keys].map(([id, k]) => [id, k.role]));
  }
}

/** A 404 naming what was asked for, as the HTTP remote store reports it. */
export class RemoteNotFound extends NotFoundError {
  readonly resource: string;
  constructor(resource: string) {
    super(`${resource} trust data unavailable.  Has a notary repository been initialized?`);
    this.resource = resource;
  }
}

export class InProcessRemote implements RemoteStore {
  readonly gun: string;
  readonly service: TufTrustService;
  /** Every publish, in order: role → bytes. */
  readonly published: Map<string, Uint8Array>[] = [];
  /** When set, the next publish throws this error instead of storing anything. */
  failNextPublish: Error | null = null;

  constructor(gun: string, now: () => Date, service?: TufTrustService) {
    this.gun = gun;
    this.service =
      service ??
      new TufTrustService({
        store: new MemoryMetaStore({ now }),
        crypto: new LocalCryptoService({ store: new MemoryKeyRecordStore(), passphrase: 'server-pass', now }),
        keyAlgorithm: 'ed25519',
        clock: now,
      });
  }

  /** Another GUN on the same server. */
  forGun(gun: string): InProcessRemote {
    return new InProcessRemote(gun, () => new Date(), this.service);
  }

  async getMeta(role: string, maxLength: number, by?: { checksum?: string; version?: number }): Promise<Uint8Array> {
    let stored;
    let resource = role;
    if (by?.checksum !== undefined) {
      stored = await this.service.getByChecksum(this.gun, role, by.checksum);
      resource = `${role}.${by.checksum}`;
    } else if (by?.version !== undefined) {
      stored = await this.service.getByVersion(this.gun, role, by.version);
      resource = `${by.version}.${role}`;
    } else {
      stored = await this.service.getCurrent(this.gun, role);
    }
    if (stored === null) throw new RemoteNotFound(resource);
    if (stored.data.length > maxLength) throw new Error(`${resource}: ${stored.data.length} bytes exceed ${maxLength}`);
    return stored.data;
  }

  async publish(parts: ReadonlyMap<string, Uint8Array>): Promise<void> {
    const fail = this.failNextPublish;
    if (fail !== null) {
      this.failNextPublish = null;
      throw fail;
    }
    await this.service.publish(this.gun, [...parts].map(([role, data]) => ({ role, data })));
    this.published.push(new Map(parts));
  }

  getKey(role: 'snapshot' | 'timestamp'): Promise<TufKey> {
    return this.service.getOrCreateKey(this.gun, role);
  }

  rotateKey(role: 'snapshot' | 'timestamp'): Promise<TufKey> {
    return this.service.rotateKey(this.gun, role);
  }

  deleteAll(): Promise<void> {
    return this.service.deleteGun(this.gun);
  }

  /** The current stored bytes of a role, or null. */
  async current(role: string): Promise<Uint8Array | null> {
    return (await this.service.getCurrent(this.gun, role))?.data ?? null;
  }
}

/**
 * What a fresh client sees: a full update with an empty cache (TOFU) through the updater.
 * @throws like Updater.update
 */
export function freshRead(remote: RemoteStore, gun: string, now: Date): Promise<TrustedRepo> {
  return loadTrustedRepo({ gun, remote, cache: new MemoryMetadataCache(), now: () => now });
}

export interface TestRepositoryOptions {
  readonly gun: string;
  readonly trustDir: string;
  readonly remote: RemoteStore;
  readonly keys: ClientKeyStore;
  readonly cache: MetadataCache;
  readonly now: () => Date;
  readonly warn?: (message: string) => void;
}

/** A Repository whose updates go through the real Updater over the same cache. */
export function testRepository(o: TestRepositoryOptions): Repository {
  const updater = new Updater({ gun: o.gun, remote: o.remote, cache: o.cache, now: o.now });
  return new Repository({ ...o, update: (forWrite) => updater.update({ forWrite }) });
}
