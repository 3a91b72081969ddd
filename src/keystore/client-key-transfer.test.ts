import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { canonicalKeyId, generatePrivateKey, pemDecodeAll } from '../crypto/index.ts';
import { DeserializationError, PassphraseError, StateError } from '../errors/index.ts';
import { FileKeyStore } from './client-file-store.ts';
import { exportKeys, importKeys, loadKeyFile } from './client-key-transfer.ts';
import type { PassphraseRetriever } from './client-types.ts';
import { decodePrivateKeyPem, encodePemBlock, encodePrivateKeyPem, readPrivateKeyAttributes } from './key-file.ts';

const FIXTURES = join(import.meta.dirname, '../../test/fixtures/keys');
const EC_ID = '2c27941dbc3ef2fed7fbd290ec5800f11a8c57a6eb04dde174836f29237debbc';
const tmpRoot = mkdtempSync(join(tmpdir(), 'vouch-transfer-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));
let n = 0;

function recording(answer: string | Error = 'new-passphrase'): PassphraseRetriever & { calls: { keyName: string; alias: string; createNew: boolean; attempt: number }[] } {
  const calls: { keyName: string; alias: string; createNew: boolean; attempt: number }[] = [];
  return Object.assign(
    async (r: { keyName: string; alias: string; createNew: boolean; attempt: number }) => {
      calls.push({ ...r });
      if (answer instanceof Error) throw answer;
      return answer;
    },
    { calls },
  );
}

async function newStore(retriever: PassphraseRetriever = recording()): Promise<FileKeyStore> {
  return FileKeyStore.open(join(tmpRoot, `t${n++}`), { retriever });
}

const files = (store: FileKeyStore): string[] => readdirSync(store.privateDir).sort();
const fileText = (store: FileKeyStore, id: string): string => readFileSync(join(store.privateDir, `${id}.key`), 'latin1');

describe('importKeys (notary key import, spec §11)', () => {
  it('an unencrypted key without headers: stored at its canonical id, role "delegation", encrypted with a new passphrase', async () => {
    const retriever = recording('new-passphrase');
    const store = await newStore(retriever);
    const result = await importKeys(store, readFileSync(join(FIXTURES, 'openssl/ec-legacy-plain.pem')));
    assert.deepEqual(result, { imported: [EC_ID], skipped: [] });
    assert.deepEqual(retriever.calls, [{ keyName: EC_ID, alias: 'delegation', createNew: true, attempt: 0 }]);
    const attrs = readPrivateKeyAttributes(fileText(store, EC_ID));
    assert.deepEqual([attrs.type, attrs.role, attrs.gun], ['ENCRYPTED PRIVATE KEY', 'delegation', '']);
    assert.equal(canonicalKeyId(decodePrivateKeyPem(fileText(store, EC_ID), 'new-passphrase').key.publicKey), EC_ID);
  });

  it('role and GUN fallbacks: the GUN is kept for targets/snapshot/timestamp only', async () => {
    const store = await newStore();
    const key = generatePrivateKey('ecdsa');
    const plain = encodePrivateKeyPem(key, { passphrase: '' });
    await importKeys(store, plain, { role: 'snapshot', gun: 'example.com/app' });
    const id = canonicalKeyId(key.publicKey);
    assert.deepEqual([(await store.info(id)).role, (await store.info(id)).gun], ['snapshot', 'example.com/app']);
    const other = generatePrivateKey('ecdsa');
    await importKeys(store, encodePrivateKeyPem(other, { passphrase: '' }), { role: 'root', gun: 'example.com/app' });
    assert.equal((await store.info(canonicalKeyId(other.publicKey))).gun, '');
  });

  it('an encrypted block without path: "failed to import all keys: invalid key pem block" (§13 item 15)', async () => {
    const store = await newStore();
    await assert.rejects(importKeys(store, readFileSync(join(FIXTURES, 'notary/bob-key.pem'))), (e: unknown) => e instanceof DeserializationError && e.message === 'failed to import all keys: invalid key pem block');
    assert.deepEqual(files(store), []);
  });

  it('an encrypted block with path: stored unchanged apart from the path header, without asking', async () => {
    const retriever = recording(new Error('must not be asked'));
    const store = await newStore(retriever);
    const original = readFileSync(join(FIXTURES, 'notary/bob-key.pem'), 'latin1');
    const id = canonicalKeyId(decodePrivateKeyPem(original, 'delegation-passphrase-1').key.publicKey);
    const withPath = original.replace('role: bob\n', `path: ${id}\nrole: bob\n`);
    assert.deepEqual((await importKeys(store, withPath)).imported, [id]);
    assert.equal(fileText(store, id), original);
    assert.equal(retriever.calls.length, 0);
  });

  it('a targets key without a GUN is skipped; other blocks still import and the error is not raised', async () => {
    const store = await newStore();
    const a = generatePrivateKey('ecdsa');
    const b = generatePrivateKey('ecdsa');
    const text = encodePrivateKeyPem(a, { role: 'targets', passphrase: '' }) + encodePrivateKeyPem(b, { role: 'alice', passphrase: '' });
    const result = await importKeys(store, text);
    assert.deepEqual(result, { imported: [canonicalKeyId(b.publicKey)], skipped: ['invalid key pem block'] });
  });

  it('a path with directories keeps its base name (GUN from tuf_keys/<gun>/…); consecutive blocks with one path share a file', async () => {
    const store = await newStore();
    const key = generatePrivateKey('ecdsa');
    const id = canonicalKeyId(key.publicKey);
    const der = pemDecodeAll(encodePrivateKeyPem(key, { passphrase: '' }))[0]!.bytes;
    const plain = (headers: Record<string, string>) => encodePemBlock('PRIVATE KEY', headers, der);
    const result = await importKeys(
      store,
      plain({ path: `tuf_keys/example.com/app/${id}`, role: 'targets' }) +
        plain({ path: id, role: 'targets', gun: 'example.com/app' }) +
        plain({ path: id, role: 'targets' }) + // a targets key without GUN: skipped
        plain({ path: '../../evil', role: 'alice' }),
    );
    assert.deepEqual(result, { imported: [id, 'evil'], skipped: ['invalid key pem block'] });
    const blocks = pemDecodeAll(fileText(store, id));
    assert.deepEqual(blocks.map((b) => [b.type, b.headers['gun'], b.headers['role'], b.headers['path']]), [
      ['ENCRYPTED PRIVATE KEY', 'example.com/app', 'targets', undefined],
      ['ENCRYPTED PRIVATE KEY', 'example.com/app', 'targets', undefined],
    ]);
    assert.deepEqual(files(store), [`${id}.key`, 'evil.key']);
  });

  it('non-key blocks are skipped, and a retriever that gives up aborts the import', async () => {
    const store = await newStore(recording(new PassphraseError('gave up')));
    await assert.rejects(importKeys(store, readFileSync(join(FIXTURES, 'docker/alice.pub'))), /invalid key pem block/);
    await assert.rejects(importKeys(store, readFileSync(join(FIXTURES, 'openssl/ec-legacy-plain.pem'))), /gave up/);
    assert.deepEqual(files(store), []);
  });
});

describe('exportKeys (notary key export, spec §11)', () => {
  it('adds path: <id> to each stored block, filters by id or GUN, and re-imports into another store', async () => {
    const store = await newStore(recording('pass-one-1'));
    const root = await store.add(generatePrivateKey('ecdsa'), { role: 'root' });
    const targets = await store.add(generatePrivateKey('ecdsa'), { role: 'targets', gun: 'example.com/a' });
    const snapshot = await store.add(generatePrivateKey('ecdsa'), { role: 'snapshot', gun: 'example.com/b' });
    const all = await exportKeys(store);
    const blocks = pemDecodeAll(all);
    assert.deepEqual(blocks.map((b) => b.headers['path']).sort(), [root, snapshot, targets].sort());
    for (const b of blocks) {
      const stored = pemDecodeAll(fileText(store, b.headers['path']!))[0]!;
      assert.deepEqual(b.bytes, stored.bytes);
      assert.deepEqual({ ...b.headers, path: undefined }, { ...stored.headers, path: undefined });
    }
    assert.match(all, /-----BEGIN ENCRYPTED PRIVATE KEY-----\ngun: example\.com\/a\npath: [0-9a-f]{64}\nrole: targets\n\n/);
    assert.deepEqual(pemDecodeAll(await exportKeys(store, { keyIds: [root] })).map((b) => b.headers['path']), [root]);
    assert.deepEqual(pemDecodeAll(await exportKeys(store, { guns: ['example.com/b', 'example.com/a'] })).map((b) => b.headers['path']), [snapshot, targets]);
    assert.equal(await exportKeys(store, { keyIds: ['0'.repeat(64)] }), '');
    await assert.rejects(exportKeys(store, { keyIds: [root], guns: ['x'] }), /Only the --gun or --key flag/);

    const other = await newStore(recording(new Error('encrypted blocks need no passphrase')));
    const imported = await importKeys(other, all);
    assert.deepEqual(imported.imported.sort(), [root, snapshot, targets].sort());
    for (const id of [root, snapshot, targets]) assert.equal(fileText(other, id), fileText(store, id));
  });
});

describe('loadKeyFile (docker trust key load, spec §12.2)', () => {
  function keyFile(name: string, text: string | Buffer, mode = 0o600): string {
    const p = join(tmpRoot, `${n++}-${name}`);
    writeFileSync(p, text);
    chmodSync(p, mode);
    return p;
  }

  it('refuses a file group/others may read or write, and bad names', async () => {
    const store = await newStore();
    const p = keyFile('k.pem', readFileSync(join(FIXTURES, 'openssl/ec-legacy-plain.pem')), 0o644);
    await assert.rejects(loadKeyFile(store, p), (e: unknown) => e instanceof StateError && e.message === `refusing to load key from ${p}: private key file ${p} must not be readable or writable by others`);
    await assert.rejects(loadKeyFile(store, p, { name: 'Alice' }), RangeError);
    assert.deepEqual(files(store), []);
  });

  it('refuses a public key file', async () => {
    const store = await newStore();
    const p = keyFile('alice.pub', readFileSync(join(FIXTURES, 'docker/alice.pub')));
    await assert.rejects(loadKeyFile(store, p), /is not a supported private key - to add a signer's public key use docker trust signer add/);
  });

  it('an unencrypted EC PRIVATE KEY: stored under its canonical id with role = name, new passphrase asked with alias = name', async () => {
    const retriever = recording('repo-pass-1');
    const store = await newStore(retriever);
    const p = keyFile('ec.pem', readFileSync(join(FIXTURES, 'openssl/ec-legacy-plain.pem')));
    const result = await loadKeyFile(store, p, { name: 'carol' });
    assert.deepEqual(result.imported, [EC_ID]);
    assert.deepEqual(retriever.calls, [{ keyName: EC_ID, alias: 'carol', createNew: true, attempt: 0 }]);
    const decoded = decodePrivateKeyPem(fileText(store, EC_ID), 'repo-pass-1');
    assert.deepEqual([decoded.role, decoded.gun], ['carol', '']);
    assert.deepEqual(files(store), [`${EC_ID}.key`]);
  });

  it('an encrypted PKCS#8 without path: decrypted with alias "encrypted", then stored re-encrypted; its role header wins', async () => {
    const answers = ['wrong', 'delegation-passphrase-1', 'stored-pass-1'];
    const calls: string[] = [];
    const retriever: PassphraseRetriever = async (r) => {
      calls.push(`${r.alias}/${r.createNew}/${r.attempt}/${r.keyName}`);
      return answers.shift() ?? '';
    };
    const store = await newStore(retriever);
    const p = keyFile('bob-key.pem', readFileSync(join(FIXTURES, 'notary/bob-key.pem')));
    const { imported } = await loadKeyFile(store, p, { name: 'dave' });
    const id = imported[0]!;
    assert.deepEqual(calls, ['encrypted/false/0/', 'encrypted/false/1/', `bob/true/0/${id}`]);
    const decoded = decodePrivateKeyPem(fileText(store, id), 'stored-pass-1');
    assert.equal(decoded.role, 'bob');
    assert.equal(canonicalKeyId(decoded.key.publicKey), id);
  });

  it('an encrypted key that does not open: "could not decrypt key", nothing stored', async () => {
    const store = await newStore(recording('wrong'));
    const p = keyFile('legacy.pem', readFileSync(join(FIXTURES, 'openssl/ec-legacy-aes256.pem')));
    await assert.rejects(loadKeyFile(store, p), (e: unknown) => e instanceof PassphraseError && e.message === `error importing key from ${p}: cannot load key from provided file ${p}: could not decrypt key`);
    assert.deepEqual(files(store), []);
  });

  it('a file with a path header is imported as it is', async () => {
    const store = await newStore(recording(new Error('not asked')));
    const src = join(tmpRoot, `${n++}-exported.pem`);
    const donor = await newStore(recording('pass-donor-1'));
    const id = await donor.add(generatePrivateKey('ecdsa'), { role: 'erin' });
    writeFileSync(src, await exportKeys(donor, { keyIds: [id] }), { mode: 0o600 });
    chmodSync(src, 0o600);
    assert.deepEqual((await loadKeyFile(store, src, { name: 'ignored' })).imported, [id]);
    assert.equal(fileText(store, id), fileText(donor, id));
  });
});
