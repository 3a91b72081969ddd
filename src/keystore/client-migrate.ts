/**
 * Migration of the pre-0.4 private key layout (spec §9.1), run when a key store is opened, as
 * notary's `NewPrivateKeyFileStorage` runs it:
 *
 * - `private/root_keys/<id>_root.key` → `private/<id>.key` with `role: root`;
 * - `private/tuf_keys/<gun>/<id>_<role>.key` → `private/<id>.key` with `gun: <gun>`, `role: <role>`
 *   (files already named `<id>.key` keep their `role:` header; a GUN comes from the directory);
 * - the `root_keys` and `tuf_keys` directories are then removed, and so is `private/trusted_certificates`.
 *
 * Only the first PEM block of a file is kept, and its encryption is left as it is (legacy
 * `EC PRIVATE KEY` blocks stay legacy; they are still read). A file without a PEM block is skipped
 * and lost with its directory, as in notary. Unlike notary, a write failure stops the migration
 * before anything is deleted.
 */
import { rm, readFile, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { pemDecode } from '../crypto/index.ts';
import { StorageError } from '../errors/index.ts';
import { KEY_EXTENSION, listKeyFiles, writeFileAtomic } from './client-file-io.ts';
import { encodePemBlock, pemText } from './key-file.ts';

export const ROOT_KEYS_SUBDIR = 'root_keys';
export const NON_ROOT_KEYS_SUBDIR = 'tuf_keys';
export const TRUSTED_CERTS_SUBDIR = 'trusted_certificates';

export interface MigrationReport {
  /** Key ids written to the new layout. */
  readonly migrated: string[];
  /** Legacy files (relative to the private directory) that held no PEM block and were dropped. */
  readonly skipped: string[];
}

/**
 * Migrate `privateDir` in place. Idempotent: with no legacy directories it only removes
 * `trusted_certificates` (if present).
 * @throws StorageError when a migrated key cannot be written (nothing has been deleted then)
 */
export async function migrateLegacyKeyLayout(privateDir: string): Promise<MigrationReport> {
  const migrated: string[] = [];
  const skipped: string[] = [];
  for (const sub of [ROOT_KEYS_SUBDIR, NON_ROOT_KEYS_SUBDIR]) {
    const legacyDir = join(privateDir, sub);
    if (!(await exists(legacyDir))) continue;
    for (const rel of await listKeyFiles(legacyDir)) {
      const moved = await moveKey(privateDir, sub, rel);
      if (moved === null) skipped.push(`${sub}/${rel}${KEY_EXTENSION}`);
      else migrated.push(moved);
    }
    await rm(legacyDir, { recursive: true, force: true });
  }
  await rm(join(privateDir, TRUSTED_CERTS_SUBDIR), { recursive: true, force: true });
  return { migrated, skipped };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    return true; // notary migrates unless the directory is known not to exist
  }
}

/** notary's `moveKeyTo0Dot4Location`; returns the new key id, or null when the file holds no PEM block. */
async function moveKey(privateDir: string, sub: string, rel: string): Promise<string | null> {
  const bytes = await readFile(join(privateDir, sub, rel + KEY_EXTENSION));
  const [block] = pemDecode(pemText(bytes));
  if (block === null) return null;
  const headers: Record<string, string> = { ...block.headers };
  const dir = posix.dirname(rel);
  if (dir !== '.') headers['gun'] = dir;
  let keyId = posix.basename(rel);
  if (keyId.includes('_')) {
    // notary takes the second "_"-separated field as the role and strips "_<role>" from the end
    const role = keyId.split('_')[1] ?? '';
    if (keyId.endsWith('_' + role)) keyId = keyId.slice(0, -(role.length + 1));
    headers['role'] = role;
  }
  try {
    await writeFileAtomic(join(privateDir, keyId + KEY_EXTENSION), encodePemBlock(block.type, headers, block.bytes));
  } catch (err) {
    throw new StorageError(`could not migrate legacy key ${sub}/${rel}${KEY_EXTENSION}`, { cause: err });
  }
  return keyId;
}
