import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tufKeyId, verifySignature } from '../crypto/index.ts';
import { KeyNotFoundError, PassphraseError, StorageError } from '../errors/index.ts';
import { MemoryKeyRecordStore, type KeyRecord, type KeyRecordStore } from '../storage/index.ts';
import { SignerKeyService, type SignerKeyServiceOptions } from './key-service.ts';

const MSG = new TextEncoder().encode('{"_type":"Timestamp","version":1}');

function service(store: KeyRecordStore, opts: Partial<SignerKeyServiceOptions> = {}, passphrases: Record<string, string> = { a1: 'pass-one' }): SignerKeyService {
  return new SignerKeyService({
    store,
    defaultAlias: 'a1',
    passphrase: (alias) => passphrases[alias],
    reusePendingKeys: false,
    ...opts,
  });
}

describe('SignerKeyService', () => {
  for (const algorithm of ['ecdsa', 'ed25519'] as const) {
    it(`creates, describes and signs with ${algorithm} keys, marking them used`, async () => {
      const store = new MemoryKeyRecordStore();
      const keys = service(store);
      const pub = await keys.createKey('timestamp', 'example.com/app', algorithm);
      const id = tufKeyId(pub);
      const rec = await store.getKey(id);
      assert.ok(rec !== null);
      assert.equal(rec.passphraseAlias, 'a1');
      assert.equal(rec.lastUsed, null);
      assert.equal(rec.role, 'timestamp');
      assert.equal(rec.gun, 'example.com/app');

      const info = await keys.keyInfo(id);
      assert.equal(info.role, 'timestamp');
      assert.deepEqual(info.key, pub);

      const { method, sig, key } = await keys.sign(id, MSG);
      assert.equal(method, algorithm === 'ecdsa' ? 'ecdsa' : 'eddsa');
      assert.deepEqual(key, pub);
      assert.ok(verifySignature(pub, method, MSG, sig));
      assert.notEqual((await store.getKey(id))?.lastUsed, null);
    });
  }

  it('refuses algorithms notary-signer does not create, with its message', async () => {
    const keys = service(new MemoryKeyRecordStore());
    for (const a of ['rsa', '', 'ECDSA']) {
      await assert.rejects(keys.createKey('snapshot', 'g', a), (e: unknown) => e instanceof RangeError && e.message === `algorithm ${a} not supported for create key`);
    }
  });

  it('without reuse every createKey makes a new key; with reuse the pending key with the smallest id comes back', async () => {
    const store = new MemoryKeyRecordStore();
    const fresh = service(store);
    const a = tufKeyId(await fresh.createKey('snapshot', 'g', 'ecdsa'));
    const b = tufKeyId(await fresh.createKey('snapshot', 'g', 'ecdsa'));
    assert.notEqual(a, b);
    const reusing = service(store, { reusePendingKeys: true });
    const smallest = a < b ? a : b;
    assert.equal(tufKeyId(await reusing.createKey('snapshot', 'g', 'ecdsa')), smallest);
    await reusing.sign(smallest, MSG);
    assert.equal(tufKeyId(await reusing.createKey('snapshot', 'g', 'ecdsa')), a < b ? b : a);
    // another algorithm, role or GUN is not a match
    for (const [role, gun, alg] of [['snapshot', 'g', 'ed25519'], ['timestamp', 'g', 'ecdsa'], ['snapshot', 'h', 'ecdsa']] as const) {
      const k = tufKeyId(await reusing.createKey(role, gun, alg));
      assert.ok(k !== a && k !== b);
    }
  });

  it('keys keep their alias: after the default alias changes, old keys open with their own passphrase', async () => {
    const store = new MemoryKeyRecordStore();
    const old = tufKeyId(await service(store).createKey('timestamp', 'g', 'ecdsa'));
    const rotated = service(store, { defaultAlias: 'a2' }, { a1: 'pass-one', a2: 'pass-two' });
    await rotated.sign(old, MSG);
    const neu = tufKeyId(await rotated.createKey('timestamp', 'g', 'ecdsa'));
    assert.equal((await store.getKey(neu))?.passphraseAlias, 'a2');
    assert.equal((await store.getKey(old))?.passphraseAlias, 'a1');

    const withoutOld = service(store, { defaultAlias: 'a2' }, { a2: 'pass-two' });
    await assert.rejects(withoutOld.keyInfo(old), (e: unknown) => e instanceof PassphraseError && e.message === 'expected env variable to not be empty: a1');
    await assert.rejects(withoutOld.sign(old, MSG), PassphraseError);
    await withoutOld.sign(neu, MSG);

    const wrong = service(store, { defaultAlias: 'a2' }, { a1: 'nope', a2: 'pass-two' });
    await assert.rejects(wrong.keyInfo(old), PassphraseError);
  });

  it('creating a key without a passphrase for the default alias fails and stores nothing', async () => {
    const store = new MemoryKeyRecordStore();
    const keys = service(store, { defaultAlias: 'a9' });
    await assert.rejects(keys.createKey('timestamp', 'g', 'ecdsa'), (e: unknown) => e instanceof PassphraseError && /a9/.test(e.message));
    assert.deepEqual(await store.listKeys('g', 'timestamp'), []);
  });

  it('the store is authoritative: a deleted key stops working although it was cached; deleting twice is fine', async () => {
    const store = new MemoryKeyRecordStore();
    const keys = service(store);
    const id = tufKeyId(await keys.createKey('timestamp', 'g', 'ed25519'));
    await keys.sign(id, MSG);
    await store.deleteKey(id); // behind the service's back
    await assert.rejects(keys.sign(id, MSG), (e: unknown) => e instanceof KeyNotFoundError && e.message === `signing key not found: ${id}`);
    await keys.deleteKey(id);
    await keys.deleteKey(id);
    await assert.rejects(keys.keyInfo('0'.repeat(64)), KeyNotFoundError);
  });

  it('a row whose sealed key does not match its public key is refused', async () => {
    const store = new MemoryKeyRecordStore();
    const keys = service(store);
    const a = await store.getKey(tufKeyId(await keys.createKey('timestamp', 'g', 'ecdsa')));
    const b = await store.getKey(tufKeyId(await keys.createKey('timestamp', 'g', 'ecdsa')));
    const forged: KeyRecord = { ...a!, keyId: 'forged', privateSealed: b!.privateSealed };
    await store.addKey(forged);
    await assert.rejects(service(store).keyInfo('forged'), (e: unknown) => e instanceof StorageError && /does not match/.test(e.message));
  });

  it('a failure to mark the key used is reported, and the signature still returned (as notary-signer)', async () => {
    const store = new MemoryKeyRecordStore();
    const id = tufKeyId(await service(store).createKey('timestamp', 'g', 'ecdsa'));
    const warnings: string[] = [];
    const failing: KeyRecordStore = {
      addKey: (r) => store.addKey(r),
      getKey: (k) => store.getKey(k),
      listKeys: (g, r) => store.listKeys(g, r),
      markUsed: async () => {
        throw new StorageError('disk full');
      },
      deleteKey: (k) => store.deleteKey(k),
      close: () => store.close(),
    };
    const keys = service(failing, { onWarning: (m) => warnings.push(m) });
    const { sig, method } = await keys.sign(id, MSG);
    assert.ok(verifySignature((await keys.keyInfo(id)).key, method, MSG, sig));
    assert.equal(warnings.length, 1);
  });
});
