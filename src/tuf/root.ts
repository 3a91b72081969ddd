/**
 * root.json's `signed` part (spec §4.2). `Root.fromSigned` is notary's RootFromSigned: it reads
 * the generic value and checks the structure (type `Root`, version ≥ 1, the four base roles with
 * threshold ≥ 1 and every keyid present in `keys`). Extra roles are kept.
 *
 * Certificate rules (x509 leaf, CN = GUN, pinning) are not structure: see root-validation.ts.
 *
 * @example
 *   const root = Root.fromSigned(Envelope.parse(bytes, 'root').signed);
 *   root.baseRole('targets') // keys + threshold for verifying targets.json
 */
import { keyToJSON } from '../crypto/index.ts';
import type { TufKey } from '../crypto/types.ts';
import { InvalidMetadataError, InvalidRoleError } from './errors.ts';
import { checkRoleSpec, parseCommon, parseKeys, parseRoleSpec, roleSpecToJSON, type BaseRole, type RoleSpec, type SignedCommon } from './common.ts';
import { FieldReader } from './json.ts';
import { BASE_ROLES } from './roles.ts';
import type { GoTime } from './time.ts';

export interface RootOptions {
  readonly version: number;
  readonly expires: GoTime;
  readonly keys: ReadonlyMap<string, TufKey>;
  /** A null value stands for `"role": null` in the file. */
  readonly roles: ReadonlyMap<string, RoleSpec | null>;
  readonly consistentSnapshot?: boolean;
  /** Defaults to `Root`. */
  readonly type?: string;
}

export class Root implements SignedCommon {
  readonly type: string;
  readonly version: number;
  readonly expires: GoTime;
  readonly keys: ReadonlyMap<string, TufKey>;
  readonly roles: ReadonlyMap<string, RoleSpec | null>;
  readonly consistentSnapshot: boolean;

  constructor(o: RootOptions) {
    this.type = o.type ?? 'Root';
    this.version = o.version;
    this.expires = o.expires;
    this.keys = o.keys;
    this.roles = o.roles;
    this.consistentSnapshot = o.consistentSnapshot ?? false;
  }

  /**
   * Read and structurally validate a generic `signed` value.
   * @throws DeserializationError (wrong JSON types), InvalidMetadataError (bad structure)
   */
  static fromSigned(value: unknown): Root {
    const root = Root.read(value);
    root.checkStructure();
    return root;
  }

  /** Read without the structure check (what Go's plain json.Unmarshal gives). @throws DeserializationError */
  static read(value: unknown): Root {
    const r = new FieldReader(value, 'root');
    const common = parseCommon(r);
    const roles = new Map<string, RoleSpec | null>();
    for (const [name, v] of r.entries('roles')) {
      roles.set(name, v === null ? null : parseRoleSpec(new FieldReader(v, `root.roles.${name}`)));
    }
    return new Root({ ...common, keys: parseKeys(r, 'keys'), roles, consistentSnapshot: r.bool('consistent_snapshot') });
  }

  /** notary's isValidRootStructure. @throws InvalidMetadataError */
  checkStructure(): void {
    if (this.type !== 'Root') throw new InvalidMetadataError('root', `expected type Root, not ${this.type}`);
    if (this.version < 1) throw new InvalidMetadataError('root', 'version cannot be less than 1');
    for (const name of BASE_ROLES) {
      const spec = this.roles.get(name);
      if (spec === undefined || spec === null) throw new InvalidMetadataError('root', `missing ${name} role specification`);
      checkRoleSpec('root', name, spec, this.keys);
    }
  }

  /**
   * Keys and threshold of a role listed in root (notary's BuildBaseRole).
   * @throws InvalidRoleError when the role or one of its keys is missing
   */
  baseRole(name: string): BaseRole {
    const spec = this.roles.get(name);
    if (spec === undefined || spec === null) throw new InvalidRoleError(name, 'role not found in root file');
    const keys = new Map<string, TufKey>();
    for (const id of spec.keyids ?? []) {
      const key = this.keys.get(id);
      if (key === undefined) throw new InvalidRoleError(name, `key with ID ${id} was not found in root metadata`);
      keys.set(id, key);
    }
    return { name, keys, threshold: spec.threshold };
  }

  /** The generic `signed` value notary would write (fields Go knows, expires text verbatim). */
  toJSON(): Record<string, unknown> {
    const keys: Record<string, unknown> = {};
    for (const [id, k] of this.keys) keys[id] = keyToJSON(k);
    const roles: Record<string, unknown> = {};
    for (const [name, spec] of this.roles) roles[name] = spec === null ? null : roleSpecToJSON(spec);
    return {
      _type: this.type,
      consistent_snapshot: this.consistentSnapshot,
      expires: this.expires.text,
      keys,
      roles,
      version: this.version,
    };
  }
}
