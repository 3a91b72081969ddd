/**
 * `vouch key …`: notary's key commands (spec §9.1–9.3, §11; cmd/notary/keys.go) over the trust
 * dir's `private/` key files, which notary and the docker CLI read and write too.
 *
 * `list`, `generate`, `remove`, `passwd`, `import`, `export` work on the key store only;
 * `rotate` is online (admin access) and publishes at once.
 */
import { open, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { generatePrivateKey, type PrivateKey } from '../crypto/index.ts';
import { encodePrivateKeyPem, encodePublicKeyPem, exportKeys, importKeys } from '../keystore/index.ts';
import { UsageError, errorText, type Invocation } from './command.ts';
import { readArgFile, readKeyArg, strings } from './cmd-stage.ts';
import { goPathError } from './go-errors.ts';
import { askConfirm } from './io.ts';
import { Session } from './session.ts';
import { jsonLine, keysJson, keysTable, parseOutputFormat } from './tables.ts';

const KEY_ID_HEX = 64;

export async function keysList(inv: Invocation): Promise<void> {
  if (inv.args.length > 0) {
    inv.usage();
    throw new UsageError('');
  }
  const format = parseOutputFormat(inv.flags['output'] as string | undefined);
  const session = await Session.open(inv);
  const store = await session.keyStore();
  const rows = (await store.list()).map((k) => ({ role: k.role, gun: k.gun, keyId: k.keyId, location: session.keyStoreName }));
  inv.out(format === 'json' ? jsonLine(keysJson(rows)) : `\n${keysTable(rows)}\n`);
}

export async function keysGenerate(inv: Invocation): Promise<void> {
  if (inv.args.length > 1) {
    inv.usage();
    throw new UsageError('Please provide only one Algorithm as an argument to generate (rsa, ecdsa)');
  }
  const algorithm = (inv.args[0] ?? 'ecdsa').toLowerCase();
  if (algorithm !== 'ecdsa') throw new Error('Algorithm not allowed, possible values are: ECDSA');
  const session = await Session.open(inv);
  const role = (inv.flags['role'] as string | undefined) ?? 'root';
  const outFile = inv.flags['output'] as string | undefined;
  const key = generatePrivateKey('ecdsa');
  if (outFile === undefined || outFile === '') {
    const store = await session.keyStore();
    let id: string;
    try {
      id = await store.add(key, { role, gun: '' });
    } catch (err) {
      throw new Error(`Failed to create a new ${role} key: ${errorText(err)}`, { cause: err });
    }
    inv.out(`Generated new ecdsa ${role} key with keyID: ${id}\n`);
    return;
  }
  await generateKeyToFile(session, key, role, resolve(inv.io.cwd, outFile));
}

/** `key generate -o OUT`: `OUT-key.pem` (encrypted) and `OUT.pem` (public), not in the key store. */
async function generateKeyToFile(session: Session, key: PrivateKey, role: string, out: string): Promise<void> {
  const retriever = session.retriever();
  const passphrase = await retriever({ keyName: '', alias: '', createNew: true, attempt: 0 });
  if (passphrase === '') throw new Error('no password provided');
  const privFile = `${out}-key.pem`;
  const pubFile = `${out}.pem`;
  try {
    await writeFile(privFile, encodePrivateKeyPem(key, { role, passphrase }), { mode: 0o600 });
    await writeFile(pubFile, encodePublicKeyPem(key.publicKey, role), { mode: 0o600 });
  } catch (err) {
    throw new Error(goPathError('open', (err as { path?: string }).path ?? out, err), { cause: err });
  }
}

export async function keyRemove(inv: Invocation): Promise<void> {
  const [keyId] = inv.args;
  if (keyId === undefined) {
    inv.usage();
    throw new UsageError('must specify the key ID of the key to remove');
  }
  const session = await Session.open(inv);
  const store = await session.keyStore();
  if (keyId.length !== KEY_ID_HEX) throw new Error(`invalid key ID provided: ${keyId}`);
  inv.out('\n');
  try {
    const found = (await store.list()).filter((k) => k.keyId === keyId);
    const key = found[0];
    if (key === undefined) throw new Error(`No key with ID ${keyId} found`);
    const description = `${keyId} (role ${key.role}) from ${session.keyStoreName}`;
    inv.out(`Are you sure you want to remove ${description}?  (yes/no)  `);
    if (!(await askConfirm(session.promptInput))) {
      inv.out('\nAborting action.\n');
      return;
    }
    await store.remove(keyId);
    inv.out(`\nDeleted ${description}.\n`);
  } finally {
    inv.out('\n');
  }
}

export async function keyPassphraseChange(inv: Invocation): Promise<void> {
  const [keyId] = inv.args;
  if (keyId === undefined) {
    inv.usage();
    throw new UsageError('must specify the key ID of the key to change the passphrase of');
  }
  const session = await Session.open(inv);
  const store = await session.keyStore();
  if (keyId.length !== KEY_ID_HEX) throw new Error(`invalid key ID provided: ${keyId}`);
  try {
    await store.get(keyId);
  } catch (err) {
    throw new Error(`could not retrieve local key for key ID provided: ${keyId}`, { cause: err });
  }
  // a fresh retriever: a prompting one would offer the unlocking passphrase again
  await store.changePassphrase(keyId, session.retriever());
  inv.out(`\nSuccessfully updated passphrase for key ID: ${keyId}\n`);
}

export async function keysImport(inv: Invocation): Promise<void> {
  if (inv.args.length < 1) {
    inv.usage();
    throw new UsageError('must specify at least one input file to import keys from');
  }
  const session = await Session.open(inv);
  const store = await session.keyStore();
  const role = inv.flags['role'] as string | undefined;
  const gun = inv.flags['gun'] as string | undefined;
  for (const file of inv.args) {
    const data = await readArgFile(inv, file);
    await importKeys(store, new Uint8Array(data), { ...(role === undefined ? {} : { role }), ...(gun === undefined ? {} : { gun }) });
  }
}

export async function keysExport(inv: Invocation): Promise<void> {
  if (inv.args.length > 0) {
    inv.usage();
    throw new UsageError('export does not take any positional arguments');
  }
  const session = await Session.open(inv);
  const store = await session.keyStore();
  const guns = strings(inv.flags['gun']);
  const keyIds = strings(inv.flags['key']);
  const outFile = inv.flags['output'] as string | undefined;
  let out: (text: string) => Promise<void> = async (text) => {
    inv.io.stdout.write(Buffer.from(text, 'latin1'));
  };
  let close = async (): Promise<void> => {};
  if (outFile !== undefined && outFile !== '') {
    let handle;
    try {
      handle = await open(resolve(inv.io.cwd, outFile), 'w', 0o600);
    } catch (err) {
      throw new Error(goPathError('open', outFile, err), { cause: err });
    }
    const h = handle;
    out = async (text) => {
      await h.writeFile(text, 'latin1');
    };
    close = () => h.close();
  }
  try {
    if (guns.length > 0 && keyIds.length > 0) throw new Error('Only the --gun or --key flag may be provided, not a mix of the two flags');
    await out(await exportKeys(store, { guns, keyIds }));
  } finally {
    await close();
  }
}

export async function keysRotate(inv: Invocation): Promise<void> {
  if (inv.args.length < 2) {
    inv.usage();
    throw new UsageError('Must specify a GUN and a key role to rotate');
  }
  const [gun, role] = inv.args as [string, string];
  const session = await Session.open(inv);
  const repo = await session.repository(gun, 'admin');
  const keys: PrivateKey[] = [];
  for (const file of strings(inv.flags['key'])) keys.push(await readKeyArg(inv, session, role, file));
  if (role === 'root') {
    inv.out('Warning: you are about to rotate your root key.\n\nYou must use your old key to sign this root rotation.\nAre you sure you want to proceed?  (yes/no)  ');
    if (!(await askConfirm(session.promptInput))) {
      inv.out('\nAborting action.\n');
      return;
    }
  }
  await repo.rotateKey(role, {
    serverManaged: inv.flags['server-managed'] === true,
    keys,
    legacyVersions: (inv.flags['legacy'] as number | undefined) ?? 0,
  });
  inv.out(`Successfully rotated ${role} key for repository ${gun}\n`);
}
