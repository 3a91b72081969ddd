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
import { mkdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { VouchError } from '../errors/index.ts';
import type { CacheBatch, MetadataCache } from './types.ts';

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

  /**
   * Writes prepared in a private staging directory beside `metadata` (`.metadata.<random>.tmp`)
   * while an update runs. At commit, when there is no `metadata` directory yet (a first read of
   * the GUN) and every prepared file is wanted, the staging directory becomes `metadata` with
   * one rename; otherwise each wanted file is renamed into place (atomic per file). Either way
   * the file operations of a read overlap its downloads instead of following them.
   */
  batch(): CacheBatch {
    return new FileCacheBatch(this.dir, (d) => this.#mkdir(d), () => this.#dirs.clear());
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

/** FileMetadataCache's prepared writes (see `FileMetadataCache.batch`). */
class FileCacheBatch implements CacheBatch {
  readonly #dir: string;
  readonly #staging: string;
  readonly #mkdir: (dir: string) => Promise<unknown>;
  readonly #forgetDirs: () => void;
  /** Each prepared role: the chain of its writes, resolving to true when the last one succeeded. */
  readonly #files = new Map<string, Promise<boolean>>();

  constructor(dir: string, makeDir: (dir: string) => Promise<unknown>, forgetDirs: () => void) {
    this.#dir = dir;
    this.#staging = join(dirname(dir), `.${basename(dir)}.${randomBytes(6).toString('hex')}.tmp`);
    this.#mkdir = makeDir;
    this.#forgetDirs = forgetDirs;
  }

  write(role: string, data: Uint8Array): void {
    const file = roleFile(this.#staging, role); // throws for a bad name, before anything starts
    const previous = this.#files.get(role) ?? Promise.resolve(false);
    const next = previous.then(async () => {
      try {
        await this.#mkdir(dirname(file));
        await writeFile(file, data, { mode: 0o600 });
        return true;
      } catch {
        return false; // not prepared: commit reports the role and the caller writes it
      }
    });
    this.#files.set(role, next);
  }

  async commit(roles: readonly string[]): Promise<string[]> {
    const ready = new Map<string, boolean>();
    for (const [role, done] of this.#files) ready.set(role, await done);
    const wanted = new Set(roles);
    const whole = roles.length > 0 && ready.size === wanted.size && [...ready].every(([role, ok]) => ok && wanted.has(role));
    try {
      if (whole && !(await exists(this.#dir))) {
        try {
          await rename(this.#staging, this.#dir);
          this.#forgetDirs(); // what was made under the staging name now has another
          return [];
        } catch {
          // made meanwhile (another process): file by file below
        }
      }
      const failed: string[] = [];
      await Promise.all(
        roles.map(async (role) => {
          if (ready.get(role) !== true) {
            failed.push(role);
            return;
          }
          const target = roleFile(this.#dir, role);
          try {
            await this.#mkdir(dirname(target));
            await rename(roleFile(this.#staging, role), target);
          } catch {
            failed.push(role);
          }
        }),
      );
      return roles.filter((r) => failed.includes(r)); // in the order asked
    } finally {
      await rm(this.#staging, { recursive: true, force: true });
    }
  }

  async discard(): Promise<void> {
    await Promise.all(this.#files.values());
    await rm(this.#staging, { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
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
