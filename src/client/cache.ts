/**
 * The client's metadata cache (spec §9.1): `<trust_dir>/tuf/<gun>/metadata/<role>.json`, with
 * delegations below `metadata/targets/…` and the GUN mapped to nested directories
 * (`tuf/example.com/spec/app/metadata/root.json`). Directories are created 0700 and files 0600,
 * as notary does. Every write is atomic: a temp file in the same directory, then rename, so a
 * reader never sees half a file and a crash leaves the old file or the new one.
 *
 * GUNs and role names are checked before they become paths: no empty, `.` or `..` segments, no
 * backslashes or NUL bytes, nothing absolute — a hostile name can never leave the trust dir.
 *
 * `MemoryMetadataCache` is the in-memory reference implementation (tests, dry runs).
 *
 * @example
 *   const cache = new FileMetadataCache('/home/u/.notary', 'example.com/app');
 *   await cache.set('targets/releases', bytes);   // …/metadata/targets/releases.json
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { VouchError } from '../errors/index.ts';
import type { MetadataCache } from './types.ts';

/** A GUN or role name that cannot be used as a path below the trust dir. */
export class InvalidNameError extends VouchError {
  constructor(what: 'GUN' | 'role', name: string) {
    super(what === 'GUN' ? 'INVALID_GUN' : 'INVALID_ROLE', `invalid ${what} for the metadata cache: ${JSON.stringify(name)}`);
  }
}

/** Slash-separated relative path with only real segments. */
function safeSegments(name: string): string[] | null {
  if (name === '' || name.includes('\\') || name.includes('\0') || name.startsWith('/')) return null;
  const segs = name.split('/');
  return segs.every((s) => s !== '' && s !== '.' && s !== '..') ? segs : null;
}

/** `<trust_dir>/tuf/<gun>/metadata`. @throws InvalidNameError */
export function metadataDir(trustDir: string, gun: string): string {
  const segs = safeSegments(gun);
  if (segs === null) throw new InvalidNameError('GUN', gun);
  return join(trustDir, 'tuf', ...segs, 'metadata');
}

/** `<trust_dir>/tuf/<gun>`: what `notary delete GUN` removes. @throws InvalidNameError */
export function gunDir(trustDir: string, gun: string): string {
  return dirname(metadataDir(trustDir, gun));
}

function roleFile(dir: string, role: string): string {
  const segs = safeSegments(role);
  if (segs === null) throw new InvalidNameError('role', role);
  return join(dir, ...segs) + '.json';
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

/** The on-disk cache of one GUN. Safe for concurrent readers; writers replace whole files. */
export class FileMetadataCache implements MetadataCache {
  readonly dir: string;

  /** @throws InvalidNameError for a GUN that is not a safe relative path */
  constructor(trustDir: string, gun: string) {
    this.dir = metadataDir(trustDir, gun);
  }

  /** Directories made (or being made) by this cache: `mkdir -p` once each, not once per file. */
  readonly #dirs = new Map<string, Promise<unknown>>();

  #mkdir(dir: string): Promise<unknown> {
    let made = this.#dirs.get(dir);
    if (made === undefined) {
      made = mkdir(dir, { recursive: true, mode: 0o700 });
      // a failure is not remembered: the next write tries again
      made.catch(() => this.#dirs.delete(dir));
      this.#dirs.set(dir, made);
    }
    return made;
  }

  /** The file a role is cached in. @throws InvalidNameError */
  path(role: string): string {
    return roleFile(this.dir, role);
  }

  async get(role: string): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await readFile(this.path(role)));
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async set(role: string, data: Uint8Array): Promise<void> {
    const file = this.path(role);
    const dir = dirname(file);
    await this.#mkdir(dir);
    try {
      await this.#replace(file, data);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      // the directory went away since this cache made it (a `delete` of the GUN): once more
      this.#dirs.delete(dir);
      await this.#mkdir(dir);
      await this.#replace(file, data);
    }
  }

  /** Write `file` atomically: a new temp file beside it, then rename. */
  async #replace(file: string, data: Uint8Array): Promise<void> {
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, data, { mode: 0o600, flag: 'wx' });
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async remove(role: string): Promise<void> {
    try {
      await unlink(this.path(role));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async removeAll(): Promise<void> {
    this.#dirs.clear();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** In-memory cache with the same name rules; copies bytes in and out. */
export class MemoryMetadataCache implements MetadataCache {
  readonly #files = new Map<string, Uint8Array>();

  constructor(initial?: Iterable<readonly [string, Uint8Array]>) {
    for (const [role, data] of initial ?? []) this.#files.set(role, Uint8Array.from(data));
  }

  async get(role: string): Promise<Uint8Array | null> {
    roleFile('', role);
    const data = this.#files.get(role);
    return data === undefined ? null : Uint8Array.from(data);
  }

  async set(role: string, data: Uint8Array): Promise<void> {
    roleFile('', role);
    this.#files.set(role, Uint8Array.from(data));
  }

  async remove(role: string): Promise<void> {
    this.#files.delete(role);
  }

  async removeAll(): Promise<void> {
    this.#files.clear();
  }

  /** Roles currently held (for tests). */
  roles(): string[] {
    return [...this.#files.keys()].sort();
  }
}
