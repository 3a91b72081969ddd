/**
 * Small helpers for command arguments shared by the read and write commands, kept apart from
 * cmd-stage.ts so that a read command (`list`, `lookup`, `verify`) does not load the write
 * path (changelist, signing, key store) just for them.
 *
 * @example
 *   const roles = strings(inv.flags['roles']);        // [] when the flag is absent
 *   const bytes = await readArgFile(inv, 'app.tar');   // relative to the working directory
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Invocation } from './command.ts';
import { goPathError } from './go-errors.ts';

/** A `strings` flag's values (pflag's stringSlice), or none. */
export function strings(v: unknown): string[] {
  return Array.isArray(v) ? (v as string[]) : [];
}

/** Read a file named on the command line (relative to the working directory); Go's error text. */
export async function readArgFile(inv: Invocation, file: string): Promise<Buffer> {
  try {
    return await readFile(resolve(inv.io.cwd, file));
  } catch (err) {
    throw new Error(goPathError('open', file, err), { cause: err });
  }
}
