/**
 * Interop of FileKeyStore with the real notary 0.7 and docker 28 CLIs on shared trust dirs
 * (spec §9.1–9.3, §11 key commands, §12.2 key generate). None of these commands needs a server.
 * Skipped when the binaries are not installed (scripts/ensure-peers.sh installs notary).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { describeResult, runCommand, type RunResult } from '../../test/support/exec.ts';
import { canonicalKeyId, generatePrivateKey, pemDecodeAll, signMessage, verifySignature } from '../crypto/index.ts';
import type { PrivateKey } from '../crypto/index.ts';
import { PassphraseError } from '../errors/index.ts';
import { FileKeyStore } from './client-file-store.ts';
import { exportKeys, importKeys } from './client-key-transfer.ts';
import { decodePrivateKeyPem } from './key-file.ts';
import { WRONG_PASSPHRASE_MESSAGE } from './key-file-pkcs8.ts';
import { envPassphraseRetriever } from './passphrase-env.ts';

function installed(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const HAVE_NOTARY = installed('notary');
const HAVE_DOCKER = installed('docker');

const ENV = {
  NOTARY_ROOT_PASSPHRASE: 'interop-root-pass',
  NOTARY_TARGETS_PASSPHRASE: 'interop-targets-pass',
  NOTARY_SNAPSHOT_PASSPHRASE: 'interop-snapshot-pass',
  NOTARY_DELEGATION_PASSPHRASE: 'interop-delegation-pass',
};
const RSA_FIXTURE = join(import.meta.dirname, '../../test/fixtures/keys/openssl/rsa-legacy-plain.pem');

const tmpRoot = mkdtempSync(join(tmpdir(), 'vouch-key-interop-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => {
  const d = join(tmpRoot, `h${n++}`);
  mkdirSync(d, { recursive: true });
  return d;
};

async function notary(home: string, trustDir: string, args: string[], env: Record<string, string> = ENV): Promise<RunResult> {
  const all = ['-d', trustDir, ...args];
  return runCommand('notary', all, { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, ...env }, timeoutMs: 60_000 });
}

async function notaryOk(home: string, trustDir: string, args: string[], env?: Record<string, string>): Promise<string> {
  const r = await notary(home, trustDir, args, env);
  assert.equal(r.code, 0, describeResult(['notary', '-d', trustDir, ...args], r));
  return r.stdout;
}

/** `notary key list` rows as [role, gun, id], cut at the header's column positions. */
function parseKeyList(out: string): [string, string, string][] {
  const lines = out.split('\n');
  const header = lines.findIndex((l) => l.startsWith('ROLE'));
  assert.ok(header >= 0, out);
  const h = lines[header]!;
  const gunAt = h.indexOf('GUN');
  const idAt = h.indexOf('KEY ID');
  const locAt = h.indexOf('LOCATION');
  return lines
    .slice(header + 2)
    .filter((l) => l.trim() !== '')
    .map((l) => [l.slice(0, gunAt).trim(), l.slice(gunAt, idAt).trim(), l.slice(idAt, locAt).trim()]);
}

function assertSigns(key: PrivateKey): void {
  const msg = new TextEncoder().encode('interop');
  const { method, sig } = signMessage(key, msg);
  assert.equal(verifySignature(key.publicKey, method, msg, sig), true);
}

const mode = (p: string): number => statSync(p).mode & 0o777;

describe('keys written by the real notary CLI open in FileKeyStore', { skip: HAVE_NOTARY ? false : 'notary is not installed' }, () => {
  it('notary key generate (root and delegation): listed, decrypted with the env passphrases, signing works', async () => {
    const home = fresh();
    const trust = join(home, 'trust');
    const rootOut = await notaryOk(home, trust, ['key', 'generate', 'ecdsa', '--role', 'root']);
    const relOut = await notaryOk(home, trust, ['key', 'generate', 'ecdsa', '--role', 'targets/releases']);
    const rootId = /keyID: ([0-9a-f]{64})/.exec(rootOut)?.[1];
    const relId = /keyID: ([0-9a-f]{64})/.exec(relOut)?.[1];
    assert.ok(rootId && relId);
    assert.equal(mode(join(trust, 'private')), 0o700);

    const store = await FileKeyStore.open(trust, { retriever: envPassphraseRetriever(ENV) });
    assert.deepEqual((await store.list()).map((k) => [k.keyId, k.role, k.gun]).sort(), [[rootId, 'root', ''], [relId, 'targets/releases', '']].sort());
    for (const id of [rootId, relId]) {
      const { key } = await store.get(id);
      assert.equal(canonicalKeyId(key.publicKey), id);
      assertSigns(key);
    }
  });

  it('a wrong passphrase leaves notary\'s file untouched', async () => {
    const home = fresh();
    const trust = join(home, 'trust');
    const out = await notaryOk(home, trust, ['key', 'generate', 'ecdsa', '--role', 'root']);
    const id = /keyID: ([0-9a-f]{64})/.exec(out)?.[1] ?? '';
    const file = join(trust, 'private', `${id}.key`);
    const before = readFileSync(file);
    const mtime = statSync(file).mtimeMs;
    const store = await FileKeyStore.open(trust, { retriever: envPassphraseRetriever({ NOTARY_ROOT_PASSPHRASE: 'wrong-pass' }) });
    await assert.rejects(store.get(id), (e: unknown) => e instanceof PassphraseError && e.message === WRONG_PASSPHRASE_MESSAGE);
    assert.deepEqual(readFileSync(file), before);
    assert.equal(statSync(file).mtimeMs, mtime);
    assert.equal(mode(file), 0o600);
  });

  it('a bundle from notary key export imports into FileKeyStore unchanged', async () => {
    const home = fresh();
    const trust = join(home, 'trust');
    await notaryOk(home, trust, ['key', 'generate', 'ecdsa', '--role', 'root']);
    await notaryOk(home, trust, ['key', 'generate', 'ecdsa', '--role', 'alice']);
    const bundle = await notaryOk(home, trust, ['key', 'export']);
    const store = await FileKeyStore.open(join(fresh(), 'trust'), { retriever: async () => assert.fail('no passphrase needed') });
    const { imported } = await importKeys(store, bundle);
    assert.equal(imported.length, 2);
    for (const id of imported) {
      assert.equal(readFileSync(join(store.privateDir, `${id}.key`), 'latin1'), readFileSync(join(trust, 'private', `${id}.key`), 'latin1'));
    }
  });
});

describe('keys written by FileKeyStore work with the real notary CLI', { skip: HAVE_NOTARY ? false : 'notary is not installed' }, () => {
  it('notary key list shows role and GUN; key export and key passwd accept them (ecdsa, rsa, ed25519)', async () => {
    const home = fresh();
    const trust = join(home, 'trust');
    const store = await FileKeyStore.open(trust, { retriever: envPassphraseRetriever(ENV) });
    const rsa = decodePrivateKeyPem(readFileSync(RSA_FIXTURE), '').key;
    const ids = {
      root: await store.add(generatePrivateKey('ecdsa'), { role: 'root' }),
      targets: await store.add(rsa, { role: 'targets', gun: 'example.com/app' }),
      snapshot: await store.add(generatePrivateKey('ecdsa'), { role: 'snapshot', gun: 'example.com/app' }),
      releases: await store.add(generatePrivateKey('ed25519'), { role: 'targets/releases' }),
    };
    for (const id of Object.values(ids)) assert.equal(mode(join(store.privateDir, `${id}.key`)), 0o600);
    assert.equal(mode(store.privateDir), 0o700);

    const rows = parseKeyList(await notaryOk(home, trust, ['key', 'list']));
    assert.deepEqual(rows.sort(), [
      ['root', '', ids.root],
      ['targets', 'example.com/app', ids.targets],
      ['snapshot', 'example.com/app', ids.snapshot],
      ['targets/releases', '', ids.releases],
    ].sort());

    const exported = await notaryOk(home, trust, ['key', 'export', '--key', ids.snapshot]);
    const [block] = pemDecodeAll(exported);
    assert.deepEqual([block?.type, block?.headers['path'], block?.headers['gun'], block?.headers['role']], ['ENCRYPTED PRIVATE KEY', ids.snapshot, 'example.com/app', 'snapshot']);
    assert.equal(exported, await exportKeys(store, { keyIds: [ids.snapshot] }), 'same bytes as our export');

    // key passwd decrypts with the role's env passphrase (notary reads our PKCS#8 dialect for each
    // key type) and re-encrypts; FileKeyStore then reads notary's file.
    for (const id of Object.values(ids)) {
      const before = readFileSync(join(store.privateDir, `${id}.key`), 'latin1');
      const out = await notaryOk(home, trust, ['key', 'passwd', id]);
      assert.match(out, new RegExp(`Successfully updated passphrase for key ID: ${id}`));
      assert.notEqual(readFileSync(join(store.privateDir, `${id}.key`), 'latin1'), before, 'notary rewrote the file');
    }
    const reopened = await FileKeyStore.open(trust, { retriever: envPassphraseRetriever(ENV) });
    for (const id of Object.values(ids)) assertSigns((await reopened.get(id)).key);
  });

  it('notary refuses a wrong passphrase for our key and leaves the file untouched', async () => {
    const home = fresh();
    const trust = join(home, 'trust');
    const store = await FileKeyStore.open(trust, { retriever: envPassphraseRetriever(ENV) });
    const id = await store.add(generatePrivateKey('ecdsa'), { role: 'targets', gun: 'example.com/app' });
    const file = join(store.privateDir, `${id}.key`);
    const before = readFileSync(file);
    const r = await notary(home, trust, ['key', 'passwd', id], { ...ENV, NOTARY_TARGETS_PASSPHRASE: 'not-it' });
    assert.notEqual(r.code, 0, describeResult(['notary', 'key', 'passwd'], r));
    assert.deepEqual(readFileSync(file), before);
  });

  it('notary key import reads our export (bundle with path headers) into its own trust dir', async () => {
    const store = await FileKeyStore.open(join(fresh(), 'trust'), { retriever: envPassphraseRetriever(ENV) });
    const id = await store.add(generatePrivateKey('ecdsa'), { role: 'targets', gun: 'example.com/other' });
    const home = fresh();
    const trust = join(home, 'trust');
    const bundle = join(home, 'bundle.pem');
    writeFileSync(bundle, await exportKeys(store), { mode: 0o600 });
    await notaryOk(home, trust, ['key', 'import', bundle]);
    assert.deepEqual(parseKeyList(await notaryOk(home, trust, ['key', 'list'])), [['targets', 'example.com/other', id]]);
    assert.deepEqual(readdirSync(join(trust, 'private')), [`${id}.key`]);
  });
});

describe('keys written by docker trust key generate open in FileKeyStore', { skip: HAVE_DOCKER ? false : 'docker is not installed' }, () => {
  it('the signer key (role: <name>, no GUN) decrypts with DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE', async () => {
    const home = fresh();
    const config = join(home, 'docker-config');
    const env = { DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: 'interop-repository-pass' };
    const r = await runCommand('docker', ['trust', 'key', 'generate', 'alice', '--dir', home], {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, DOCKER_CONFIG: config, ...env },
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 0, describeResult(['docker', 'trust', 'key', 'generate'], r));
    const store = await FileKeyStore.open(join(config, 'trust'), { retriever: envPassphraseRetriever(env) });
    const [info, ...rest] = await store.list();
    assert.ok(info);
    assert.equal(rest.length, 0);
    assert.deepEqual([info.role, info.gun], ['alice', '']);
    const { key } = await store.get(info.keyId);
    assertSigns(key);
    const pub = readFileSync(join(home, 'alice.pub'), 'latin1');
    assert.ok(pub.startsWith('-----BEGIN PUBLIC KEY-----\nrole: alice\n\n'));
    assert.equal(canonicalKeyId(key.publicKey), info.keyId);
  });
});
