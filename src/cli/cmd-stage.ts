/**
 * The notary commands that stage, inspect or publish changes of one GUN (spec §11): `init`,
 * `add`, `addhash`, `remove`, `publish`, `status`, `reset`, `witness`, `delete`. Texts, argument
 * checks and the order of output are notary's (cmd/notary/tuf.go); the work is done by
 * src/client's `Repository`.
 *
 * Offline unless notary goes online: `init` and `publish` (and `-p`) ping the server for
 * push+pull, `delete --remote` for `*`; staging commands never touch the network.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { sha256, sha512 } from '../canonical/index.ts';
import { decryptKeyFile } from '../keystore/index.ts';
import { pemDecode, type PrivateKey } from '../crypto/index.ts';
import { readArgFile, strings } from './args.ts';
import { UsageError, errorText, type Invocation } from './command.ts';
import { goPathError } from './go-errors.ts';
import { goJsonSyntaxError } from './go-json-check.ts';
import { decodeGoHex, parseGoInt64 } from './go-parse.ts';
import { Session } from './session.ts';
import { changesJson, changesTable, jsonLine, parseOutputFormat } from './tables.ts';


export { readArgFile, strings };

async function publishAndPrint(inv: Invocation, session: Session, gun: string): Promise<void> {
  const repo = await session.repository(gun, 'readWrite');
  await repo.publish();
  inv.out(`Successfully published changes for repository ${gun}\n`);
}

/** notary's maybeAutoPublish (`-p`). */
export async function maybeAutoPublish(inv: Invocation, session: Session, gun: string): Promise<void> {
  if (inv.flags['publish'] !== true) return;
  const repo = await session.repository(gun, 'readWrite');
  inv.out(`Auto-publishing changes to ${gun}\n`);
  await repo.publish();
  inv.out(`Successfully published changes for repository ${gun}\n`);
}

/** notary's readKey: a key file given on the command line; root keys must be encrypted. */
export async function readKeyArg(inv: Invocation, session: Session, role: string, file: string): Promise<PrivateKey> {
  let bytes: Buffer;
  try {
    bytes = await readFile(resolve(inv.io.cwd, file));
  } catch (err) {
    throw new Error(`Error reading input root key file: ${goPathError('open', file, err)}`, { cause: err });
  }
  const [block] = pemDecode(bytes.toString('latin1'));
  const encrypted = block !== null && (block.type === 'ENCRYPTED PRIVATE KEY' || Object.hasOwn(block.headers, 'DEK-Info'));
  if (block === null && role === 'root') throw new Error('no valid private key found');
  if (!encrypted && role === 'root') throw new Error('only encrypted root keys may be imported');
  // notary asks for the passphrase of any encrypted key file under the alias "root"
  const decoded = await decryptKeyFile(bytes, { keyName: '', alias: 'root', retriever: session.retriever() });
  return decoded.key;
}

export async function tufInit(inv: Invocation): Promise<void> {
  const [gun] = inv.args;
  if (gun === undefined) {
    inv.usage();
    throw new UsageError('Must specify a GUN');
  }
  const session = await Session.open(inv);
  const repo = await session.repository(gun, 'readWrite');
  const keys = await session.keyStore();
  const rootKeyFile = inv.flags['rootkey'] as string | undefined;
  const rootCertFile = inv.flags['rootcert'] as string | undefined;
  let ids: string[];
  if (rootKeyFile !== undefined && rootKeyFile !== '') {
    const key = await readKeyArg(inv, session, 'root', rootKeyFile);
    try {
      ids = [await keys.add(key, { role: 'root' })];
    } catch (err) {
      throw new Error(`Error importing key: ${errorText(err)}`, { cause: err });
    }
  } else {
    ids = (await keys.list()).filter((k) => k.role === 'root').map((k) => k.keyId);
  }
  if (ids.length > 0) {
    inv.out(`Root key found, using: ${ids[0]}\n`);
    ids = [ids[0] as string];
  }
  let rootCertPem: string | undefined;
  if (rootCertFile !== undefined && rootCertFile !== '') {
    let pem: Buffer;
    try {
      pem = await readFile(resolve(inv.io.cwd, rootCertFile));
    } catch (err) {
      throw new Error(`error reading certificate file: ${goPathError('open', rootCertFile, err)}`, { cause: err });
    }
    const [block] = pemDecode(pem.toString('latin1'));
    if (block === null) throw new Error('the provided file does not contain a valid PEM certificate <nil>');
    rootCertPem = pem.toString('latin1');
    if (rootKeyFile === undefined || rootKeyFile === '') ids = [];
  }
  await repo.initialize({ rootKeyIds: ids, ...(rootCertPem === undefined ? {} : { rootCertPem }) });
  await maybeAutoPublish(inv, session, gun);
}

async function customJson(inv: Invocation): Promise<Uint8Array | undefined> {
  const file = inv.flags['custom'] as string | undefined;
  if (file === undefined || file === '') return undefined;
  return new Uint8Array(await readArgFile(inv, file));
}

/** notary fails when it marshals the staged target: Go's text for custom data that is not JSON. */
function checkCustom(custom: Uint8Array | undefined): void {
  if (custom === undefined) return;
  const err = goJsonSyntaxError(custom);
  if (err !== null) throw new Error(`json: error calling MarshalJSON for type *json.RawMessage: ${err}`);
}

export async function tufAdd(inv: Invocation): Promise<void> {
  if (inv.args.length < 3) {
    inv.usage();
    throw new UsageError('Must specify a GUN, target, and path to target data');
  }
  const [gun, name, file] = inv.args as [string, string, string];
  const session = await Session.open(inv);
  const custom = await customJson(inv);
  const repo = await session.repository(gun, 'offline');
  const content = new Uint8Array(await readArgFile(inv, file));
  const hashes = new Map([
    ['sha256', sha256(content)],
    ['sha512', sha512(content)],
  ]);
  checkCustom(custom);
  await repo.addTarget({ name, length: content.length, hashes, ...(custom === undefined ? {} : { customJson: custom }) }, strings(inv.flags['roles']));
  inv.out(`Addition of target "${name}" to repository "${gun}" staged for next publish.\n`);
  await maybeAutoPublish(inv, session, gun);
}

function hashFlag(inv: Invocation, alg: 'sha256' | 'sha512', hexSize: number): Uint8Array | undefined {
  const v = inv.flags[alg] as string | undefined;
  if (v === undefined || v === '') return undefined;
  if (v.length !== hexSize) throw new Error(`invalid ${alg} hex contents provided`);
  return decodeGoHex(v);
}

export async function tufAddHash(inv: Invocation): Promise<void> {
  const has = (f: string): boolean => typeof inv.flags[f] === 'string' && inv.flags[f] !== '';
  if (inv.args.length < 3 || (!has('sha256') && !has('sha512'))) {
    inv.usage();
    throw new UsageError('Must specify a GUN, target, byte size of target data, and at least one hash');
  }
  const [gun, name, size] = inv.args as [string, string, string];
  const session = await Session.open(inv);
  const custom = await customJson(inv);
  const length = parseGoInt64(size);
  const repo = await session.repository(gun, 'offline');
  const hashes = new Map<string, Uint8Array>();
  const h256 = hashFlag(inv, 'sha256', 64);
  const h512 = hashFlag(inv, 'sha512', 128);
  if (h256 !== undefined) hashes.set('sha256', h256);
  if (h512 !== undefined) hashes.set('sha512', h512);
  checkCustom(custom);
  await repo.addTarget({ name, length, hashes, ...(custom === undefined ? {} : { customJson: custom }) }, strings(inv.flags['roles']));
  inv.out(`Addition of target "${name}" by ${[...hashes.keys()].join(', ')} hash to repository "${gun}" staged for next publish.\n`);
  await maybeAutoPublish(inv, session, gun);
}

export async function tufRemove(inv: Invocation): Promise<void> {
  if (inv.args.length < 2) throw new Error('Must specify a GUN and target');
  const [gun, name] = inv.args as [string, string];
  const session = await Session.open(inv);
  const repo = await session.repository(gun, 'offline');
  await repo.removeTarget(name, strings(inv.flags['roles']));
  inv.out(`Removal of ${name} from ${gun} staged for next publish.\n`);
  await maybeAutoPublish(inv, session, gun);
}

export async function tufPublish(inv: Invocation): Promise<void> {
  const [gun] = inv.args;
  if (gun === undefined) {
    inv.usage();
    throw new UsageError('Must specify a GUN');
  }
  const session = await Session.open(inv);
  inv.out(`Pushing changes to ${gun}\n`);
  await publishAndPrint(inv, session, gun);
}

export async function tufStatus(inv: Invocation): Promise<void> {
  const [gun] = inv.args;
  if (gun === undefined) {
    inv.usage();
    throw new UsageError('Must specify a GUN');
  }
  const format = parseOutputFormat(inv.flags['output'] as string | undefined);
  const session = await Session.open(inv);
  const repo = await session.repository(gun, 'offline');
  const changes = await repo.changelist.list();
  const rows = changes.map((c) => ({ action: c.action, scope: c.scope, type: c.type, path: c.path }));
  inv.out(format === 'json' ? jsonLine(changesJson(rows)) : changesTable(gun, rows));
}

export async function tufReset(inv: Invocation): Promise<void> {
  const [gun] = inv.args;
  if (gun === undefined) {
    inv.usage();
    throw new UsageError('Must specify a GUN');
  }
  const all = inv.flags['all'] === true;
  const numbers = (inv.flags['number'] as number[] | undefined) ?? [];
  if (!all && numbers.length === 0) {
    inv.usage();
    throw new UsageError('Must specify changes to reset with -n or the --all flag');
  }
  const session = await Session.open(inv);
  const repo = await session.repository(gun, 'offline');
  if (all) await repo.changelist.clear();
  else await repo.changelist.remove(numbers);
  inv.out(`Successfully reset specified changes for repository ${gun}\n`);
}

export async function tufWitness(inv: Invocation): Promise<void> {
  if (inv.args.length < 2) {
    inv.usage();
    throw new UsageError('Please provide a GUN and at least one role to witness');
  }
  const [gun, ...roles] = inv.args as [string, ...string[]];
  const session = await Session.open(inv);
  const repo = await session.repository(gun, 'offline');
  let done: string[] = [];
  try {
    done = await repo.witness(roles);
  } catch (err) {
    inv.out(`Some roles have failed to be marked for witnessing: ${errorText(err)}`);
  }
  inv.out(`The following roles were successfully marked for witnessing on the next publish:\n\t- ${done.join('\n\t- ')}\n`);
  await maybeAutoPublish(inv, session, gun);
}

export async function tufDelete(inv: Invocation): Promise<void> {
  const [gun] = inv.args;
  if (gun === undefined) {
    inv.usage();
    throw new UsageError('Must specify a GUN');
  }
  const session = await Session.open(inv);
  const remote = inv.flags['remote'] === true;
  const repo = await session.repository(gun, remote ? 'admin' : 'offline');
  inv.out(`Deleting trust data for repository ${gun}\n`);
  await repo.deleteLocal();
  if (remote) await repo.deleteRemote();
  inv.out(`Successfully deleted local${remote ? ' and remote' : ''} trust data for repository ${gun}\n`);
}
