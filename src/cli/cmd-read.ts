/**
 * The notary commands that read a GUN from the server (spec §10, §11): `list`, `lookup`,
 * `verify`. Each runs the update workflow (src/client's Updater: cached root, timestamp,
 * snapshot, targets and delegations) with pull access, then walks the targets as notary does.
 * A first contact with the GUN is reported on standard error (see session.ts).
 */
import { timingSafeEqual } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { sha256, sha512, toHex } from '../canonical/index.ts';
import { getTargetByName, listTargets } from '../client/walk.ts';
import { UsageError, errorText, type Invocation } from './command.ts';
import { readArgFile, strings } from './args.ts';
import { goPathError } from './go-errors.ts';
import { readAll } from './io.ts';
import { Session } from './session.ts';
import { jsonLine, parseOutputFormat, targetsJson, targetsTable } from './tables.ts';

export async function tufList(inv: Invocation): Promise<void> {
  const [gun] = inv.args;
  if (gun === undefined) {
    inv.usage();
    throw new UsageError('Must specify a GUN');
  }
  const format = parseOutputFormat(inv.flags['output'] as string | undefined);
  const session = await Session.open(inv);
  // the table is made and printed while the cache is written
  const { repo, saved } = await session.trustedRepoThenSave(gun);
  const rows = listTargets(repo, strings(inv.flags['roles'])).map((t) => ({
    name: t.name,
    digest: toHex(t.hashes.get('sha256') ?? new Uint8Array(0)),
    size: t.length,
    role: t.role,
  }));
  inv.out(format === 'json' ? jsonLine(targetsJson(rows)) : targetsTable(rows));
  await saved;
}

export async function tufLookup(inv: Invocation): Promise<void> {
  if (inv.args.length < 2) {
    inv.usage();
    throw new UsageError('Must specify a GUN and target');
  }
  const [gun, name] = inv.args as [string, string];
  const session = await Session.open(inv);
  const repo = await session.trustedRepo(gun);
  const t = getTargetByName(repo, name);
  inv.out(`${t.name} sha256:${toHex(t.hashes.get('sha256') ?? new Uint8Array(0))} ${t.length}\n`);
}

function sameDigest(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** notary's data.CheckHashes (sha256 checked before sha512; Go's order is random). */
export function checkHashes(payload: Uint8Array, name: string, hashes: ReadonlyMap<string, Uint8Array>): void {
  let checked = 0;
  for (const [alg, digest] of [...hashes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const actual = alg === 'sha256' ? sha256(payload) : alg === 'sha512' ? sha512(payload) : undefined;
    if (actual === undefined) continue;
    if (!sameDigest(actual, digest)) throw new Error(`${alg} checksum for ${name} did not match: expected ${toHex(digest)}`);
    checked++;
  }
  if (checked === 0) throw new Error(`no checksums for supported algorithms were provided for ${name}`);
}

export async function tufVerify(inv: Invocation): Promise<void> {
  if (inv.args.length < 2) {
    inv.usage();
    throw new UsageError('Must specify a GUN and target');
  }
  const session = await Session.open(inv);
  const input = inv.flags['input'] as string | undefined;
  let payload: Uint8Array;
  if (input !== undefined && input !== '') payload = new Uint8Array(await readArgFile(inv, input));
  else {
    try {
      payload = new Uint8Array(await readAll(inv.io.stdin));
    } catch (err) {
      throw new Error(`Error reading content from STDIN: ${errorText(err)}`, { cause: err });
    }
  }
  const [gun, name] = inv.args as [string, string];
  const repo = await session.trustedRepo(gun);
  let hashes: ReadonlyMap<string, Uint8Array>;
  try {
    hashes = getTargetByName(repo, name).hashes;
  } catch (err) {
    throw new Error(`error retrieving target by name:${name}, error:${errorText(err)}`, { cause: err });
  }
  try {
    checkHashes(payload, name, hashes);
  } catch (err) {
    throw new Error(`data not present in the trusted collection, ${errorText(err)}`, { cause: err });
  }
  if (inv.flags['quiet'] === true) return;
  const output = inv.flags['output'] as string | undefined;
  if (output !== undefined && output !== '') {
    try {
      await writeFile(resolve(inv.io.cwd, output), payload, { mode: 0o600 });
    } catch (err) {
      throw new Error(goPathError('open', output, err), { cause: err });
    }
    return;
  }
  inv.io.stdout.write(payload);
}
