/**
 * Small filesystem helpers of the registry's filesystem backend: replace-by-rename writes,
 * "absent is null" reads and directory listings that treat a missing directory as empty.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export function isNotFound(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Rename `from` to `to`, creating `to`'s directory when it is missing. */
export async function renameInto(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await mkdir(dirname(to), { recursive: true });
    await rename(from, to);
  }
}

/**
 * Write `data` to `file` so that readers see the old content or the new, never a part: the bytes
 * go to a file in `tmpDir` (same filesystem), are flushed when `sync`, then renamed over `file`.
 */
export async function writeAtomic(tmpDir: string, file: string, data: string | Uint8Array, sync: boolean): Promise<void> {
  const tmp = join(tmpDir, randomUUID());
  let fh;
  try {
    fh = await open(tmp, 'w');
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await mkdir(tmpDir, { recursive: true });
    fh = await open(tmp, 'w');
  }
  try {
    await fh.writeFile(data);
    if (sync) await fh.datasync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await renameInto(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Create an empty file (its existence is the record), creating directories as needed. */
export async function touch(file: string): Promise<void> {
  let fh;
  try {
    fh = await open(file, 'a');
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await mkdir(dirname(file), { recursive: true });
    fh = await open(file, 'a');
  }
  await fh.close();
}

export async function readIfExists(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

export async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** Size and mtime of a regular file, or null. */
export async function fileStat(file: string): Promise<{ size: number; mtime: Date } | null> {
  try {
    const s = await stat(file);
    return s.isFile() ? { size: s.size, mtime: s.mtime } : null;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/** Remove a file; false when it was not there. */
export async function removeFile(file: string): Promise<boolean> {
  try {
    await unlink(file);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** Names in a directory (sorted), or [] when it does not exist. */
export async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

/** Subdirectory names of a directory (sorted), or [] when it does not exist. */
export async function listSubdirs(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}
