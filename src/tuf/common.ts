/**
 * Pieces shared by the four role models: the common `signed` header (`_type`, `expires`,
 * `version`) and role descriptions (keys + threshold) used for signature checks.
 */
import { keyFromJSON } from '../crypto/index.ts';
import type { TufKey } from '../crypto/types.ts';
import { DeserializationError } from '../errors/index.ts';
import { InvalidMetadataError } from './errors.ts';
import type { FieldReader } from './json.ts';
import { parseGoTime, type GoTime } from './time.ts';

/** Go's zero time, used when `expires` is missing (it is then long expired). */
const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface SignedCommon {
  /** `_type` as written (`Root`, `Targets`, `Snapshot`, `Timestamp`). */
  readonly type: string;
  readonly version: number;
  readonly expires: GoTime;
}

/** @throws DeserializationError */
export function parseCommon(r: FieldReader): SignedCommon {
  const expires = r.string('expires');
  return { type: r.string('_type'), version: r.int('version'), expires: parseGoTime(expires === '' ? ZERO_TIME : expires) };
}

/** A role as used for verification: keys by (claimed) key ID and a threshold. */
export interface BaseRole {
  readonly name: string;
  readonly keys: ReadonlyMap<string, TufKey>;
  readonly threshold: number;
}

/** A delegated targets role: a BaseRole plus its path prefixes. */
export interface DelegationRole extends BaseRole {
  readonly paths: readonly string[];
}

/** `keyids` + `threshold` as listed in root `roles` (notary's RootRole). */
export interface RoleSpec {
  /** null when the file had `"keyids": null` (spec §13.11). */
  readonly keyids: readonly string[] | null;
  readonly threshold: number;
}

/**
 * notary's isValidRootRoleStructure: threshold ≥ 1 and every keyid present in `keys`.
 * @throws InvalidMetadataError naming the metadata that contains the role
 */
export function checkRoleSpec(containing: string, roleName: string, spec: RoleSpec, keys: ReadonlyMap<string, TufKey>): void {
  if (spec.threshold < 1) {
    // notary's text ends with a space
    throw new InvalidMetadataError(containing, `invalid threshold specified for ${roleName}: ${spec.threshold} `);
  }
  for (const id of spec.keyids ?? []) {
    if (!keys.has(id)) throw new InvalidMetadataError(containing, `key ID ${id} specified in ${roleName} without corresponding key`);
  }
}

/** Parse a `keys` map of TUF keys. @throws DeserializationError */
export function parseKeys(r: FieldReader, name: string): ReadonlyMap<string, TufKey> {
  const keys = new Map<string, TufKey>();
  for (const [id, v] of r.entries(name)) {
    try {
      keys.set(id, keyFromJSON(v));
    } catch (err) {
      if (err instanceof DeserializationError) throw err;
      throw new DeserializationError(`${r.path}.${name}.${id}: invalid key`, { cause: err });
    }
  }
  return keys;
}

/** Parse a `keyids`/`threshold` pair. @throws DeserializationError */
export function parseRoleSpec(r: FieldReader): RoleSpec {
  return { keyids: r.strings('keyids') ?? null, threshold: r.int('threshold') };
}

/** JSON for a role spec as Go writes it (`keyids` null when nil). */
export function roleSpecToJSON(spec: RoleSpec): Record<string, unknown> {
  return { keyids: spec.keyids === null ? null : [...spec.keyids], threshold: spec.threshold };
}
