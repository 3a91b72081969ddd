/**
 * `vouch trust key generate NAME [--dir D]` and `vouch trust key load FILE [--name N]`
 * (spec §12.2), with docker's words. Keys land in the docker trust dir as docker writes them:
 * `private/<canonical id>.key`, encrypted with the repository passphrase, `role: NAME`, no GUN;
 * the public half goes to `D/NAME.pub` (mode 0600) as a `PUBLIC KEY` PEM with a `role:` header,
 * which `docker trust signer add` and `notary delegation add` both accept.
 */
import { stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { generatePrivateKey } from '../crypto/index.ts';
import { encodePublicKeyPem, loadKeyFile } from '../keystore/index.ts';
import { goPathError } from './go-errors.ts';
import type { TrustCommandSpec, TrustGroupSpec, TrustInvocation } from './trust-cli.ts';

/** docker's rule for key and signer names. */
export const KEY_NAME = /^[a-z0-9][a-z0-9_-]*$/;

export function badKeyName(name: string): Error {
  return new Error(`key name "${name}" must start with lowercase alphanumeric characters and can include "-" or "_" after the first character`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function keyGenerate(inv: TrustInvocation): Promise<void> {
  const name = inv.args[0] as string;
  const given = inv.flags['dir'];
  const dir = typeof given === 'string' && given !== '' ? given : inv.io.cwd;
  if (!KEY_NAME.test(name)) throw badKeyName(name);
  const absDir = resolve(inv.io.cwd, dir);
  if (!(await exists(absDir))) throw new Error(`public key path does not exist: "${dir}"`);
  const pubPath = join(dir, `${name}.pub`);
  if (await exists(resolve(inv.io.cwd, pubPath))) throw new Error(`public key file already exists: "${pubPath}"`);
  inv.out(`Generating key for ${name}...\n`);
  const key = generatePrivateKey('ecdsa');
  try {
    const store = await inv.session.keyStore();
    await store.add(key, { role: name });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    inv.out(msg);
    throw new Error(`failed to generate key for ${name}: ${msg}`, { cause: err });
  }
  try {
    await writeFile(resolve(inv.io.cwd, pubPath), encodePublicKeyPem(key.publicKey, name), { mode: 0o600 });
  } catch (err) {
    throw new Error(`failed to write public key to ${pubPath}: ${goPathError('open', pubPath, err)}`, { cause: err });
  }
  inv.out(`Successfully generated and loaded private key. Corresponding public key available: ${pubPath}\n`);
}

async function keyLoad(inv: TrustInvocation): Promise<void> {
  const file = inv.args[0] as string;
  const flag = inv.flags['name'];
  const name = typeof flag === 'string' ? flag : 'signer';
  if (name !== '' && !KEY_NAME.test(name)) throw badKeyName(name);
  const store = await inv.session.keyStore();
  inv.out(`Loading key from "${file}"...\n`);
  const path = isAbsolute(file) || inv.io.cwd === process.cwd() ? file : resolve(inv.io.cwd, file);
  try {
    await stat(path);
  } catch (err) {
    throw new Error(`refusing to load key from ${file}: ${goPathError('stat', file, err)}`, { cause: err });
  }
  await loadKeyFile(store, path, { name, retriever: store.retriever });
  inv.out(`Successfully imported key from ${file}\n`);
}

export const TRUST_KEY_GROUP: TrustGroupSpec = {
  name: 'key',
  short: 'Manage keys for signing Docker images',
  commands: [
    {
      use: 'generate NAME',
      short: 'Generate and load a signing key-pair',
      args: [1, 1],
      flags: [{ name: 'dir', kind: 'string', help: 'Directory to generate key in, defaults to current directory' }],
      run: keyGenerate,
    },
    {
      use: 'load [OPTIONS] KEYFILE',
      short: 'Load a private key file for signing',
      args: [1, 1],
      flags: [{ name: 'name', kind: 'string', help: 'Name for the loaded key', default: 'signer' }],
      run: keyLoad,
    },
  ] satisfies TrustCommandSpec[],
};
