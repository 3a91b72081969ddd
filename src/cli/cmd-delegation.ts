/**
 * `vouch delegation …`: notary's delegation commands (spec §9.4, §11; cmd/notary/delegations.go).
 * `list` reads the GUN from the server (pull access); `add`, `remove` and `purge` stage changes
 * offline (and publish with `-p`).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { canonicalKeyId, certificatesToTufKey, checkCertificateValidity, parseCertificateChain, pemDecode, pemEncode, type TufKey } from '../crypto/index.ts';
import { delegationRoles } from '../client/cli-support.ts';
import { decodePublicKeyPem } from '../keystore/index.ts';
import { isDelegationName } from '../tuf/index.ts';
import { FatalError, UsageError, errorText, type Invocation } from './command.ts';
import { maybeAutoPublish, strings } from './cmd-stage.ts';
import { isNotExist } from './go-errors.ts';
import { askConfirm } from './io.ts';
import { Session } from './session.ts';
import { jsonLine, parseOutputFormat, prettyPaths, rolesJson, rolesTable } from './tables.ts';
/** notary's ParsePEMPublicKey: a `CERTIFICATE` (checked for validity now) or a `PUBLIC KEY`. */
export function parsePublicKeyPem(pem: Buffer, now: Date): TufKey {
  const [block] = pemDecode(pem.toString('latin1'));
  if (block === null) throw new Error('no valid public key found');
  if (block.type === 'CERTIFICATE') {
    let cert;
    try {
      [cert] = parseCertificateChain(pemEncode('CERTIFICATE', block.bytes));
    } catch (err) {
      throw new Error(`could not parse provided certificate: ${errorText(err)}`, { cause: err });
    }
    if (cert === undefined) throw new Error('could not parse provided certificate');
    try {
      checkCertificateValidity(cert, { now });
    } catch (err) {
      throw new Error(`invalid certificate: ${errorText(err)}`, { cause: err });
    }
    return certificatesToTufKey([cert]);
  }
  return decodePublicKeyPem(pem).key;
}

/** notary's ingestPublicKeys: the key files named after GUN and role. */
async function ingestPublicKeys(inv: Invocation, files: readonly string[]): Promise<TufKey[]> {
  const keys: TufKey[] = [];
  for (const file of files) {
    let pem: Buffer;
    try {
      pem = await readFile(resolve(inv.io.cwd, file));
    } catch (err) {
      if (isNotExist(err)) throw new Error(`file for public key does not exist: ${file}`, { cause: err });
      throw new Error(`unable to read public key from file: ${file}`, { cause: err });
    }
    try {
      keys.push(parsePublicKeyPem(pem, inv.io.now()));
    } catch (err) {
      throw new Error(`unable to parse valid public key certificate from PEM file ${file}: ${errorText(err)}`, { cause: err });
    }
  }
  return keys;
}

/** Go's `%s` of a []string: `[a b]`. */
function goList(items: readonly string[]): string {
  return `[${items.join(' ')}]`;
}

export async function delegationsList(inv: Invocation): Promise<void> {
  if (inv.args.length !== 1) {
    inv.usage();
    throw new UsageError('Please provide a Global Unique Name as an argument to list');
  }
  const gun = inv.args[0] as string;
  const format = parseOutputFormat(inv.flags['output'] as string | undefined);
  const session = await Session.open(inv);
  let rows;
  try {
    const repo = await session.trustedRepo(gun);
    rows = delegationRoles(repo).map((r) => ({ role: r.name, paths: r.paths, keyIds: r.keyIds, threshold: r.threshold }));
  } catch (err) {
    throw new Error(`Error retrieving delegation roles for repository ${gun}: ${errorText(err)}`, { cause: err });
  }
  inv.out(format === 'json' ? jsonLine(rolesJson(rows)) : `\n${rolesTable(rows)}\n`);
}

export async function delegationAdd(inv: Invocation): Promise<void> {
  const given = inv.flags['paths'] as string[] | undefined;
  let allPaths = inv.flags['all-paths'] === true;
  if (inv.args.length < 2 || (inv.args.length < 3 && given === undefined && !allPaths)) {
    inv.usage();
    throw new UsageError(
      'must specify the Global Unique Name and the role of the delegation along with the public key certificate paths and/or a list of paths to add',
    );
  }
  const [gun, role, ...files] = inv.args as [string, string, ...string[]];
  const session = await Session.open(inv);
  const keys = await ingestPublicKeys(inv, files);
  let paths = given;
  if ((paths ?? []).includes('')) allPaths = true;
  if (allPaths) paths = [''];
  const repo = await session.repository(gun, 'offline');
  try {
    await repo.addDelegation(role, keys, paths ?? []);
  } catch (err) {
    throw new Error(`failed to create delegation: ${errorText(err)}`, { cause: err });
  }
  let items = '';
  if (keys.length > 0) items += `with keys ${goList(keys.map(canonicalKeyId))}, `;
  if (paths !== undefined || allPaths) items += `with paths [${prettyPaths(paths ?? []).join('\n')}], `;
  inv.out(`\nAddition of delegation role ${role} ${items}to repository "${gun}" staged for next publish.\n\n`);
  await maybeAutoPublish(inv, session, gun);
}

export async function delegationRemove(inv: Invocation): Promise<void> {
  if (inv.args.length < 2) {
    inv.usage();
    throw new UsageError(
      'must specify the Global Unique Name and the role of the delegation along with optional keyIDs and/or a list of paths to remove',
    );
  }
  const session = await Session.open(inv);
  const [gun, role, ...keyIds] = inv.args as [string, string, ...string[]];
  if (!isDelegationName(role)) throw new Error(`invalid delegation name ${role}`);
  const allPaths = inv.flags['all-paths'] === true;
  const paths = allPaths ? undefined : (inv.flags['paths'] as string[] | undefined);
  const removeAll = inv.args.length === 2 && inv.flags['paths'] === undefined && !allPaths;
  const repo = await session.repository(gun, 'offline');
  try {
    if (removeAll) {
      inv.out('\nAre you sure you want to remove all data for this delegation? (yes/no)\n');
      if (inv.flags['yes'] !== true) {
        if (!(await askConfirm(session.promptInput))) throw new FatalError('Aborting action.');
      } else {
        inv.out('Confirmed `yes` from flag\n');
      }
      await repo.removeDelegationRole(role);
    } else {
      if (allPaths) await repo.clearDelegationPaths(role);
      await repo.removeDelegationKeysAndPaths(role, keyIds, paths ?? []);
    }
  } catch (err) {
    if (err instanceof FatalError) throw err;
    throw new Error(`failed to remove delegation: ${errorText(err)}`, { cause: err });
  }
  if (removeAll) {
    inv.out(`\nForced removal (including all keys and paths) of delegation role ${role} to repository "${gun}" staged for next publish.\n\n`);
  } else {
    let items = '';
    if (keyIds.length > 0) items += `with keys ${goList(keyIds)}, `;
    if (allPaths) items += 'with all paths, ';
    if (paths !== undefined) items += `with paths [${prettyPaths(paths).join('\n')}], `;
    inv.out(`\nRemoval of delegation role ${role} ${items}to repository "${gun}" staged for next publish.\n\n`);
  }
  await maybeAutoPublish(inv, session, gun);
}

export async function delegationPurgeKeys(inv: Invocation): Promise<void> {
  if (inv.args.length !== 1) {
    inv.usage();
    throw new UsageError('Please provide a single Global Unique Name as an argument to remove');
  }
  const keyIds = strings(inv.flags['key']);
  if (keyIds.length === 0) {
    inv.usage();
    throw new UsageError('Please provide at least one key ID to be removed using the --key flag');
  }
  const gun = inv.args[0] as string;
  const session = await Session.open(inv);
  const repo = await session.repository(gun, 'offline');
  try {
    await repo.removeDelegationKeys('targets/*', keyIds);
  } catch (err) {
    throw new Error(`failed to remove keys from delegations: ${errorText(err)}`, { cause: err });
  }
  inv.out(`Removal of the following keys from all delegations in ${gun} staged for next publish:\n\t- ${keyIds.join('\n\t- ')}\n`);
  await maybeAutoPublish(inv, session, gun);
}
