/**
 * RepoBuilder: notary's load-order state machine (tuf/builder.go) as a pure class. Bytes and a
 * reference time (fixed at construction) go in; verified `Metadata` or typed errors come out.
 * Used by push validation (update.ts), the server's timestamp regeneration (server-checks.ts)
 * and later the client updater.
 *
 * Rules: root first; `targets`, `snapshot`, `timestamp` need root; delegations need root and
 * targets and must be reachable from `targets` through loaded parents. Each role loads once
 * (root may be reloaded with `loadRootForUpdate`). Bytes loaded before the metadata that lists
 * their hashes are remembered and checked when that metadata arrives (timestamp → snapshot,
 * snapshot → root/targets/delegations).
 *
 * Check order per role follows notary (it decides which message a bad upload gets):
 * root: checksum, structure, certificates/pinning/signatures, version, expiry;
 * targets/snapshot/timestamp: checksum, signatures, structure, version, expiry;
 * delegation: parent lookup, checksum, structure, version, signatures, expiry.
 *
 * Not safe for concurrent use (it is mutable state); create one per request.
 *
 * @example
 *   const b = new RepoBuilder({ gun, now });
 *   b.loadRoot(rootBytes, { allowExpired: true });
 *   b.loadTargets('targets', targetsBytes);
 */
import { checkCertificateValidity, firstCertificate } from '../crypto/index.ts';
import { StateError } from '../errors/index.ts';
import type { DelegationRole } from './common.ts';
import { Envelope } from './envelope.ts';
import { InvalidRoleError } from './errors.ts';
import { checkHashes, type Hashes } from './file-meta.ts';
import { Metadata } from './metadata.ts';
import { validateRoot, type TrustPinning } from './root-validation.ts';
import type { Root } from './root.ts';
import { isDelegationName, isValidRoleName, parentRole } from './roles.ts';
import { Snapshot, Timestamp } from './snapshot.ts';
import { Targets } from './targets.ts';
import { verifyExpiry, verifySignatures, verifyVersion } from './verify.ts';

export interface RepoBuilderOptions {
  readonly gun: string;
  /** Reference time for every expiry and certificate check. */
  readonly now: Date;
  /** Defaults to TOFU (no pinning), as the server uses. */
  readonly pinning?: TrustPinning;
  /** A previously trusted root: a new root must be signed by its threshold of its certs. */
  readonly prevRoot?: Root | null;
  /** Hashes the next root must match (from a previously loaded snapshot). */
  readonly rootChecksum?: Hashes;
}

export interface LoadOptions {
  /** Defaults to 1. */
  readonly minVersion?: number;
  /** Defaults to false. */
  readonly allowExpired?: boolean;
}

export class RepoBuilder {
  readonly gun: string;
  readonly now: Date;
  readonly #pinning: TrustPinning;
  #prevRoot: Root | null;
  readonly #rootChecksum: Hashes | undefined;
  #nextRootChecksum: Hashes | undefined;
  #root: Metadata<Root> | undefined;
  #snapshot: Metadata<Snapshot> | undefined;
  #timestamp: Metadata<Timestamp> | undefined;
  readonly #targets = new Map<string, Metadata<Targets>>();
  readonly #notChecksummed = new Map<string, Uint8Array>();

  constructor(o: RepoBuilderOptions) {
    this.gun = o.gun;
    this.now = o.now;
    this.#pinning = o.pinning ?? {};
    this.#prevRoot = o.prevRoot ?? null;
    this.#rootChecksum = o.rootChecksum;
  }

  /** A fresh builder that treats this builder's root as the previous root (notary's BootstrapNewBuilder). */
  bootstrapNewBuilder(pinning?: TrustPinning): RepoBuilder {
    const opts: RepoBuilderOptions = { gun: this.gun, now: this.now, pinning: pinning ?? this.#pinning, prevRoot: this.#root?.signed ?? null };
    return new RepoBuilder(this.#nextRootChecksum === undefined ? opts : { ...opts, rootChecksum: this.#nextRootChecksum });
  }

  get root(): Metadata<Root> | undefined {
    return this.#root;
  }
  get snapshot(): Metadata<Snapshot> | undefined {
    return this.#snapshot;
  }
  get timestamp(): Metadata<Timestamp> | undefined {
    return this.#timestamp;
  }
  targets(role: string): Metadata<Targets> | undefined {
    return this.#targets.get(role);
  }
  /** Names of loaded targets roles, in load order. */
  targetsRoles(): string[] {
    return [...this.#targets.keys()];
  }

  isLoaded(role: string): boolean {
    switch (role) {
      case 'root':
        return this.#root !== undefined;
      case 'snapshot':
        return this.#snapshot !== undefined;
      case 'timestamp':
        return this.#timestamp !== undefined;
      default:
        return this.#targets.has(role);
    }
  }

  /** Version of a loaded role, 1 when not loaded (notary's GetLoadedVersion). */
  loadedVersion(role: string): number {
    const m = role === 'root' ? this.#root : role === 'snapshot' ? this.#snapshot : role === 'timestamp' ? this.#timestamp : this.#targets.get(role);
    return m?.signed.version ?? 1;
  }

  /** Exact bytes of root and every loaded targets role (what a new snapshot must describe). */
  loadedBytes(): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>();
    if (this.#root !== undefined) out.set('root', this.#root.bytes);
    for (const [role, m] of this.#targets) out.set(role, m.bytes);
    return out;
  }

  /** @throws StateError, then the role's validation errors (see class doc) */
  load(role: string, bytes: Uint8Array, opts: LoadOptions = {}): void {
    switch (role) {
      case 'root':
        return this.loadRoot(bytes, opts);
      case 'snapshot':
        return this.loadSnapshot(bytes, opts);
      case 'timestamp':
        return this.loadTimestamp(bytes, opts);
      default:
        return this.loadTargets(role, bytes, opts);
    }
  }

  loadRoot(bytes: Uint8Array, opts: LoadOptions = {}): void {
    this.#checkLoadable('root', false);
    this.#loadRoot(bytes, opts.minVersion ?? 1, opts.allowExpired ?? false, false);
  }

  /**
   * Client root update: intermediate roots (isFinal false) may be expired, skip the checksum
   * and become the previous root for the next one.
   */
  loadRootForUpdate(bytes: Uint8Array, minVersion: number, isFinal: boolean): void {
    this.#checkLoadable('root', true);
    this.#loadRoot(bytes, minVersion, !isFinal, !isFinal);
    if (!isFinal) this.#prevRoot = this.#root?.signed ?? null;
  }

  loadTimestamp(bytes: Uint8Array, opts: LoadOptions = {}): void {
    const root = this.#requireRoot('timestamp');
    const env = this.#envelope('timestamp', bytes);
    verifySignatures(env, root.signed.baseRole('timestamp'));
    const ts = Timestamp.fromSigned(env.signed);
    this.#checkVersionExpiry(ts, 'timestamp', opts);
    const pending = this.#notChecksummed.get('snapshot');
    if (pending !== undefined) {
      checkHashes(pending, 'snapshot', ts.meta.get('snapshot')?.hashes);
      this.#notChecksummed.delete('snapshot');
    }
    this.#timestamp = new Metadata(env, ts);
  }

  loadSnapshot(bytes: Uint8Array, opts: LoadOptions = {}): void {
    const root = this.#requireRoot('snapshot');
    const env = this.#envelope('snapshot', bytes);
    verifySignatures(env, root.signed.baseRole('snapshot'));
    const sn = Snapshot.fromSigned(env.signed);
    this.#checkVersionExpiry(sn, 'snapshot', opts);
    this.#nextRootChecksum = sn.meta.get('root')?.hashes ?? new Map();
    const good: string[] = [];
    for (const [role, pending] of this.#notChecksummed) {
      if (role === 'snapshot' || role === 'timestamp') continue;
      checkHashes(pending, role, sn.meta.get(role)?.hashes);
      good.push(role);
    }
    for (const role of good) this.#notChecksummed.delete(role);
    this.#snapshot = new Metadata(env, sn);
  }

  /** Load `targets` or a delegation. */
  loadTargets(role: string, bytes: Uint8Array, opts: LoadOptions = {}): void {
    if (role === 'targets') {
      const root = this.#requireRoot('targets');
      const env = this.#envelope('targets', bytes);
      verifySignatures(env, root.signed.baseRole('targets'));
      const t = Targets.fromSigned(env.signed, 'targets');
      this.#checkVersionExpiry(t, 'targets', opts);
      this.#targets.set('targets', new Metadata(env, t));
      return;
    }
    this.#checkLoadable(role, false);
    for (const req of ['root', 'targets']) {
      if (!this.isLoaded(req)) throw new StateError(`${req} must be loaded first`);
    }
    const delegation = this.delegationRole(role);
    const env = this.#envelope(role, bytes, true);
    const t = Targets.fromSigned(env.signed, role);
    verifyVersion(t, opts.minVersion ?? 1);
    verifySignatures(env, delegation);
    if (opts.allowExpired !== true) verifyExpiry(t, role, this.now);
    this.#targets.set(role, new Metadata(env, t));
  }

  /**
   * Keys/threshold/paths for a delegation, found by walking loaded targets metadata from
   * `targets` down to its parent (notary's GetDelegationRole). x509 delegation keys must be
   * valid certificates, without an expiry check (spec §3.2).
   * @throws InvalidRoleError (`… delegation does not exist` etc.), StateError, CertificateError
   */
  delegationRole(name: string): DelegationRole {
    if (!isDelegationName(name)) throw new InvalidRoleError(name, 'invalid delegation name');
    if (this.#root === undefined) throw new StateError('root role has not been loaded');
    if (!this.#targets.has('targets')) throw new StateError('targets role has not been loaded');
    const parent = parentRole(name);
    const chain: string[] = [];
    for (let r = parent; r !== 'targets'; r = parentRole(r)) chain.unshift(r);
    let current = 'targets';
    for (const next of chain) {
      const meta = this.#targets.get(current);
      if (meta === undefined || !isUsableDelegation(meta.signed, next)) throw new InvalidRoleError(name, 'delegation does not exist');
      current = next;
    }
    const parentMeta = this.#targets.get(parent);
    if (parentMeta === undefined || parentMeta.signed.delegation(name) === undefined) {
      throw new InvalidRoleError(name, 'delegation does not exist');
    }
    const role = parentMeta.signed.delegationRole(name);
    for (const key of role.keys.values()) {
      const cert = firstCertificate(key.public); // null for plain public keys
      if (cert !== null) checkCertificateValidity(cert, {});
    }
    return role;
  }

  #checkLoadable(role: string, allowLoaded: boolean): void {
    if (!isValidRoleName(role)) throw new StateError(`${role} is an invalid role`);
    if (!allowLoaded && this.isLoaded(role)) throw new StateError(`${role} has already been loaded`);
  }

  #requireRoot(role: string): Metadata<Root> {
    this.#checkLoadable(role, false);
    if (this.#root === undefined) throw new StateError('root must be loaded first');
    return this.#root;
  }

  #loadRoot(bytes: Uint8Array, minVersion: number, allowExpired: boolean, skipChecksum: boolean): void {
    const env = this.#envelope('root', bytes, !skipChecksum);
    const root = validateRoot(this.#prevRoot, env, this.gun, this.#pinning, this.now);
    verifyVersion(root, minVersion);
    if (!allowExpired) verifyExpiry(root, 'root', this.now);
    this.#root = new Metadata(env, root);
  }

  /** Checksum bookkeeping (notary's validateChecksumFor), then parse the envelope. */
  #envelope(role: string, bytes: Uint8Array, checksum = true): Envelope {
    if (checksum) {
      if (role === 'root' && this.#rootChecksum !== undefined) checkHashes(bytes, role, this.#rootChecksum);
      const expected = this.#expectedHashes(role);
      if (expected !== null) checkHashes(bytes, role, expected);
      else if (role !== 'timestamp') this.#notChecksummed.set(role, bytes);
    }
    return Envelope.parse(bytes, role);
  }

  /** Hashes listed for `role` by already-loaded metadata; null when nothing lists it yet. */
  #expectedHashes(role: string): Hashes | undefined | null {
    if (role === 'timestamp') return null;
    if (role === 'snapshot') return this.#timestamp === undefined ? null : this.#timestamp.signed.meta.get('snapshot')?.hashes;
    return this.#snapshot === undefined ? null : this.#snapshot.signed.meta.get(role)?.hashes;
  }

  #checkVersionExpiry(signed: Root | Targets | Snapshot | Timestamp, role: string, opts: LoadOptions): void {
    verifyVersion(signed, opts.minVersion ?? 1);
    if (opts.allowExpired !== true) verifyExpiry(signed, role, this.now);
  }
}

/** A delegation notary's walk would descend into: listed, and all its keys present. */
function isUsableDelegation(parent: Targets, name: string): boolean {
  const spec = parent.delegation(name);
  return spec !== undefined && (spec.keyids ?? []).every((id) => parent.delegations.keys.has(id));
}
