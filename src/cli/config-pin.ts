/**
 * `vouch trust pin GUN KEYID`: add a TUF root key ID to `trust_pinning.certs[GUN]` in the client
 * config file (spec §9.5, §13.17), creating the file (and its directory, 0700) when it does not
 * exist. The next first contact with the GUN — a fresh trust dir, a new CI machine — then accepts
 * only a root signed by that key; notary and docker read the same setting.
 *
 * JSON files are rewritten with two-space indentation; YAML files are edited in place through the
 * `yaml` Document API, so comments and layout survive. Existing `trust_pinning` / `certs` keys
 * are found case-insensitively (viper's rule) and reused. The write is atomic (temp file + rename)
 * and keeps the file's mode.
 *
 * @example
 *   await addCertPin('/home/u/.notary/config.json', 'example.com/app', '6f2c…');
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, extname } from 'node:path';
import { isMap, isScalar, parseDocument, type Document, type YAMLMap } from 'yaml';
import { ConfigError } from '../errors/index.ts';
import { parseConfigText } from './config.ts';
import { goPathError, isNotExist } from './go-errors.ts';

export interface PinResult {
  /** The file did not exist and was created. */
  readonly created: boolean;
  /** The key ID was already pinned for the GUN (nothing changed). */
  readonly alreadyPinned: boolean;
  /** Every key ID now pinned for the GUN. */
  readonly keyIds: readonly string[];
}

function keyOf(obj: Record<string, unknown>, name: string): string {
  return Object.keys(obj).find((k) => k.toLowerCase() === name) ?? name;
}

function objectAt(obj: Record<string, unknown>, key: string, where: string): Record<string, unknown> {
  const v = obj[key];
  if (v === undefined || v === null) {
    const fresh: Record<string, unknown> = {};
    obj[key] = fresh;
    return fresh;
  }
  if (typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(`cannot pin: ${where} in the config file is not a map`);
  return v as Record<string, unknown>;
}

function pinnedList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new ConfigError('invalid format for trust_pinning.certs');
  return [...(v as string[])];
}

function editJson(raw: Record<string, unknown>, gun: string, keyId: string): { text: string; ids: string[]; already: boolean } {
  const pinning = objectAt(raw, keyOf(raw, 'trust_pinning'), 'trust_pinning');
  const certs = objectAt(pinning, keyOf(pinning, 'certs'), 'trust_pinning.certs');
  const ids = pinnedList(certs[gun]);
  const already = ids.includes(keyId);
  if (!already) ids.push(keyId);
  certs[gun] = ids;
  return { text: JSON.stringify(raw, null, 2) + '\n', ids, already };
}

function yamlKey(map: YAMLMap, name: string): unknown {
  for (const pair of map.items) {
    const k = isScalar(pair.key) ? pair.key.value : pair.key;
    if (typeof k === 'string' && k.toLowerCase() === name) return k;
  }
  return name;
}

function yamlMapAt(doc: Document, parent: YAMLMap, name: string, where: string): YAMLMap {
  const key = yamlKey(parent, name);
  const v = parent.get(key, true);
  if (v === undefined || v === null || (isScalar(v) && v.value === null)) {
    const fresh = doc.createNode({}) as YAMLMap;
    parent.set(key, fresh);
    return fresh;
  }
  if (!isMap(v)) throw new ConfigError(`cannot pin: ${where} in the config file is not a map`);
  return v;
}

function editYaml(text: string, gun: string, keyId: string): { text: string; ids: string[]; already: boolean } {
  const doc: Document = parseDocument(text);
  if (doc.errors.length > 0) throw new ConfigError(`error opening config file: While parsing config: ${doc.errors[0]?.message ?? 'invalid YAML'}`);
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) doc.contents = doc.createNode({}) as YAMLMap;
  if (!isMap(doc.contents)) throw new ConfigError('error opening config file: While parsing config: the top level must be a map');
  const pinning = yamlMapAt(doc, doc.contents, 'trust_pinning', 'trust_pinning');
  const certs = yamlMapAt(doc, pinning, 'certs', 'trust_pinning.certs');
  const current = certs.get(gun);
  const ids = pinnedList(current === undefined ? undefined : (certs.toJSON() as Record<string, unknown>)[gun]);
  const already = ids.includes(keyId);
  if (!already) {
    ids.push(keyId);
    certs.set(gun, doc.createNode(ids));
  }
  return { text: doc.toString(), ids, already };
}

/**
 * Pin `keyId` for `gun` in `configFile`.
 * @throws ConfigError for an unreadable or unparsable file or a `trust_pinning` of the wrong shape
 */
export async function addCertPin(configFile: string, gun: string, keyId: string): Promise<PinResult> {
  let text: string | undefined;
  let mode: number | undefined;
  try {
    text = await readFile(configFile, 'utf8');
    mode = (await stat(configFile)).mode & 0o777;
  } catch (err) {
    if (!isNotExist(err)) throw new ConfigError(`error opening config file: ${goPathError('open', configFile, err)}`, { cause: err });
  }
  const ext = extname(configFile).slice(1).toLowerCase();
  const isYaml = ext === 'yaml' || ext === 'yml';
  if (!isYaml && ext !== 'json') throw new ConfigError(`error opening config file: Unsupported Config Type ${JSON.stringify(ext)}`);
  const edited = isYaml ? editYaml(text ?? '', gun, keyId) : editJson(text === undefined ? {} : parseConfigText(configFile, text), gun, keyId);
  if (!edited.already) {
    await mkdir(dirname(configFile), { recursive: true, mode: 0o700 });
    const tmp = `${configFile}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, edited.text, { mode: mode ?? 0o600, flag: 'wx' });
      if (mode !== undefined) await chmod(tmp, mode);
      await rename(tmp, configFile);
    } catch (err) {
      await rm(tmp, { force: true });
      throw new ConfigError(`could not write config file: ${goPathError('open', configFile, err)}`, { cause: err });
    }
  }
  return { created: text === undefined, alreadyPinned: edited.already, keyIds: edited.ids };
}
