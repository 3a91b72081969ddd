/**
 * Generic config-file plumbing shared by the per-binary schemas (notary-server now, the signer
 * later), mirroring how notary reads its files through viper:
 * - the format is chosen by extension (`.json`, `.yaml`/`.yml`);
 * - keys are case-insensitive (viper lowercases them), so they are lowercased on read;
 * - `<PREFIX>_<PATH_WITH_UNDERSCORES>` environment variables override leaves of the schema,
 *   empty values count as unset (viper's default);
 * - the result is deep-frozen by the caller once validated.
 *
 * A schema is a tree whose leaves name a value kind; walking raw input against it reports every
 * unknown key and every wrongly typed value at once.
 *
 * Example:
 *   const raw = await readConfigFile('/etc/notary/server.json');
 *   const { values, errors } = walkSchema(SCHEMA, lowercaseKeys(raw), env, 'NOTARY_SERVER');
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { ConfigError } from '../errors/index.ts';

/** Leaf kinds: `map` accepts any object (its content is checked by the consumer). */
export type LeafKind = 'string' | 'int' | 'bool' | 'string-list' | 'map';
export interface SchemaNode {
  readonly [key: string]: LeafKind | SchemaNode;
}

export type Flat = Map<string, unknown>;

/** Read and parse a config file (JSON or YAML by extension). */
export async function readConfigFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`could not read config at ${file}: ${(err as Error).message}`, { cause: err });
  }
  const ext = extname(file).toLowerCase();
  try {
    if (ext === '.json') return JSON.parse(text);
    // yaml (about 70 modules) is loaded only for a YAML file: a long-running server keeps what it loads
    if (ext === '.yaml' || ext === '.yml') return (await import('yaml')).parse(text) ?? {};
  } catch (err) {
    throw new ConfigError(`could not parse config at ${file}: ${(err as Error).message}`, { cause: err });
  }
  throw new ConfigError(`could not read config at ${file}: unsupported config type ${JSON.stringify(ext.slice(1))} (use .json, .yaml or .yml)`);
}

/** Lowercase every object key recursively (viper's case-insensitivity). */
export function lowercaseKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(lowercaseKeys);
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) out[k.toLowerCase()] = lowercaseKeys(val);
    return out;
  }
  return v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Coerce a raw value to a leaf kind the way viper's typed getters would, or explain why not. */
function coerce(kind: LeafKind, v: unknown): { ok: true; value: unknown } | { ok: false; why: string } {
  switch (kind) {
    case 'string':
      if (typeof v === 'string') return { ok: true, value: v };
      if (typeof v === 'number' || typeof v === 'boolean') return { ok: true, value: String(v) };
      return { ok: false, why: 'must be a string' };
    case 'int': {
      const s = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : undefined;
      if (s !== undefined && /^[+-]?\d+$/.test(s) && Number.isSafeInteger(Number(s))) return { ok: true, value: Number(s) };
      return { ok: false, why: 'must be an integer' };
    }
    case 'bool':
      if (typeof v === 'boolean') return { ok: true, value: v };
      if (v === 'true' || v === 'false') return { ok: true, value: v === 'true' };
      return { ok: false, why: 'must be true or false' };
    case 'string-list':
      if (typeof v === 'string') return { ok: true, value: v.split(/\s+/).filter((s) => s !== '') };
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return { ok: true, value: [...v] };
      return { ok: false, why: 'must be a list of strings' };
    case 'map':
      if (isPlainObject(v)) return { ok: true, value: v };
      return { ok: false, why: 'must be a mapping' };
  }
}

/**
 * Walk `raw` against `schema`, applying env overrides, and return the leaves as a flat map keyed
 * by dotted path (`storage.db_url`), plus every problem found. `null` values count as absent.
 * For `map` leaves, `mapEnvKeys` lists sub-keys that may also come from the environment.
 */
export function walkSchema(
  schema: SchemaNode,
  raw: unknown,
  env: Readonly<Record<string, string | undefined>>,
  envPrefix: string,
  mapEnvKeys: Readonly<Record<string, readonly string[]>> = {},
): { values: Flat; errors: string[] } {
  const values: Flat = new Map();
  const errors: string[] = [];
  const visit = (node: SchemaNode, input: unknown, path: string[]): void => {
    const obj = input === undefined || input === null ? {} : input;
    if (!isPlainObject(obj)) {
      errors.push(`${path.join('.')} must be a mapping`);
      return;
    }
    for (const key of Object.keys(obj)) {
      if (!(key in node)) errors.push(`unknown key ${[...path, key].join('.')}`);
    }
    for (const [key, kind] of Object.entries(node)) {
      const p = [...path, key];
      const dotted = p.join('.');
      if (typeof kind !== 'string') {
        visit(kind, obj[key], p);
        continue;
      }
      const envName = `${envPrefix}_${p.join('_').toUpperCase()}`;
      const envVal = env[envName];
      let v: unknown = obj[key];
      let source = dotted;
      if (envVal !== undefined && envVal !== '' && kind !== 'map') {
        v = envVal;
        source = `${dotted} (from ${envName})`;
      }
      if (kind === 'map') {
        const base = v === undefined || v === null ? undefined : v;
        const extra: Record<string, string> = {};
        for (const sub of mapEnvKeys[dotted] ?? []) {
          const e = env[`${envName}_${sub.toUpperCase()}`];
          if (e !== undefined && e !== '') extra[sub] = e;
        }
        if (base === undefined && Object.keys(extra).length === 0) continue;
        const c = coerce('map', base ?? {});
        if (!c.ok) errors.push(`${source} ${c.why}`);
        else values.set(dotted, { ...(c.value as Record<string, unknown>), ...extra });
        continue;
      }
      if (v === undefined || v === null) continue;
      const c = coerce(kind, v);
      if (!c.ok) errors.push(`${source} ${c.why}`);
      else values.set(dotted, c.value);
    }
  };
  visit(schema, raw, []);
  return { values, errors };
}

/** Freeze an object graph in place and return it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
