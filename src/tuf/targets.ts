/**
 * targets.json and delegated `targets/<name>` files (spec §4.3). `Targets.fromSigned(value, role)`
 * is notary's TargetsFromSigned: read, then check the structure (role name valid, type
 * `Targets`, version ≥ 1, each delegation a valid name that is a *direct child* of this role,
 * threshold ≥ 1, keyids present in `delegations.keys`). `keyids: null` is accepted (§13.11).
 *
 * Paths are not enforced here (readers filter by paths, the server never does; §13.9).
 *
 * @example
 *   const t = Targets.fromSigned(env.signed, 'targets');
 *   t.delegationRole('targets/releases') // keys, threshold, paths
 */
import { keyToJSON } from '../crypto/index.ts';
import type { TufKey } from '../crypto/types.ts';
import { DeserializationError } from '../errors/index.ts';
import { checkRoleSpec, parseCommon, parseKeys, roleSpecToJSON, type DelegationRole, type SignedCommon } from './common.ts';
import { InvalidMetadataError, InvalidRoleError } from './errors.ts';
import { fileMetaToJSON, parseFiles, type FileMeta } from './file-meta.ts';
import { FieldReader } from './json.ts';
import { isDelegationName, isDirectChild, isTargetsRole } from './roles.ts';
import type { GoTime } from './time.ts';

/** One entry of `delegations.roles`. */
export interface DelegationSpec {
  readonly name: string;
  /** null when written as `"keyids": null`. */
  readonly keyids: readonly string[] | null;
  readonly threshold: number;
  /** Path prefixes; `""` matches everything. Empty means "matches nothing". */
  readonly paths: readonly string[];
}

export interface Delegations {
  readonly keys: ReadonlyMap<string, TufKey>;
  readonly roles: readonly DelegationSpec[];
}

export interface TargetsOptions {
  readonly version: number;
  readonly expires: GoTime;
  readonly targets?: ReadonlyMap<string, FileMeta>;
  readonly delegations?: Delegations;
  readonly type?: string;
}

export class Targets implements SignedCommon {
  readonly type: string;
  readonly version: number;
  readonly expires: GoTime;
  readonly targets: ReadonlyMap<string, FileMeta>;
  readonly delegations: Delegations;

  constructor(o: TargetsOptions) {
    this.type = o.type ?? 'Targets';
    this.version = o.version;
    this.expires = o.expires;
    this.targets = o.targets ?? new Map();
    this.delegations = o.delegations ?? { keys: new Map(), roles: [] };
  }

  /**
   * Read and structurally validate the `signed` value of the role `role`.
   * @throws DeserializationError, InvalidRoleError (role name), InvalidMetadataError (structure)
   */
  static fromSigned(value: unknown, role: string): Targets {
    const t = Targets.read(value, role);
    t.checkStructure(role);
    return t;
  }

  /** Read without the structure check. @throws DeserializationError */
  static read(value: unknown, role: string): Targets {
    const r = new FieldReader(value, role);
    const common = parseCommon(r);
    const d = r.object('delegations') ?? new FieldReader({}, `${role}.delegations`);
    const roles = (d.array('roles') ?? []).map((v, i): DelegationSpec => {
      if (v === null) throw new DeserializationError(`${role}.delegations.roles[${i}]: expected object, got null`);
      const rr = new FieldReader(v, `${role}.delegations.roles[${i}]`);
      return { name: rr.string('name'), keyids: rr.strings('keyids') ?? null, threshold: rr.int('threshold'), paths: rr.strings('paths') ?? [] };
    });
    return new Targets({ ...common, targets: parseFiles(r, 'targets'), delegations: { keys: parseKeys(d, 'keys'), roles } });
  }

  /** notary's isValidTargetsStructure. @throws InvalidRoleError, InvalidMetadataError */
  checkStructure(role: string): void {
    if (!isTargetsRole(role)) throw new InvalidRoleError(role);
    if (this.type !== 'Targets') throw new InvalidMetadataError(role, `expected type Targets, not ${this.type}`);
    if (this.version < 1) throw new InvalidMetadataError(role, 'version cannot be less than one');
    for (const spec of this.delegations.roles) {
      if (!isDelegationName(spec.name) || !isDirectChild(role, spec.name)) {
        throw new InvalidMetadataError(role, `delegation role ${spec.name} invalid`);
      }
      checkRoleSpec(role, spec.name, spec, this.delegations.keys);
    }
  }

  /** The delegation entry named `name`, or undefined. */
  delegation(name: string): DelegationSpec | undefined {
    return this.delegations.roles.find((r) => r.name === name);
  }

  /**
   * Keys/threshold/paths of a delegation listed here (notary's BuildDelegationRole).
   * @throws InvalidRoleError when not listed (`role does not exist`) or a key is unknown
   */
  delegationRole(name: string): DelegationRole {
    const spec = this.delegation(name);
    if (spec === undefined) throw new InvalidRoleError(name, 'delegation does not exist');
    const keys = new Map<string, TufKey>();
    for (const id of spec.keyids ?? []) {
      const key = this.delegations.keys.get(id);
      if (key === undefined) throw new InvalidRoleError(name, `role lists unknown key ${id} as a signing key`);
      keys.set(id, key);
    }
    return { name, keys, threshold: spec.threshold, paths: spec.paths };
  }

  /** The generic `signed` value notary would write (`paths` omitted when empty). */
  toJSON(): Record<string, unknown> {
    const targets: Record<string, unknown> = {};
    for (const [name, meta] of this.targets) targets[name] = fileMetaToJSON(meta);
    const keys: Record<string, unknown> = {};
    for (const [id, k] of this.delegations.keys) keys[id] = keyToJSON(k);
    const roles = this.delegations.roles.map((spec) => {
      const out: Record<string, unknown> = { ...roleSpecToJSON(spec), name: spec.name };
      if (spec.paths.length > 0) out['paths'] = [...spec.paths];
      return out;
    });
    return { _type: this.type, delegations: { keys, roles }, expires: this.expires.text, targets, version: this.version };
  }
}
