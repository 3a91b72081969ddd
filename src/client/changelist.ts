/**
 * Staged changes (spec §9.4): one JSON file per change under
 * `<trust_dir>/tuf/<gun>/changelist/<20-digit UnixNano>_<uuid>.change`, applied in file-name
 * order at publish and deleted afterwards. The file bytes are what Go's `encoding/json` writes
 * for notary's TUFChange (key order `action`, `role`, `type`, `path`, `data`; HTML-escaped
 * strings; `data` base64 or `null`), so vouch and the notary CLI read each other's changes.
 *
 * Not here: what the `data` payloads mean (changelist-data.ts) and applying changes
 * (changelist-apply.ts).
 *
 * @example
 *   const cl = new FileChangelist(changelistDir(trustDir, gun));
 *   await cl.add(targetChange('create', 'targets', 'v1', encodeTargetData(meta)));
 *   (await cl.list()).map((c) => c.path)   // ['v1']
 *   await cl.remove([0]);                  // `notary reset -n 0`
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compareCodePoints, fromBase64, getGoField, goJsonString, parseJson, toBase64, encodeUtf8 } from '../canonical/index.ts';
import { DeserializationError } from '../errors/index.ts';
import { gunDir } from './cache.ts';

export const ChangeAction = { Create: 'create', Update: 'update', Delete: 'delete' } as const;
export type ChangeAction = (typeof ChangeAction)[keyof typeof ChangeAction];

/** notary's change types; `role` only ever lives in memory (root key rotation). */
export const ChangeType = { Target: 'target', Delegation: 'delegation', Witness: 'witness', BaseRole: 'role' } as const;
export type ChangeType = (typeof ChangeType)[keyof typeof ChangeType];

/** One staged change. Strings are kept as read: a file written by another tool may hold anything. */
export interface Change {
  readonly action: string;
  /** The role the change applies to (`targets`, `targets/x`, `targets/*`, `root`); `role` on disk. */
  readonly scope: string;
  readonly type: string;
  readonly path: string;
  /** The payload (JSON bytes) or null. */
  readonly data: Uint8Array | null;
}

/** A list of staged changes in application order. Not safe for concurrent use. */
export interface Changelist {
  /** Changes in order; unreadable entries are skipped (notary logs and skips them). */
  list(): Promise<Change[]>;
  add(change: Change): Promise<void>;
  /** Remove the changes at these 0-based positions (`notary reset -n`); unknown positions are ignored. */
  remove(indices: readonly number[]): Promise<void>;
  /** Remove every change (`notary reset --all`, and after a successful publish). */
  clear(): Promise<void>;
  /** Where the changes live (a directory, or a description). */
  readonly location: string;
}

/** The file bytes Go's `json.Marshal(TUFChange)` produces. */
export function encodeChange(c: Change): Uint8Array {
  const data = c.data === null ? 'null' : `"${toBase64(c.data)}"`;
  return encodeUtf8(
    `{"action":${goJsonString(c.action)},"role":${goJsonString(c.scope)},"type":${goJsonString(c.type)},` +
      `"path":${goJsonString(c.path)},"data":${data}}`,
  );
}

function stringField(obj: Record<string, unknown>, name: string, what: string): string {
  const v = getGoField(obj, name);
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new DeserializationError(`${what}: "${name}" must be a string`);
  return v;
}

/**
 * Read a change file as Go's `json.Unmarshal` fills TUFChange: keys matched case-insensitively,
 * missing or null fields empty, `data` standard base64 or null.
 * @throws DeserializationError
 */
export function decodeChange(bytes: Uint8Array, what = 'change'): Change {
  const v = parseJson(bytes, what);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new DeserializationError(`${what}: expected a JSON object`);
  const obj = v as Record<string, unknown>;
  const raw = getGoField(obj, 'data');
  let data: Uint8Array | null = null;
  if (raw !== undefined && raw !== null) {
    if (typeof raw !== 'string') throw new DeserializationError(`${what}: "data" must be a base64 string`);
    try {
      data = fromBase64(raw);
    } catch (err) {
      throw new DeserializationError(`${what}: "data" is not valid base64`, { cause: err });
    }
  }
  return {
    action: stringField(obj, 'action', what),
    scope: stringField(obj, 'role', what),
    type: stringField(obj, 'type', what),
    path: stringField(obj, 'path', what),
    data,
  };
}

/** `<trust_dir>/tuf/<gun>/changelist`. @throws InvalidNameError for a GUN that is not a safe relative path */
export function changelistDir(trustDir: string, gun: string): string {
  return join(gunDir(trustDir, gun), 'changelist');
}

export interface FileChangelistOptions {
  /** Clock for file names; default the system clock. */
  readonly now?: () => Date;
  /** UUID source for file names; default `crypto.randomUUID`. */
  readonly uuid?: () => string;
  /** Called for each unreadable change file that `list` skips. */
  readonly onSkip?: (file: string, err: unknown) => void;
}

/** Last UnixNano handed out in this process, so names stay strictly increasing within a millisecond. */
let lastNanos = 0n;

function nextNanos(now: Date): bigint {
  let n = BigInt(now.getTime()) * 1_000_000n;
  if (n <= lastNanos) n = lastNanos + 1n;
  lastNanos = n;
  return n;
}

/** notary's FileChangelist: every non-directory entry of `dir`, sorted by name, is a change. */
export class FileChangelist implements Changelist {
  readonly location: string;
  readonly #now: () => Date;
  readonly #uuid: () => string;
  readonly #onSkip: (file: string, err: unknown) => void;

  constructor(dir: string, options: FileChangelistOptions = {}) {
    this.location = dir;
    this.#now = options.now ?? (() => new Date());
    this.#uuid = options.uuid ?? randomUUID;
    this.#onSkip = options.onSkip ?? (() => {});
  }

  /** Names of the change files in application order (unreadable ones included, as notary counts them). */
  async fileNames(): Promise<string[]> {
    let entries;
    try {
      entries = await readdir(this.location, { withFileTypes: true });
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
    return entries.filter((e) => !e.isDirectory()).map((e) => e.name).sort(compareCodePoints);
  }

  async list(): Promise<Change[]> {
    const out: Change[] = [];
    for (const name of await this.fileNames()) {
      try {
        out.push(decodeChange(await readFile(join(this.location, name)), name));
      } catch (err) {
        this.#onSkip(name, err);
      }
    }
    return out;
  }

  async add(change: Change): Promise<void> {
    await mkdir(this.location, { recursive: true, mode: 0o700 });
    const name = `${nextNanos(this.#now()).toString().padStart(20, '0')}_${this.#uuid()}.change`;
    await writeFile(join(this.location, name), encodeChange(change), { mode: 0o600, flag: 'wx' });
  }

  /** Positions count every file, readable or not (notary's Remove does the same). */
  async remove(indices: readonly number[]): Promise<void> {
    const wanted = new Set(indices);
    const names = await this.fileNames();
    for (const [i, name] of names.entries()) {
      if (wanted.has(i)) await rm(join(this.location, name), { force: true });
    }
  }

  async clear(): Promise<void> {
    let entries;
    try {
      entries = await readdir(this.location, { withFileTypes: true });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    for (const e of entries) {
      if (!e.isDirectory()) await rm(join(this.location, e.name), { force: true });
    }
  }
}

/** An in-memory changelist (root key rotations publish through one, spec §9.4). */
export class MemoryChangelist implements Changelist {
  readonly location = 'memory';
  #changes: Change[] = [];

  constructor(changes: readonly Change[] = []) {
    this.#changes = [...changes];
  }

  async list(): Promise<Change[]> {
    return [...this.#changes];
  }

  async add(change: Change): Promise<void> {
    this.#changes.push(change);
  }

  async remove(indices: readonly number[]): Promise<void> {
    const drop = new Set(indices);
    this.#changes = this.#changes.filter((_, i) => !drop.has(i));
  }

  async clear(): Promise<void> {
    this.#changes = [];
  }
}

function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ENOENT';
}
