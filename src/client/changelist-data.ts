/**
 * Payloads of staged changes (spec §9.4), byte-compatible with notary's Go `encoding/json`:
 *
 * - target create: FileMeta `{"length":N,"hashes":{…},"custom":<raw JSON>}` (struct order; `custom`
 *   only when set, embedded compacted and HTML-escaped as Go embeds a RawMessage);
 * - delegation create/update: TUFDelegation with `omitempty` on every field, in the order
 *   `new_name`, `threshold`, `add_keys`, `remove_keys`, `add_paths`, `remove_paths`, `clear_paths`;
 * - root role change (in memory only): `{"keys":[…],"role":"<role>"}`.
 *
 * Decoders follow `json.Unmarshal` into those structs (case-insensitive keys, null = zero value).
 *
 * @example
 *   const data = encodeTargetData({ length: 11, hashes: new Map([['sha256', digest]]) });
 *   decodeTargetData(data).length // 11
 */
import { encodeUtf8, fromBase64, getGoField, goJsonString, htmlEscape, parseJson, toBase64 } from '../canonical/index.ts';
import { keyFromJSON } from '../crypto/index.ts';
import type { TufKey } from '../crypto/types.ts';
import { DeserializationError } from '../errors/index.ts';

/** What `notary add`/`addhash` stages for a target. */
export interface TargetInput {
  readonly length: number;
  /** Algorithm → raw digest. */
  readonly hashes: ReadonlyMap<string, Uint8Array>;
  /** Raw JSON of `custom` (e.g. a `--custom` file), embedded compacted as Go embeds a RawMessage. */
  readonly customJson?: Uint8Array;
}

/** A decoded target payload. */
export interface TargetData {
  readonly length: number;
  readonly hashes: ReadonlyMap<string, Uint8Array>;
  /** The parsed `custom` value; undefined when absent or null. */
  readonly custom?: unknown;
}

/** notary's TUFDelegation. Empty values are left out when encoded. */
export interface DelegationData {
  readonly newName?: string;
  readonly threshold?: number;
  readonly addKeys?: readonly TufKey[];
  /** Canonical key IDs (or, for `targets/*`, the keys to purge everywhere). */
  readonly removeKeys?: readonly string[];
  readonly addPaths?: readonly string[];
  readonly removePaths?: readonly string[];
  readonly clearPaths?: boolean;
}

/** notary's TUFRootData: the new keys of a base role (root key rotation). */
export interface RootRoleData {
  readonly role: string;
  readonly keys: readonly TufKey[];
}

function keyJSON(k: TufKey): string {
  return `{"keytype":${goJsonString(k.keytype)},"keyval":{"public":"${toBase64(k.public)}","private":null}}`;
}

function stringList(items: readonly string[]): string {
  return `[${items.map(goJsonString).join(',')}]`;
}

/**
 * Go's compaction of embedded raw JSON: insignificant whitespace dropped.
 * @throws DeserializationError when `raw` is not one JSON value (Go refuses to marshal it)
 */
function compactRaw(raw: Uint8Array): string {
  parseJson(raw, 'custom');
  const text = new TextDecoder().decode(raw);
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === ' ' || c === '\t' || c === '\n' || c === '\r') continue;
    else {
      if (c === '"') inString = true;
      out += c;
    }
  }
  return out;
}

/** The bytes of `json.Marshal(data.FileMeta{…})`. @throws DeserializationError for invalid custom JSON */
export function encodeTargetData(t: TargetInput): Uint8Array {
  const algs = [...t.hashes.keys()].sort();
  const hashes = algs.map((a) => `${goJsonString(a)}:"${toBase64(t.hashes.get(a) as Uint8Array)}"`).join(',');
  let out = `{"length":${Math.trunc(t.length)},"hashes":{${hashes}}`;
  if (t.customJson !== undefined) {
    out += ',"custom":' + new TextDecoder().decode(htmlEscape(encodeUtf8(compactRaw(t.customJson))));
  }
  return encodeUtf8(out + '}');
}

/** Go's `json.Unmarshal(nil, …)`: a change without data cannot be decoded into a struct. */
function payload(bytes: Uint8Array | null, what: string): unknown {
  if (bytes === null) throw new DeserializationError(`${what}: unexpected end of JSON input`);
  return parseJson(bytes, what);
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new DeserializationError(`${what}: expected a JSON object`);
  return v as Record<string, unknown>;
}

function readStrings(v: unknown, what: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new DeserializationError(`${what}: expected an array of strings`);
  return v.map((e) => {
    if (e === null) return '';
    if (typeof e !== 'string') throw new DeserializationError(`${what}: expected an array of strings`);
    return e;
  });
}

function readInt(v: unknown, what: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new DeserializationError(`${what}: expected an integer`);
  return v;
}

function readKeys(v: unknown, what: string): TufKey[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new DeserializationError(`${what}: expected an array of keys`);
  return v.map((k) => keyFromJSON(k));
}

/** Parse a target payload (Go's FileMeta). @throws DeserializationError */
export function decodeTargetData(bytes: Uint8Array | null): TargetData {
  const v = payload(bytes, 'target data');
  const hashes = new Map<string, Uint8Array>();
  if (v === null) return { length: 0, hashes };
  const obj = asObject(v, 'target data');
  const rawHashes = getGoField(obj, 'hashes');
  if (rawHashes !== undefined && rawHashes !== null) {
    for (const [alg, v] of Object.entries(asObject(rawHashes, 'target data hashes'))) {
      if (v === null) {
        hashes.set(alg, new Uint8Array(0));
        continue;
      }
      if (typeof v !== 'string') throw new DeserializationError(`target data hashes.${alg}: expected base64`);
      try {
        hashes.set(alg, fromBase64(v));
      } catch (err) {
        throw new DeserializationError(`target data hashes.${alg}: invalid base64`, { cause: err });
      }
    }
  }
  const length = readInt(getGoField(obj, 'length'), 'target data length');
  const custom = getGoField(obj, 'custom');
  return custom === undefined || custom === null ? { length, hashes } : { length, hashes, custom };
}

/** The bytes of `json.Marshal(changelist.TUFDelegation{…})`. */
export function encodeDelegationData(d: DelegationData): Uint8Array {
  const parts: string[] = [];
  if (d.newName !== undefined && d.newName !== '') parts.push(`"new_name":${goJsonString(d.newName)}`);
  if (d.threshold !== undefined && d.threshold !== 0) parts.push(`"threshold":${Math.trunc(d.threshold)}`);
  if (d.addKeys !== undefined && d.addKeys.length > 0) parts.push(`"add_keys":[${d.addKeys.map(keyJSON).join(',')}]`);
  if (d.removeKeys !== undefined && d.removeKeys.length > 0) parts.push(`"remove_keys":${stringList(d.removeKeys)}`);
  if (d.addPaths !== undefined && d.addPaths.length > 0) parts.push(`"add_paths":${stringList(d.addPaths)}`);
  if (d.removePaths !== undefined && d.removePaths.length > 0) parts.push(`"remove_paths":${stringList(d.removePaths)}`);
  if (d.clearPaths === true) parts.push('"clear_paths":true');
  return encodeUtf8(`{${parts.join(',')}}`);
}

/** Parse a delegation payload (Go's TUFDelegation). @throws DeserializationError */
export function decodeDelegationData(bytes: Uint8Array | null): DelegationData {
  const v = payload(bytes, 'delegation data');
  if (v === null) return {};
  const obj = asObject(v, 'delegation data');
  const out: {
    newName?: string;
    threshold?: number;
    addKeys?: TufKey[];
    removeKeys?: string[];
    addPaths?: string[];
    removePaths?: string[];
    clearPaths?: boolean;
  } = {};
  const newName = getGoField(obj, 'new_name');
  if (typeof newName === 'string' && newName !== '') out.newName = newName;
  else if (newName !== undefined && newName !== null && typeof newName !== 'string') {
    throw new DeserializationError('delegation data new_name: expected a string');
  }
  const threshold = readInt(getGoField(obj, 'threshold'), 'delegation data threshold');
  if (threshold !== 0) out.threshold = threshold;
  const addKeys = readKeys(getGoField(obj, 'add_keys'), 'delegation data add_keys');
  if (addKeys !== undefined) out.addKeys = addKeys;
  const lists = [
    ['remove_keys', 'removeKeys'],
    ['add_paths', 'addPaths'],
    ['remove_paths', 'removePaths'],
  ] as const;
  for (const [wire, field] of lists) {
    const list = readStrings(getGoField(obj, wire), `delegation data ${wire}`);
    if (list !== undefined) out[field] = list;
  }
  const clear = getGoField(obj, 'clear_paths');
  if (clear !== undefined && clear !== null && typeof clear !== 'boolean') {
    throw new DeserializationError('delegation data clear_paths: expected a boolean');
  }
  if (clear === true) out.clearPaths = true;
  return out;
}

export function encodeRootRoleData(d: RootRoleData): Uint8Array {
  return encodeUtf8(`{"keys":[${d.keys.map(keyJSON).join(',')}],"role":${goJsonString(d.role)}}`);
}

/** @throws DeserializationError */
export function decodeRootRoleData(bytes: Uint8Array | null): RootRoleData {
  const obj = asObject(payload(bytes, 'root role data'), 'root role data');
  const role = getGoField(obj, 'role');
  if (role !== undefined && role !== null && typeof role !== 'string') throw new DeserializationError('root role data role: expected a string');
  return { role: typeof role === 'string' ? role : '', keys: readKeys(getGoField(obj, 'keys'), 'root role data keys') ?? [] };
}
