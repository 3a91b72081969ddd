/**
 * The repository being edited by a publish (notary's `tuf.Repo`): mutable drafts of root and of
 * every loaded targets role, the previous snapshot, and the walks and lookups the edits need
 * (spec §10.3 walk rules, §10.4). Drafts keep the bytes they were loaded from until re-signed.
 *
 * Not here: the edits themselves (changelist-apply.ts, delegation-ops.ts) and signing
 * (sign-roles.ts). Not safe for concurrent use.
 *
 * @example
 *   const repo = EditableRepo.fromMetadata({ gun, now, root, targets, snapshot });
 *   await repo.walk('v1', 'targets/releases', (draft) => { draft.targets.set('v1', meta); return 'stop'; });
 */
import { canonicalKeyId, checkCertificateValidity, firstCertificate } from '../crypto/index.ts';
import type { SignatureEntry, TufKey } from '../crypto/types.ts';
import { StateError } from '../errors/index.ts';
import {
  InvalidRoleError,
  Root,
  Snapshot,
  Targets,
  defaultExpiry,
  goTimeFromDate,
  isDelegationName,
  isValidRoleName,
  parentRole,
  type BaseRole,
  type DelegationRole,
  type FileMeta,
  type GoTime,
  type Metadata,
} from '../tuf/index.ts';
import { NoSigningKeysError } from './repo-errors.ts';
import { restrictPaths } from './walk.ts';
import type { KeyRing } from './sign.ts';

export interface RoleEntry {
  keyids: string[] | null;
  threshold: number;
}

export interface DelegationEntry extends RoleEntry {
  name: string;
  paths: string[];
}

interface DraftCommon {
  type: string;
  version: number;
  expires: GoTime;
  signatures: SignatureEntry[];
  /** The current file bytes; null for a role created in this edit and not signed yet. */
  bytes: Uint8Array | null;
  /** Needs re-signing. */
  dirty: boolean;
}

export interface RootDraft extends DraftCommon {
  consistentSnapshot: boolean;
  keys: Map<string, TufKey>;
  roles: Map<string, RoleEntry | null>;
}

export interface TargetsDraft extends DraftCommon {
  targets: Map<string, FileMeta>;
  /** `delegations.keys` */
  keys: Map<string, TufKey>;
  /** `delegations.roles` */
  roles: DelegationEntry[];
}

/** A walk visitor's answer: stop the walk, or go on into this role's delegations. */
export type WalkStep = 'stop' | 'continue';
export type DraftVisitor = (draft: TargetsDraft, role: DelegationRole) => WalkStep | Promise<WalkStep>;

export function rootDraft(m: Metadata<Root>): RootDraft {
  const s = m.signed;
  const roles = new Map<string, RoleEntry | null>();
  for (const [name, spec] of s.roles) roles.set(name, spec === null ? null : { keyids: spec.keyids === null ? null : [...spec.keyids], threshold: spec.threshold });
  return {
    type: s.type,
    version: s.version,
    expires: s.expires,
    consistentSnapshot: s.consistentSnapshot,
    keys: new Map(s.keys),
    roles,
    signatures: [...m.envelope.signatures],
    bytes: m.bytes,
    dirty: false,
  };
}

export function targetsDraft(m: Metadata<Targets>): TargetsDraft {
  const s = m.signed;
  return {
    type: s.type,
    version: s.version,
    expires: s.expires,
    targets: new Map(s.targets),
    keys: new Map(s.delegations.keys),
    roles: s.delegations.roles.map((r) => ({ name: r.name, keyids: r.keyids === null ? null : [...r.keyids], threshold: r.threshold, paths: [...r.paths] })),
    signatures: [...m.envelope.signatures],
    bytes: m.bytes,
    dirty: false,
  };
}

/** notary's NewTargets: empty, version 0 (signing makes it 1), dirty. */
export function emptyTargetsDraft(now: Date): TargetsDraft {
  return {
    type: 'Targets',
    version: 0,
    expires: goTimeFromDate(defaultExpiry('targets', now)),
    targets: new Map(),
    keys: new Map(),
    roles: [],
    signatures: [],
    bytes: null,
    dirty: true,
  };
}

export function rootModel(d: RootDraft): Root {
  return new Root({ type: d.type, version: d.version, expires: d.expires, keys: d.keys, roles: d.roles, consistentSnapshot: d.consistentSnapshot });
}

export function targetsModel(d: TargetsDraft): Targets {
  return new Targets({ type: d.type, version: d.version, expires: d.expires, targets: d.targets, delegations: { keys: d.keys, roles: d.roles } });
}

/** Keys and threshold of a root role entry (notary's BuildBaseRole). @throws InvalidRoleError */
export function baseRoleOf(root: RootDraft, name: string): BaseRole {
  const spec = root.roles.get(name);
  if (spec === undefined || spec === null) throw new InvalidRoleError(name, 'role not found in root file');
  const keys = new Map<string, TufKey>();
  for (const id of spec.keyids ?? []) {
    const key = root.keys.get(id);
    if (key === undefined) throw new InvalidRoleError(name, `key with ID ${id} was not found in root metadata`);
    keys.set(id, key);
  }
  return { name, keys, threshold: spec.threshold };
}

/** The delegation entry as a role, or an error when one of its keys is missing (BuildDelegationRole). */
function buildDelegation(draft: TargetsDraft, entry: DelegationEntry): DelegationRole | InvalidRoleError {
  const keys = new Map<string, TufKey>();
  for (const id of entry.keyids ?? []) {
    const key = draft.keys.get(id);
    if (key === undefined) return new InvalidRoleError(entry.name, `role lists unknown key ${id} as a signing key`);
    keys.set(id, key);
  }
  return { name: entry.name, keys, threshold: entry.threshold, paths: entry.paths };
}

/** Direct children of `parent` listed in `draft` whose keys are all present, paths restricted (GetValidDelegations). */
function validDelegations(draft: TargetsDraft, parent: DelegationRole): DelegationRole[] {
  const out: DelegationRole[] = [];
  for (const entry of draft.roles) {
    const role = buildDelegation(draft, entry);
    if (role instanceof InvalidRoleError || parentRole(role.name) !== parent.name) continue;
    out.push({ ...role, paths: restrictPaths(parent.paths, role.paths) });
  }
  return out;
}

export interface EditableRepoParts {
  readonly gun: string;
  /** Reference time of this edit (new expiries, certificate checks). */
  readonly now: Date;
  readonly root: Metadata<Root>;
  readonly targets: ReadonlyMap<string, Metadata<Targets>>;
  readonly snapshot: Metadata<Snapshot> | null;
}

export class EditableRepo {
  readonly gun: string;
  readonly now: Date;
  root: RootDraft;
  /** The root role as last signed (a root rotation is also signed by these keys). */
  originalRootRole: BaseRole;
  readonly targets = new Map<string, TargetsDraft>();
  /** The previous snapshot (meta of deleted delegations removed), or null. */
  snapshot: Snapshot | null;
  snapshotDirty = false;
  /** Keys replaced in root by a rotation: removed from the key store once published. */
  readonly retiredKeyIds = new Set<string>();

  constructor(gun: string, now: Date, root: RootDraft, snapshot: Snapshot | null) {
    this.gun = gun;
    this.now = now;
    this.root = root;
    this.snapshot = snapshot;
    this.originalRootRole = baseRoleOf(root, 'root');
  }

  static fromMetadata(p: EditableRepoParts): EditableRepo {
    const repo = new EditableRepo(p.gun, p.now, rootDraft(p.root), p.snapshot?.signed ?? null);
    for (const [role, m] of p.targets) repo.targets.set(role, targetsDraft(m));
    return repo;
  }

  /** @throws InvalidRoleError for an invalid name or a role missing from root */
  baseRole(name: string): BaseRole {
    if (!isValidRoleName(name)) throw new InvalidRoleError(name, 'invalid base role name');
    return baseRoleOf(this.root, name);
  }

  /** notary's InitTargets: a new empty targets draft for the role. */
  initTargets(role: string): TargetsDraft {
    if (role !== 'targets' && !isDelegationName(role)) {
      throw new InvalidRoleError(role, `role is not a valid targets role name: ${role}`);
    }
    const draft = emptyTargetsDraft(this.now);
    this.targets.set(role, draft);
    return draft;
  }

  /** Drop a role's meta from the previous snapshot (notary's Snapshot.DeleteMeta). */
  deleteSnapshotMeta(role: string): void {
    if (this.snapshot === null || !this.snapshot.meta.has(role)) return;
    const meta = new Map(this.snapshot.meta);
    meta.delete(role);
    this.snapshot = new Snapshot({ type: this.snapshot.type, version: this.snapshot.version, expires: this.snapshot.expires, meta });
    this.snapshotDirty = true;
  }

  /**
   * notary's WalkTargets: breadth first from `targets` (paths `[""]`) through valid delegations.
   * Roles above `rolePath` are passed through; `rolePath` and its descendants are visited when
   * `targetPath` is empty or has one of their (restricted) paths as prefix, and are not in `skip`.
   * Roles without loaded metadata are skipped with their subtrees.
   * @throws InvalidRoleError when root has no targets role, or whatever the visitor throws
   */
  async walk(targetPath: string, rolePath: string, visit: DraftVisitor, skip: readonly string[] = []): Promise<void> {
    const top = baseRoleOf(this.root, 'targets');
    const queue: DelegationRole[] = [{ ...top, paths: [''] }];
    while (queue.length > 0) {
      const role = queue.shift() as DelegationRole;
      const draft = this.targets.get(role.name);
      if (draft === undefined) continue;
      if (rolePath.startsWith(role.name + '/')) {
        queue.push(...validDelegations(draft, role));
        continue;
      }
      const pathOk = targetPath === '' || role.paths.some((p) => targetPath.startsWith(p));
      const inSubtree = rolePath === '' || rolePath === role.name || role.name.startsWith(rolePath + '/');
      if (pathOk && inSubtree && !skip.includes(role.name)) {
        if ((await visit(draft, role)) === 'stop') return;
        queue.push(...validDelegations(draft, role));
      }
    }
  }

  /**
   * notary's GetDelegationRole: the delegation as listed by its parent, reached through valid
   * delegations; its x509 keys must be sound certificates (expiry not checked, spec §3.2).
   * @throws InvalidRoleError (`invalid delegation name`, `delegation does not exist`, unknown key),
   *   StateError when targets is not loaded, CertificateError
   */
  async delegationRole(name: string): Promise<DelegationRole> {
    if (!isDelegationName(name)) throw new InvalidRoleError(name, 'invalid delegation name');
    if (!this.targets.has('targets')) throw new StateError('targets role has not been loaded');
    let found: DelegationRole | undefined;
    await this.walk('', parentRole(name), (draft) => {
      const entry = draft.roles.find((r) => r.name === name);
      if (entry === undefined) return 'continue';
      const role = buildDelegation(draft, entry);
      if (role instanceof InvalidRoleError) throw role;
      for (const key of role.keys.values()) {
        const cert = firstCertificate(key.public);
        if (cert !== null) checkCertificateValidity(cert, {});
      }
      found = role;
      return 'stop';
    });
    if (found === undefined) throw new InvalidRoleError(name, 'delegation does not exist');
    return found;
  }

  /** Keys and threshold of any role: base roles from root, delegations through the walk. */
  async signingRole(name: string): Promise<BaseRole> {
    return isDelegationName(name) ? this.delegationRole(name) : this.baseRole(name);
  }

  /**
   * notary's VerifyCanSign: the role exists and at least one of its keys is held (the threshold is
   * not checked: several signers may share a role).
   * @throws InvalidRoleError (role missing), NoSigningKeysError (no key held), delegation lookup errors
   */
  async verifyCanSign(name: string, ring: KeyRing): Promise<void> {
    let role: BaseRole;
    if (isDelegationName(name)) {
      role = await this.delegationRole(name);
    } else {
      try {
        role = this.baseRole(name);
      } catch (err) {
        throw new InvalidRoleError(name, 'does not exist', { cause: err });
      }
    }
    const ids: string[] = [];
    for (const key of role.keys.values()) {
      if (await ring.canSignWith(key)) return;
      try {
        ids.push(canonicalKeyId(key));
      } catch {
        // notary leaves keys without a canonical ID out of the message
      }
    }
    throw new NoSigningKeysError(ids);
  }
}
