import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { canonicalKeyId, tufKeyId, verifySignature } from '../crypto/index.ts';
import { KeyNotFoundError, PassphraseError, StorageError } from '../errors/index.ts';
import { MemoryKeyRecordStore, SqliteKeyRecordStore } from '../storage/index.ts';
import type { KeyRecord, KeyRecordStore } from '../storage/index.ts';
import { LocalCryptoService } from './local-crypto-service.ts';
import { unsealPrivateKey } from './seal.ts';

const dir = mkdtempSync(join(tmpdir(), 'vouch-keystore-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const GUN = 'example.com/keys/app';
const PASS = 'server passphrase';
const MSG = new TextEncoder().encode('{"_type":"Timestamp","version":1}');
const clock = (): (() => Date) => {
  let t = 1_700_000_000_000;
  return () => new Date((t += 1000));
};

/** A store whose getKey hands out records with ruined ciphertext, after `intactReads` good ones. */
class CorruptingStore implements KeyRecordStore {
  readonly inner: KeyRecordStore;
  intactReads: number;
  constructor(inner: KeyRecordStore, intactReads: number) {
    this.inner = inner;
    this.intactReads = intactReads;
  }
  addKey(rec: KeyRecord) { return this.inner.addKey(rec); }
  async getKey(keyId: string) {
    const rec = await this.inner.getKey(keyId);
    if (rec === null || this.intactReads-- > 0) return rec;
    return { ...rec, privateSealed: 'x.y.z.w.v' };
  }
  listKeys(gun: string, role: string) { return this.inner.listKeys(gun, role); }
  markUsed(keyId: string, when: Date) { return this.inner.markUsed(keyId, when); }
  deleteKey(keyId: string) { return this.inner.deleteKey(keyId); }
  close() { return this.inner.close(); }
}

function suite(name: string, makeStore: () => { store: KeyRecordStore; path?: string }): void {
  describe(`LocalCryptoService over ${name}`, () => {
    for (const alg of ['ed25519', 'ecdsa'] as const) {
      it(`creates, stores sealed and signs with ${alg} keys`, async () => {
        const { store } = makeStore();
        const now = clock();
        const keys = new LocalCryptoService({ store, passphrase: PASS, now });
        const pub = await keys.create('timestamp', GUN, alg);
        assert.equal(pub.keytype, alg);
        const id = tufKeyId(pub);
        const held = await keys.getKey(id);
        assert.ok(held);
        assert.deepEqual([held.role, held.key.keytype, Buffer.from(held.key.public)], ['timestamp', alg, Buffer.from(pub.public)]);

        const rec = await store.getKey(id);
        assert.ok(rec);
        assert.deepEqual([rec.gun, rec.role, rec.algorithm, rec.passphraseAlias, rec.lastUsed], [GUN, 'timestamp', alg, 'default', null]);
        assert.equal(rec.privateSealed.split('.').length, 5, 'sealed as a compact JWE');

        const entry = await keys.sign(id, MSG);
        assert.equal(entry.keyid, id);
        assert.equal(entry.method, alg === 'ed25519' ? 'eddsa' : 'ecdsa');
        assert.ok(verifySignature(pub, entry.method, MSG, entry.sig));
        assert.ok(!verifySignature(pub, entry.method, new TextEncoder().encode('other'), entry.sig));
        assert.ok((await store.getKey(id))?.lastUsed instanceof Date, 'signing marks the key used');
        // The canonical id of an ed25519/ecdsa key is its TUF id, so either finds the key.
        const byCanonical = await keys.sign(canonicalKeyId(pub), MSG);
        assert.ok(verifySignature(pub, byCanonical.method, MSG, byCanonical.sig));
        await store.close();
      });
    }

    it('spare keys: prepared ahead, each handed out once, stored sealed, then refilled', async () => {
      const { store } = makeStore();
      const keys = new LocalCryptoService({ store, passphrase: PASS, now: clock(), spareKeys: 2 });
      const until = async (cond: () => boolean): Promise<void> => {
        for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
        assert.ok(cond(), 'condition reached in time');
      };
      keys.prepareSpares('ecdsa');
      await until(() => keys.sparesReady('ecdsa') === 2);
      assert.equal(keys.sparesReady('ed25519'), 0, 'only the prepared algorithm has spares');
      const first = await keys.create('timestamp', GUN, 'ecdsa');
      assert.equal(keys.sparesReady('ecdsa'), 1, 'create took a spare');
      // more concurrent creates than spares: every key distinct, every one stored and usable
      const pubs = [first, ...(await Promise.all([1, 2, 3, 4, 5].map((i) => keys.create('timestamp', `${GUN}${i}`, 'ecdsa'))))];
      const ids = pubs.map((p) => tufKeyId(p));
      assert.equal(new Set(ids).size, ids.length);
      for (const [i, pub] of pubs.entries()) {
        const rec = await store.getKey(ids[i]!);
        assert.ok(rec);
        const raw = await unsealPrivateKey(rec.privateSealed, PASS);
        assert.ok(raw.length > 0);
        const entry = await keys.sign(ids[i]!, MSG);
        assert.ok(verifySignature(pub, entry.method, MSG, entry.sig));
      }
      await until(() => keys.sparesReady('ecdsa') === 2);
      await store.close();
    });

    it('no spares without spareKeys, and a spare never outlives a bad passphrase', async () => {
      const { store } = makeStore();
      const plain = new LocalCryptoService({ store, passphrase: PASS });
      plain.prepareSpares('ecdsa');
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(plain.sparesReady('ecdsa'), 0);
      const noPass = new LocalCryptoService({ store, passphrase: '', spareKeys: 2 });
      noPass.prepareSpares('ecdsa');
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(noPass.sparesReady('ecdsa'), 0, 'nothing sealed under an empty passphrase');
      await assert.rejects(noPass.create('timestamp', GUN, 'ecdsa'), PassphraseError);
      await store.close();
    });

    it('unusedKeys lists never-used keys of gun, role and algorithm, oldest first', async () => {
      const { store } = makeStore();
      const keys = new LocalCryptoService({ store, passphrase: PASS, now: clock() });
      const a = await keys.create('snapshot', GUN, 'ecdsa');
      const b = await keys.create('snapshot', GUN, 'ecdsa');
      await keys.create('snapshot', GUN, 'ed25519');
      await keys.create('timestamp', GUN, 'ecdsa');
      await keys.create('snapshot', `${GUN}2`, 'ecdsa');
      assert.deepEqual((await keys.unusedKeys('snapshot', GUN, 'ecdsa')).map(tufKeyId), [tufKeyId(a), tufKeyId(b)]);
      await keys.sign(tufKeyId(a), MSG);
      assert.deepEqual((await keys.unusedKeys('snapshot', GUN, 'ecdsa')).map(tufKeyId), [tufKeyId(b)]);
      assert.equal((await keys.unusedKeys('snapshot', GUN, 'ed25519')).length, 1);
      await store.close();
    });

    it('unknown keys and algorithms are refused', async () => {
      const { store } = makeStore();
      const keys = new LocalCryptoService({ store, passphrase: PASS });
      await assert.rejects(keys.sign('ab'.repeat(32), MSG), KeyNotFoundError);
      assert.equal(await keys.getKey('ab'.repeat(32)), null);
      await assert.rejects(keys.create('timestamp', GUN, 'rsa'), RangeError);
      await store.close();
    });

    it('a wrong passphrase cannot sign (PassphraseError)', async () => {
      const { store } = makeStore();
      const pub = await new LocalCryptoService({ store, passphrase: PASS }).create('timestamp', GUN, 'ed25519');
      const wrong = new LocalCryptoService({ store, passphrase: 'not it' });
      await assert.rejects(wrong.sign(tufKeyId(pub), MSG), PassphraseError);
      assert.equal((await store.getKey(tufKeyId(pub)))?.lastUsed, null, 'a failed sign marks nothing');
      await store.close();
    });

    it('keys sealed under an older alias still sign after rotation', async () => {
      const { store } = makeStore();
      const old = await new LocalCryptoService({ store, passphrase: PASS }).create('timestamp', GUN, 'ecdsa');
      const rotated = new LocalCryptoService({ store, passphrase: 'new pass', alias: 'alias2', passphrases: { default: PASS } });
      const fresh = await rotated.create('timestamp', GUN, 'ecdsa');
      assert.equal((await store.getKey(tufKeyId(fresh)))?.passphraseAlias, 'alias2');
      const s = await rotated.sign(tufKeyId(old), MSG);
      assert.ok(verifySignature(old, s.method, MSG, s.sig));
      const noOld = new LocalCryptoService({ store, passphrase: 'new pass', alias: 'alias2' });
      await assert.rejects(noOld.sign(tufKeyId(old), MSG), PassphraseError);
      await store.close();
    });

    it('caches unsealed keys, but a deleted key stops signing', async () => {
      const { store: inner } = makeStore();
      const pub = await new LocalCryptoService({ store: inner, passphrase: PASS }).create('timestamp', GUN, 'ed25519');
      const id = tufKeyId(pub);
      // Only the first read sees intact ciphertext: later signs must come from the cache.
      const keys = new LocalCryptoService({ store: new CorruptingStore(inner, 1), passphrase: PASS });
      for (let i = 0; i < 3; i++) {
        const s = await keys.sign(id, MSG);
        assert.ok(verifySignature(pub, s.method, MSG, s.sig));
      }
      const uncached = new LocalCryptoService({ store: new CorruptingStore(inner, 0), passphrase: PASS });
      await assert.rejects(uncached.sign(id, MSG), StorageError);
      await inner.deleteKey(id);
      await assert.rejects(keys.sign(id, MSG), KeyNotFoundError);
      await inner.close();
    });
  });
}

suite('memory', () => ({ store: new MemoryKeyRecordStore() }));
suite('sqlite', () => {
  const path = join(dir, `k${++n}.db`);
  return { store: new SqliteKeyRecordStore(path), path };
});

describe('LocalCryptoService over sqlite: nothing private on disk', () => {
  it('the database files hold no plain private key bytes', async () => {
    const path = join(dir, 'plain-check.db');
    const store = new SqliteKeyRecordStore(path);
    const keys = new LocalCryptoService({ store, passphrase: PASS });
    const ids: string[] = [];
    for (const alg of ['ed25519', 'ecdsa', 'ed25519', 'ecdsa'] as const) {
      const pub = await keys.create('timestamp', GUN, alg);
      ids.push(tufKeyId(pub));
      await keys.sign(tufKeyId(pub), MSG);
    }
    const secrets: Buffer[] = [];
    const texts: string[] = [];
    for (const id of ids) {
      const rec = await store.getKey(id);
      assert.ok(rec);
      const raw = Buffer.from(await unsealPrivateKey(rec.privateSealed, PASS));
      // ed25519 raw is pub‖seed‖pub, so the seed is the secret; ecdsa raw is SEC1 DER, whose
      // secret is the scalar d (the DER also carries the public point, which may be on disk).
      const secret =
        rec.algorithm === 'ed25519'
          ? raw.subarray(32, 64)
          : Buffer.from(String(createPrivateKey({ key: raw, format: 'der', type: 'sec1' }).export({ format: 'jwk' }).d), 'base64url');
      assert.ok(secret.length >= 32);
      secrets.push(secret);
      texts.push(...[raw.toString('base64'), raw.toString('base64url'), raw.toString('hex')].map((t) => t.slice(12, 40)));
    }
    await store.close();
    const files = readdirSync(dir).filter((f) => f.startsWith('plain-check.db'));
    assert.ok(files.length >= 1);
    const disk = Buffer.concat(files.map((f) => readFileSync(join(dir, f))));
    for (const s of secrets) {
      // Any 16-byte window of the secret, raw or in the usual text encodings.
      for (let i = 0; i + 16 <= s.length; i += 8) {
        const w = s.subarray(i, i + 16);
        assert.equal(disk.indexOf(w), -1, 'raw private bytes on disk');
        assert.equal(disk.indexOf(Buffer.from(w.toString('hex'))), -1, 'hex private bytes on disk');
      }
    }
    for (const t of texts) assert.equal(disk.indexOf(Buffer.from(t)), -1, 'encoded private key on disk');
  });
});
