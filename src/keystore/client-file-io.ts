/**
 * File system helpers of the client key store (spec §9.1): private directories (0700), key files
 * written atomically (a 0600 temporary file in the same directory, synced, then renamed over the
 * target, so a crash or error never leaves a half-written key), and the listing of `*.key` files in
 * the order Go's `filepath.Walk` visits them (lexical per directory, symlinks skipped).
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
export const KEY_EXTENSION = '.key';

/** Create `dir` (and parents) with mode 0700; directories that already exist are left as they are. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (first === undefined) return;
  // mkdir's mode is filtered by the umask; make the directories this call created exactly 0700.
  for (let d = dir; ; d = dirname(d)) {
    await chmod(d, PRIVATE_DIR_MODE);
    if (d === first || dirname(d) === d) break;
  }
}

/**
 * Write `data` to `path` atomically with mode 0600, creating the parent directory (0700) if needed.
 * On any failure the target is unchanged and the temporary file is removed.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  await ensurePrivateDir(dir);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', PRIVATE_FILE_MODE);
  try {
    try {
      await fh.chmod(PRIVATE_FILE_MODE);
      await fh.writeFile(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncDir(dir);
}

async function syncDir(dir: string): Promise<void> {
  try {
    const dh = await open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch {
    // Not every platform can fsync a directory; the rename itself is already atomic.
  }
}

/**
 * Relative paths (without `.key`, `/`-separated) of every regular `*.key` file below `dir`, in
 * `filepath.Walk` order. A missing directory lists as empty.
 */
export async function listKeyFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  await walk(dir, '', out);
  return out;
}

async function walk(root: string, rel: string, out: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(rel === '' ? root : join(root, rel), { withFileTypes: true });
  } catch {
    return; // unreadable or missing: skipped, as Walk's callback ignores errors
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) await walk(root, childRel, out);
    else if (e.isFile() && e.name.endsWith(KEY_EXTENSION)) out.push(childRel.slice(0, -KEY_EXTENSION.length));
  }
}

/**
 * The file for a store location (`<id>` or `<sub/dir/id>`) inside `dir`, or null when the location
 * would leave the directory (notary's ErrPathOutsideStore) or is empty.
 */
export function locationPath(dir: string, location: string): string | null {
  if (location === '' || location.includes('\0') || isAbsolute(location)) return null;
  const full = resolve(dir, location + KEY_EXTENSION);
  const rel = relative(resolve(dir), full);
  if (rel === '' || rel.startsWith('..' + sep) || rel === '..' || isAbsolute(rel)) return null;
  return full;
}
