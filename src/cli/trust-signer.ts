/**
 * `vouch trust signer add --key PUB NAME REPO…` and `vouch trust signer remove [-f] NAME REPO…`
 * (spec §12.2), with docker's words, on the docker trust dir.
 *
 * - add: a repository the server does not know is initialised first (root key: the first held,
 *   else a new one; snapshot managed by the server), then `targets/NAME` and `targets/releases`
 *   get the keys with paths `[""]`, published at once;
 * - remove: NAME's keys leave `targets/releases` and `targets/NAME` is deleted, published at once.
 *   When NAME's signatures are the last ones holding `targets/releases` to its threshold, docker
 *   asks `… Are you sure you want to continue? [y/N] ` first; `-f` skips the question. (docker
 *   28.2.2 removes nothing unless that question was asked and answered `y`, spec §13.18; vouch
 *   does what the command is for.)
 *
 * Errors of one repository are printed on standard error (with a blank line) and the command
 * goes on with the next; it then fails with `failed to add signer to: R1, R2`.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { canonicalKeyId, type TufKey } from '../crypto/index.ts';
import { delegationRoles } from '../client/cli-support.ts';
import { RepositoryNotExistError } from '../client/updater-errors.ts';
import type { Repository, TrustedRepo } from '../client/index.ts';
import { parsePublicKeyPem } from './cmd-delegation.ts';
import { goPathError } from './go-errors.ts';
import { readLine } from './io.ts';
import { parseImageRef } from './trust-ref.ts';
import { notaryError, messageOf, type TrustRemote } from './trust-session.ts';
import { RELEASES_ROLE } from './trust-inspect.ts';
import { KEY_NAME } from './trust-key.ts';
import type { TrustCommandSpec, TrustGroupSpec, TrustInvocation } from './trust-cli.ts';

/** docker's prompt.Confirm: the question, ` [y/N] `, then one line; only `y`/`Y` is yes. */
export async function confirm(inv: TrustInvocation, question: string): Promise<boolean> {
  inv.out(`${question} [y/N] `);
  let line: string | null;
  try {
    line = await readLine(inv.io.stdin);
  } catch {
    return false;
  }
  return line !== null && line.trim().toLowerCase() === 'y';
}

/** Go's %q for the names docker quotes (plain ASCII here). */
function quoted(s: string): string {
  return JSON.stringify(s);
}

/**
 * The repository as the server has it, or null when the server has no trust data for it (it was
 * then initialised locally: root key, targets key, server-managed snapshot), docker's
 * `getOrGenerateRootKeyAndInitRepo` after a failed `ListTargets`.
 * @throws notaryError-worded errors
 */
export async function trustedOrInitialized(inv: TrustInvocation, conn: TrustRemote, repo: Repository, repoName: string, before?: () => void): Promise<TrustedRepo | null> {
  try {
    return await inv.session.trusted(conn);
  } catch (err) {
    if (!(err instanceof RepositoryNotExistError)) throw notaryError(repoName, err);
  }
  before?.();
  try {
    await repo.initialize({ serverManagedRoles: ['snapshot'] });
  } catch (err) {
    throw notaryError(repoName, err);
  }
  return null;
}

/** docker's addStagedSigner: the signer's delegation and `targets/releases`, paths `[""]`. */
export async function stageSigner(repo: Repository, signer: string, keys: readonly TufKey[]): Promise<void> {
  try {
    for (const role of [`targets/${signer}`, RELEASES_ROLE]) {
      await repo.addDelegationRoleAndKeys(role, keys);
      await repo.addDelegationPaths(role, ['']);
    }
  } catch (err) {
    throw new Error(`could not add signer to repo: ${signer}: ${messageOf(err)}`, { cause: err });
  }
}

async function ingestPublicKeys(inv: TrustInvocation, files: readonly string[]): Promise<TufKey[]> {
  const keys: TufKey[] = [];
  for (const file of files) {
    let pem: Buffer;
    try {
      pem = await readFile(resolve(inv.io.cwd, file));
    } catch (err) {
      throw new Error(`unable to read public key from file: ${goPathError('open', file, err)}`, { cause: err });
    }
    try {
      keys.push(parsePublicKeyPem(pem.subarray(0, 1 << 20), inv.io.now()));
    } catch (err) {
      throw new Error(`could not parse public key from file: ${file}: ${messageOf(err)}`, { cause: err });
    }
  }
  return keys;
}

async function addSignerToRepo(inv: TrustInvocation, signer: string, repoName: string, keys: readonly TufKey[]): Promise<void> {
  const ref = parseImageRef(repoName);
  let conn;
  try {
    conn = await inv.session.connect(ref, 'readWrite');
  } catch (err) {
    throw notaryError(ref.gun, err);
  }
  const repo = await inv.session.repository(conn);
  const trusted = await trustedOrInitialized(inv, conn, repo, repoName, () => inv.out(`Initializing signed repository for ${repoName}...\n`));
  if (trusted === null) inv.out(`Successfully initialized ${quoted(repoName)}\n`);
  await stageSigner(repo, signer, keys);
  await repo.publish();
}

async function signerAdd(inv: TrustInvocation): Promise<void> {
  const [signer, ...repos] = inv.args as [string, ...string[]];
  if (!KEY_NAME.test(signer)) {
    throw new Error(`signer name "${signer}" must start with lowercase alphanumeric characters and can include "-" or "_" after the first character`);
  }
  if (signer === 'releases') throw new Error('releases is a reserved keyword, use a different signer name');
  const files = (inv.flags['key'] as readonly string[] | undefined) ?? [];
  if (files.length === 0) throw new Error('path to a public key must be provided using the `--key` flag');
  const keys = await ingestPublicKeys(inv, files);
  const failed: string[] = [];
  for (const repoName of repos) {
    inv.out(`Adding signer "${signer}" to ${repoName}...\n`);
    try {
      await addSignerToRepo(inv, signer, repoName, keys);
      inv.out(`Successfully added signer: ${signer} to ${repoName}\n\n`);
    } catch (err) {
      inv.err(`${messageOf(err)}\n\n`);
      failed.push(repoName);
    }
  }
  if (failed.length > 0) throw new Error(`failed to add signer to: ${failed.join(', ')}`);
}

/**
 * docker's isLastSignerForReleases: would `targets/releases` fall below its threshold without
 * the signatures of `keyIds`? (Signatures are matched by TUF and canonical ID alike.)
 * @throws Error when `targets/releases` carries no signature at all
 */
export function isLastReleasesSigner(trusted: TrustedRepo, keyIds: ReadonlySet<string>): boolean {
  const releases = trusted.targets.get(RELEASES_ROLE);
  const sigs = releases?.envelope.signatures ?? [];
  if (sigs.length === 0) throw new Error('all signed tags are currently revoked, use docker trust sign to fix');
  const spec = trusted.targets.get('targets')?.signed.delegations.roles.find((r) => r.name === RELEASES_ROLE);
  const threshold = spec?.threshold ?? 1;
  const remaining = sigs.filter((s) => !keyIds.has(s.keyid)).length;
  return remaining < threshold;
}

/** The TUF and canonical IDs of a delegation's keys, as listed by its parent. */
function roleKeyIds(trusted: TrustedRepo, role: string): Set<string> {
  const ids = new Set<string>();
  for (const meta of trusted.targets.values()) {
    const spec = meta.signed.delegations.roles.find((r) => r.name === role);
    if (spec === undefined) continue;
    for (const id of spec.keyids ?? []) {
      ids.add(id);
      const key = meta.signed.delegations.keys.get(id);
      if (key !== undefined) {
        try {
          ids.add(canonicalKeyId(key));
        } catch {
          // an unparsable certificate key keeps only its TUF ID
        }
      }
    }
  }
  return ids;
}

/** One repository; false when the user declined. */
async function removeSingleSigner(inv: TrustInvocation, repoName: string, signer: string, force: boolean): Promise<boolean> {
  const ref = parseImageRef(repoName);
  const role = `targets/${signer}`;
  if (role === RELEASES_ROLE) throw new Error('releases is a reserved keyword and cannot be removed');
  let conn;
  try {
    conn = await inv.session.connect(ref, 'readWrite');
  } catch (err) {
    throw notaryError(ref.gun, err);
  }
  let trusted: TrustedRepo;
  let roles;
  try {
    trusted = await inv.session.trusted(conn);
    roles = delegationRoles(trusted);
  } catch (err) {
    throw new Error(`error retrieving signers for ${repoName}: ${messageOf(err)}`, { cause: err });
  }
  const found = roles.find((r) => r.name === role);
  if (found === undefined) throw new Error(`no signer ${signer} for repository ${repoName}`);
  const last = isLastReleasesSigner(trusted, roleKeyIds(trusted, role));
  if (last && !force) {
    const ok = await confirm(
      inv,
      `The signer "${signer}" signed the last released version of ${repoName}. Removing this signer will make ${repoName} unpullable. Are you sure you want to continue?`,
    );
    if (!ok) return false;
  }
  const repo = await inv.session.repository(conn);
  if (found.keyIds.length > 0) await repo.removeDelegationKeys(RELEASES_ROLE, found.keyIds);
  await repo.removeDelegationRole(role);
  await repo.publish();
  inv.out(`Successfully removed ${signer} from ${repoName}\n\n`);
  return true;
}

async function signerRemove(inv: TrustInvocation): Promise<void> {
  const [signer, ...repos] = inv.args as [string, ...string[]];
  const force = inv.flags['force'] === true;
  const failed: string[] = [];
  for (const repoName of repos) {
    inv.out(`Removing signer "${signer}" from ${repoName}...\n`);
    try {
      await removeSingleSigner(inv, repoName, signer, force);
    } catch (err) {
      inv.err(`${messageOf(err)}\n\n`);
      failed.push(repoName);
    }
  }
  if (failed.length > 0) throw new Error(`error removing signer from: ${failed.join(', ')}`);
}

export const TRUST_SIGNER_GROUP: TrustGroupSpec = {
  name: 'signer',
  short: 'Manage entities who can sign Docker images',
  commands: [
    {
      use: 'add OPTIONS NAME REPOSITORY [REPOSITORY...] ',
      short: 'Add a signer',
      args: [2, undefined],
      flags: [{ name: 'key', kind: 'stringArray', help: "Path to the signer's public key file" }],
      run: signerAdd,
    },
    {
      use: 'remove [OPTIONS] NAME REPOSITORY [REPOSITORY...]',
      short: 'Remove a signer',
      args: [2, undefined],
      flags: [{ name: 'force', short: 'f', kind: 'bool', help: 'Do not prompt for confirmation before removing the most recent signer' }],
      run: signerRemove,
    },
  ] satisfies TrustCommandSpec[],
};
