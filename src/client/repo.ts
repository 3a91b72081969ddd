/**
 * `Repository`: the write side of one GUN, as notary's client `repository` (spec §10.4, §11):
 * stage changes in the changelist, initialise, publish, rotate keys, delete trust data.
 * Everything it needs comes in through the constructor (remote store, key store, metadata
 * cache, the updater's `update`, a clock), so the CLI, docker-style commands and tests pick
 * the implementations.
 *
 * Not here: printing (the CLI's job: return values say what happened) and reading targets
 * (the updater and walks).
 *
 * Not safe for concurrent use on one trust dir (neither is notary).
 *
 * @example
 *   const repo = new Repository({ gun, trustDir, remote, keys, cache, update });
 *   await repo.initialize();
 *   await repo.addTarget({ name: 'v1', length: 11, hashes });
 *   await repo.publish();
 */
import { rm } from 'node:fs/promises';
import { certificateToTufKey, generateRootCertificate } from '../crypto/index.ts';
import type { PrivateKey, TufKey } from '../crypto/types.ts';
import { StateError } from '../errors/index.ts';
import type { ClientKeyStore } from '../keystore/client-types.ts';
import { isDelegationName, isValidRoleName, type TrustPinning } from '../tuf/index.ts';
import { FileMetadataCache, gunDir } from './cache.ts';
import { changelistDir, FileChangelist, type Change, type Changelist } from './changelist.ts';
import {
  delegationAddChanges,
  delegationClearPathsChange,
  delegationDeleteChange,
  delegationKeysChange,
  delegationPathsChange,
  delegationRemoveChanges,
  delegationRemoveKeysChange,
  delegationRemovePathsChange,
  rootRoleChange,
  targetAddChanges,
  targetRemoveChanges,
  witnessChange,
  type NamedTarget,
} from './changelist-changes.ts';
import type { Warn } from './delegation-ops.ts';
import { publishChanges } from './publish.ts';
import { InvalidLocalRoleError, InvalidRemoteRoleError } from './repo-errors.ts';
import { initializeRepo, type InitializeOptions, type InitializeResult } from './repo-init.ts';
import { editableFromTrusted, invalidRoleLoader, isRepositoryMissing, loadFromCache } from './repo-load.ts';
import type { EditableRepo, TargetsDraft } from './repo-state.ts';
import { KeyRing } from './sign.ts';
import type { MetadataCache, RemoteStore, TrustedRepo } from './types.ts';

export interface RepositoryOptions {
  readonly gun: string;
  readonly trustDir: string;
  readonly remote: RemoteStore;
  readonly keys: ClientKeyStore;
  /** The GUN's metadata cache; default the files under `<trust_dir>/tuf/<gun>/metadata`. */
  readonly cache?: MetadataCache;
  /**
   * The updater (e.g. `Updater.update({ forWrite })`): the verified remote repository;
   * `forWrite` always fetches root.json. Throws RepositoryNotExistError when the server has no
   * trust data for the GUN.
   */
  readonly update: (forWrite: boolean) => Promise<TrustedRepo>;
  /** Default: the system clock. */
  readonly now?: () => Date;
  /** Pinning for roots read from the cache on a first publish. */
  readonly trustPinning?: TrustPinning;
  /** Default: the file changelist under the trust dir. */
  readonly changelist?: Changelist;
  /** Receives notary's warnings (delegations below threshold, purges we cannot sign…). */
  readonly warn?: Warn;
}

export interface PublishOutcome {
  /** The files sent, by role. */
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** The server did not know the repository: it was published from the local cache. */
  readonly initialPublish: boolean;
  /** Nothing existed locally either: the repository was initialised first (new root key if none was held). */
  readonly initialized: InitializeResult | null;
}

export interface RotateKeyOptions {
  /** Let the server hold the new key (timestamp: required; snapshot: allowed). */
  readonly serverManaged?: boolean;
  /** Canonical IDs of held keys to rotate to (`key rotate -k`, after import); default: a new key. */
  readonly keyIds?: readonly string[];
  /** Keys to import into the key store and rotate to (the CLI reads `-k` files into these). */
  readonly keys?: readonly PrivateKey[];
  /** Also sign the new root with the root keys of this many older versions (-1: all). */
  readonly legacyVersions?: number;
}

export class Repository {
  readonly gun: string;
  readonly trustDir: string;
  readonly changelist: Changelist;
  readonly cache: MetadataCache;
  readonly #o: RepositoryOptions;
  readonly #now: () => Date;
  readonly #warn: Warn;

  constructor(o: RepositoryOptions) {
    this.gun = o.gun;
    this.trustDir = o.trustDir;
    this.#o = o;
    this.#now = o.now ?? (() => new Date());
    this.#warn = o.warn ?? (() => {});
    this.cache = o.cache ?? new FileMetadataCache(o.trustDir, o.gun);
    this.changelist = o.changelist ?? new FileChangelist(changelistDir(o.trustDir, o.gun), { now: this.#now });
  }

  async #stage(changes: readonly Change[]): Promise<void> {
    for (const c of changes) await this.changelist.add(c);
  }

  /** Stage a target for `roles` (default `targets`). @throws StateError, InvalidRoleError */
  addTarget(target: NamedTarget, roles: readonly string[] = []): Promise<void> {
    return this.#stage(targetAddChanges(target, roles));
  }

  /** Stage the removal of a target from `roles` (default `targets`). @throws InvalidRoleError */
  removeTarget(name: string, roles: readonly string[] = []): Promise<void> {
    return this.#stage(targetRemoveChanges(name, roles));
  }

  /** `delegation add`: keys (threshold 1) then paths. @throws InvalidRoleError */
  addDelegation(name: string, keys: readonly TufKey[], paths: readonly string[]): Promise<void> {
    return this.#stage(delegationAddChanges(name, keys, paths));
  }

  addDelegationRoleAndKeys(name: string, keys: readonly TufKey[]): Promise<void> {
    return this.#stage([delegationKeysChange(name, keys)]);
  }

  addDelegationPaths(name: string, paths: readonly string[]): Promise<void> {
    return this.#stage([delegationPathsChange(name, paths)]);
  }

  /** `delegation remove` with key IDs (canonical) and/or paths. @throws InvalidRoleError */
  removeDelegationKeysAndPaths(name: string, keyIds: readonly string[], paths: readonly string[]): Promise<void> {
    return this.#stage(delegationRemoveChanges(name, keyIds, paths));
  }

  /** Delete the whole delegation. @throws InvalidRoleError */
  removeDelegationRole(name: string): Promise<void> {
    return this.#stage([delegationDeleteChange(name)]);
  }

  removeDelegationPaths(name: string, paths: readonly string[]): Promise<void> {
    return this.#stage([delegationRemovePathsChange(name, paths)]);
  }

  /** Remove keys (canonical IDs) from a delegation, or from all below a `…/*` wildcard. */
  removeDelegationKeys(name: string, keyIds: readonly string[]): Promise<void> {
    return this.#stage([delegationRemoveKeysChange(name, keyIds)]);
  }

  clearDelegationPaths(name: string): Promise<void> {
    return this.#stage([delegationClearPathsChange(name)]);
  }

  /** Stage re-signing of `roles`; returns the roles staged (all of them unless a write failed). */
  async witness(roles: readonly string[]): Promise<string[]> {
    const done: string[] = [];
    for (const role of roles) {
      await this.changelist.add(witnessChange(role));
      done.push(role);
    }
    return done;
  }

  /**
   * Create root, targets and (unless server-managed) snapshot keys and metadata locally.
   * @throws see initializeRepo
   */
  async initialize(o: InitializeOptions = {}): Promise<InitializeResult> {
    return initializeRepo({ gun: this.gun, now: this.#now(), ring: new KeyRing(this.#o.keys), remote: this.#o.remote, cache: this.cache }, o);
  }

  /**
   * Publish the staged changes, then clear the changelist (spec §10.4). On failure the
   * changelist and the cache are left as they were.
   */
  async publish(): Promise<PublishOutcome> {
    const outcome = await this.#publish(await this.changelist.list(), 0);
    try {
      await this.changelist.clear();
    } catch {
      this.#warn(`Unable to clear changelist. You may want to manually delete the folder ${this.changelist.location}`);
    }
    return outcome;
  }

  async #publish(changes: readonly Change[], legacyVersions: number): Promise<PublishOutcome> {
    const now = this.#now();
    const ring = new KeyRing(this.#o.keys);
    let repo: EditableRepo;
    let invalidRole: ((role: string) => Promise<TargetsDraft | null>) | undefined;
    let initialPublish = false;
    let initialized: InitializeResult | null = null;
    try {
      const trusted = await this.#o.update(true);
      repo = editableFromTrusted(trusted, now);
      invalidRole = invalidRoleLoader(this.#o.remote, trusted.snapshot.signed);
    } catch (err) {
      if (!isRepositoryMissing(err)) throw err;
      initialPublish = true;
      const cached = await loadFromCache(this.cache, { gun: this.gun, now, ...(this.#o.trustPinning === undefined ? {} : { pinning: this.#o.trustPinning }) });
      if (cached !== null) {
        repo = cached;
      } else {
        initialized = await initializeRepo({ gun: this.gun, now, ring, remote: this.#o.remote, cache: this.cache });
        repo = initialized.repo;
      }
    }
    const { files } = await publishChanges(
      { repo, ring, remote: this.#o.remote, initialPublish, legacyVersions, warn: this.#warn, ...(invalidRole === undefined ? {} : { invalidRole }) },
      changes,
    );
    return { files, initialPublish, initialized };
  }

  /**
   * Replace a base role's key and publish at once (root + re-signed roles only; staged changes
   * stay staged). Root: a new root key (or the given ones) gets a new certificate and the new
   * root is signed by old and new root keys. Targets/snapshot: a new local key. Snapshot or
   * timestamp with `serverManaged`: the server makes the key.
   * @throws StateError, InvalidRemoteRoleError, InvalidLocalRoleError, publish errors
   */
  async rotateKey(role: string, o: RotateKeyOptions = {}): Promise<PublishOutcome> {
    const serverManaged = o.serverManaged ?? false;
    if (!isValidRoleName(role) || isDelegationName(role)) throw new StateError(`notary does not currently permit rotating the ${role} key`);
    if (serverManaged && role !== 'timestamp' && role !== 'snapshot') throw new InvalidRemoteRoleError(role);
    if (!serverManaged && role !== 'root' && role !== 'targets' && role !== 'snapshot') throw new InvalidLocalRoleError(role);
    const ring = new KeyRing(this.#o.keys);
    const ids = [...(o.keyIds ?? [])];
    for (const key of o.keys ?? []) ids.push(await this.#o.keys.add(key, role === 'root' ? { role } : { role, gun: this.gun }));
    let newKeys: TufKey[];
    if (serverManaged) {
      try {
        newKeys = [await this.#o.remote.rotateKey(role as 'snapshot' | 'timestamp')];
      } catch (err) {
        throw new StateError(`unable to rotate remote key: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
    } else {
      const privs: PrivateKey[] = [];
      if (ids.length === 0) privs.push(await ring.create(role, this.gun));
      for (const id of ids) {
        const held = await ring.held(id);
        if (held === null) throw new StateError(`unable to find key: ${id}`);
        if (role === 'root' && held.role !== 'root') throw new StateError(`attempted to load root key but given ${held.role} key instead`);
        privs.push(held.key);
      }
      const now = this.#now();
      newKeys = role === 'root' ? privs.map((p) => certificateToTufKey(generateRootCertificate(p, this.gun, now))) : privs.map((p) => p.publicKey);
    }
    return this.#publish([rootRoleChange(role, newKeys)], o.legacyVersions ?? 0);
  }

  /** `notary delete`: remove `<trust_dir>/tuf/<gun>` (metadata and changelist; keys stay). */
  async deleteLocal(): Promise<void> {
    await rm(gunDir(this.trustDir, this.gun), { recursive: true, force: true });
  }

  /** `notary delete --remote`: the server's copy (needs admin rights on the GUN). */
  async deleteRemote(): Promise<void> {
    await this.#o.remote.deleteAll();
  }
}

