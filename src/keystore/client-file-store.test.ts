import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { canonicalKeyId, generatePrivateKey, signMessage, verifySignature } from '../crypto/index.ts';
import { DeserializationError, KeyNotFoundError, PassphraseError } from '../errors/index.ts';
import { decryptKeyFile, FileKeyStore } from './client-file-store.ts';
import type { PassphraseRetriever } from './client-types.ts';
import { decodePrivateKeyPem, encodePrivateKeyPem, readPrivateKeyAttributes } from './key-file.ts';
import { WRONG_PASSPHRASE_MESSAGE } from './key-file-pkcs8.ts';
import { envPassphraseRetriever } from './passphrase-env.ts';

const FIXTURES = join(import.meta.dirname, '../../test/fixtures/keys');
const NOTARY_ENV = {
  NOTARY_ROOT_PASSPHRASE: 'root-passphrase-1',
  NOTARY_TARGETS_PASSPHRASE: 'targets-passphrase-1',
  NOTARY_SNAPSHOT_PASSPHRASE: 'snapshot-passphrase-1',
  NOTARY_DELEGATION_PASSPHRASE: 'delegation-passphrase-1',
};

const tmpRoot = mkdtempSync(join(tmpdir(), 'vouch-filekeystore-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => join(tmpRoot, `trust-${n++}`);
const mode = (p: string): number => statSync(p).mode & 0o777;

/** A retriever that records its calls and answers from a list (the last answer repeats). */
function scripted(...answers: (string | Error)[]): PassphraseRetriever & { calls: { alias: string; keyName: string; createNew: boolean; attempt: number }[] } {
  const calls: { alias: string; keyName: string; createNew: boolean; attempt: number }[] = [];
  const fn = async (r: { alias: string; keyName: string; createNew: boolean; attempt: number }) => {
    calls.push({ ...r });
    const a = answers[Math.min(calls.length - 1, answers.length - 1)];
    if (a instanceof Error) throw a;
    return a ?? '';
  };
  return Object.assign(fn, { calls });
}

describe('FileKeyStore layout (spec §9.1–9.2)', () => {
  it('creates private/ with mode 0700 and writes <canonical id>.key with mode 0600', async () => {
    const dir = freshDir();
    const store = await FileKeyStore.open(dir, { retriever: scripted('pass-word-1') });
    assert.equal(mode(join(dir, 'private')), 0o700);
    const key = generatePrivateKey('ecdsa');
    const id = await store.add(key, { role: 'targets', gun: 'example.com/app' });
    assert.equal(id, canonicalKeyId(key.publicKey));
    const file = join(dir, 'private', `${id}.key`);
    assert.equal(mode(file), 0o600);
    assert.deepEqual(readdirSync(join(dir, 'private')), [`${id}.key`], 'no temporary file left behind');
    const text = readFileSync(file, 'latin1');
    assert.match(text, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\ngun: example\.com\/app\nrole: targets\n\n/);
    assert.deepEqual(decodePrivateKeyPem(text, 'pass-word-1').key.raw, key.raw);
  });

  it('keeps the GUN only for targets, snapshot and timestamp keys', async () => {
    const store = await FileKeyStore.open(freshDir(), { retriever: scripted('pw-pw-pw-pw') });
    const cases: [string, string][] = [['root', ''], ['targets', 'g/app'], ['snapshot', 'g/app'], ['timestamp', 'g/app'], ['targets/releases', ''], ['alice', '']];
    for (const [role, gun] of cases) {
      const id = await store.add(generatePrivateKey('ecdsa'), { role, gun: 'g/app' });
      const info = await store.info(id);
      assert.deepEqual([info.role, info.gun], [role, gun], role);
    }
  });

  it('add asks once with createNew and alias = role; an empty passphrase writes an unencrypted key', async () => {
    const retriever = scripted('');
    const store = await FileKeyStore.open(freshDir(), { retriever });
    const id = await store.add(generatePrivateKey('ed25519'), { role: 'timestamp', gun: 'g' });
    assert.deepEqual(retriever.calls, [{ keyName: id, alias: 'timestamp', createNew: true, attempt: 0 }]);
    assert.equal(readPrivateKeyAttributes(readFileSync(join(store.privateDir, `${id}.key`))).type, 'PRIVATE KEY');
  });

  it('a retriever that gives up on add writes nothing', async () => {
    const store = await FileKeyStore.open(freshDir(), { retriever: scripted(new PassphraseError('no terminal')) });
    await assert.rejects(store.add(generatePrivateKey('ecdsa'), { role: 'root' }), /no terminal/);
    assert.deepEqual(readdirSync(store.privateDir), []);
  });

  it('list, has, info and remove', async () => {
    const store = await FileKeyStore.open(freshDir(), { retriever: scripted('pw-pw-pw-pw') });
    const a = await store.add(generatePrivateKey('ecdsa'), { role: 'root' });
    const b = await store.add(generatePrivateKey('ecdsa'), { role: 'snapshot', gun: 'example.com/x' });
    writeFileSync(join(store.privateDir, 'junk.key'), 'not a key', { mode: 0o600 });
    writeFileSync(join(store.privateDir, 'notes.txt'), 'ignored', { mode: 0o600 });
    const listed = await store.list();
    assert.deepEqual(
      listed.map((k) => [k.keyId, k.role, k.gun, k.location]),
      [
        [a, 'root', '', join(store.privateDir, `${a}.key`)],
        [b, 'snapshot', 'example.com/x', join(store.privateDir, `${b}.key`)],
      ].sort((x, y) => (x[0]! < y[0]! ? -1 : 1)),
    );
    assert.equal(await store.has(a), true);
    assert.equal(await store.has('0'.repeat(64)), false);
    assert.equal(await store.has('../private/' + a), false);
    await store.remove(a);
    assert.equal(await store.has(a), false);
    await assert.rejects(store.remove(a), KeyNotFoundError);
    await assert.rejects(store.get(a), KeyNotFoundError);
    await assert.rejects(store.info(a), KeyNotFoundError);
  });
});

describe('FileKeyStore.get: passphrases (spec §9.2–9.3)', () => {
  async function storeWithKey(passphrase: string, role = 'targets') {
    const dir = freshDir();
    const writer = await FileKeyStore.open(dir, { retriever: scripted(passphrase) });
    const key = generatePrivateKey('ecdsa');
    const id = await writer.add(key, { role, gun: 'example.com/app' });
    return { dir, id, key, file: join(dir, 'private', `${id}.key`) };
  }

  it('an unencrypted key opens without asking', async () => {
    const { dir, id, key } = await storeWithKey('');
    const retriever = scripted(new Error('must not be called'));
    const store = await FileKeyStore.open(dir, { retriever });
    assert.deepEqual((await store.get(id)).key.raw, key.raw);
    assert.equal(retriever.calls.length, 0);
  });

  it('asks with alias = role header and keyName = id; wrong, then right on the retry', async () => {
    const { dir, id, key } = await storeWithKey('the-right-one', 'snapshot');
    const retriever = scripted('wrong', 'the-right-one');
    const store = await FileKeyStore.open(dir, { retriever });
    const got = await store.get(id);
    assert.deepEqual([got.key.raw, got.role, got.gun], [key.raw, 'snapshot', 'example.com/app']);
    assert.deepEqual(retriever.calls.map((c) => [c.keyName, c.alias, c.createNew, c.attempt]), [
      [id, 'snapshot', false, 0],
      [id, 'snapshot', false, 1],
    ]);
    await store.get(id);
    assert.equal(retriever.calls.length, 2, 'decrypted keys are cached');
  });

  it('gives up after 3 wrong passphrases with notary\'s message; the file is untouched', async () => {
    const { dir, id, file } = await storeWithKey('the-right-one');
    const before = readFileSync(file);
    const beforeMtime = statSync(file).mtimeMs;
    const retriever = scripted('wrong');
    const store = await FileKeyStore.open(dir, { retriever });
    await assert.rejects(store.get(id), (e: unknown) => e instanceof PassphraseError && e.message === WRONG_PASSPHRASE_MESSAGE);
    assert.deepEqual(retriever.calls.map((c) => c.attempt), [0, 1, 2]);
    assert.deepEqual(readFileSync(file), before);
    assert.equal(statSync(file).mtimeMs, beforeMtime);
    assert.equal(mode(file), 0o600);
  });

  it('a retriever that throws PassphraseError stops at once, with its own message', async () => {
    const { dir, id } = await storeWithKey('the-right-one');
    const retriever = scripted(new PassphraseError('no terminal: set NOTARY_TARGETS_PASSPHRASE'));
    const store = await FileKeyStore.open(dir, { retriever });
    await assert.rejects(store.get(id), /set NOTARY_TARGETS_PASSPHRASE/);
    assert.equal(retriever.calls.length, 1);
  });

  it('the environment retriever: two tries, then notary\'s message', async () => {
    const { dir, id } = await storeWithKey('the-right-one');
    const store = await FileKeyStore.open(dir, { retriever: envPassphraseRetriever({ NOTARY_TARGETS_PASSPHRASE: 'wrong' }) });
    await assert.rejects(store.get(id), (e: unknown) => e instanceof PassphraseError && e.message === WRONG_PASSPHRASE_MESSAGE && e.cause instanceof PassphraseError);
  });

  it('a file that is not a key fails without asking for a passphrase', async () => {
    const dir = freshDir();
    const store = await FileKeyStore.open(dir, { retriever: scripted(new Error('must not be called')) });
    writeFileSync(join(store.privateDir, 'abc.key'), '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n');
    await assert.rejects(store.get('abc'), DeserializationError);
  });

  it('changePassphrase re-encrypts under the new passphrase, same role and GUN; a refused new passphrase changes nothing', async () => {
    const { dir, id, key, file } = await storeWithKey('old-passphrase');
    const store = await FileKeyStore.open(dir, { retriever: scripted('old-passphrase') });
    const before = readFileSync(file);
    await assert.rejects(store.changePassphrase(id, scripted(new PassphraseError('gave up'))), /gave up/);
    assert.deepEqual(readFileSync(file), before);
    const fresh = scripted('new-passphrase');
    await store.changePassphrase(id, fresh);
    assert.deepEqual(fresh.calls, [{ keyName: id, alias: 'targets', createNew: true, attempt: 0 }]);
    const decoded = decodePrivateKeyPem(readFileSync(file), 'new-passphrase');
    assert.deepEqual([decoded.key.raw, decoded.role, decoded.gun], [key.raw, 'targets', 'example.com/app']);
    assert.throws(() => decodePrivateKeyPem(readFileSync(file), 'old-passphrase'), PassphraseError);
    assert.equal(mode(file), 0o600);
  });

  it('a failed write leaves the old file and no temporary file', async () => {
    const store = await FileKeyStore.open(freshDir(), { retriever: scripted('pw') });
    mkdirSync(join(store.privateDir, 'blocked.key')); // rename onto a directory fails
    await assert.rejects(store.writeKeyFile('blocked', 'x'));
    assert.deepEqual(readdirSync(store.privateDir), ['blocked.key']);
    await assert.rejects(store.writeKeyFile('../escape', 'x'), RangeError);
  });
});

describe('FileKeyStore over keys written by notary and docker', () => {
  it('lists them with role and GUN, opens each with the CLIs\' environment passphrases, and signs', async () => {
    const dir = freshDir();
    mkdirSync(join(dir, 'private'), { recursive: true, mode: 0o700 });
    for (const f of readdirSync(join(FIXTURES, 'notary')).filter((x) => x.endsWith('.key'))) copyFileSync(join(FIXTURES, 'notary', f), join(dir, 'private', f));
    for (const f of readdirSync(join(FIXTURES, 'docker')).filter((x) => x.endsWith('.key'))) copyFileSync(join(FIXTURES, 'docker', f), join(dir, 'private', f));
    const store = await FileKeyStore.open(dir, {
      retriever: envPassphraseRetriever({ ...NOTARY_ENV, NOTARY_DELEGATION_PASSPHRASE: '', DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: 'repository-passphrase-1' }),
    });
    const listed = await store.list();
    assert.deepEqual(
      listed.map((k) => [k.keyId.slice(0, 8), k.role, k.gun]),
      [
        ['2c27941d', 'snapshot', 'example.com/spec/app'],
        ['3a57aa50', 'targets', 'example.com/spec/app'],
        ['3c3d98a9', 'root', ''],
        ['75194658', 'targets/releases', ''],
        ['77e8d298', 'alice', ''],
      ],
    );
    // targets/releases is a delegation: NOTARY_DELEGATION_PASSPHRASE is unset here, so docker's
    // repository passphrase is tried (and is wrong): notary's message after two tries
    await assert.rejects(store.get(listed[3]!.keyId), (e: unknown) => e instanceof PassphraseError && e.message === WRONG_PASSPHRASE_MESSAGE);
    for (const info of listed.filter((_, i) => i !== 3)) {
      const { key } = await store.get(info.keyId);
      const msg = new TextEncoder().encode(info.keyId);
      const { method, sig } = signMessage(key, msg);
      assert.equal(verifySignature(key.publicKey, method, msg, sig), true);
    }
  });

  it('decryptKeyFile tries the empty passphrase first', async () => {
    const key = generatePrivateKey('ecdsa');
    const retriever = scripted('unused');
    const got = await decryptKeyFile(encodePrivateKeyPem(key, { role: 'x', passphrase: '' }), { keyName: '', alias: 'x', retriever });
    assert.deepEqual(got.key.raw, key.raw);
    assert.equal(retriever.calls.length, 0);
  });
});
