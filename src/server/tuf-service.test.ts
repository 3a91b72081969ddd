import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { keyToJSON, tufKeyId, verifySignature } from '../crypto/index.ts';
import type { TufKey } from '../crypto/types.ts';
import { UpdateValidationError, VersionConflictError } from '../errors/index.ts';
import { LocalCryptoService } from '../keystore/index.ts';
import { MemoryKeyRecordStore, MemoryMetaStore } from '../storage/index.ts';
import { Envelope, fileMetaFor, readStoredSnapshot, readStoredTimestamp } from '../tuf/index.ts';
import { TestRepo, readSigned, resign } from '../../test/support/tuf-repo.ts';
import { TufTrustService } from './tuf-service.ts';

const gun = 'example.com/spec/app';
const DAY = 24 * 3600 * 1000;

/** Point the test repository's root at keys the server holds (as notary init does). */
function useServerKey(repo: TestRepo, role: 'timestamp' | 'snapshot', key: TufKey): void {
  repo.sign('root', {
    bump: false,
    mutate: (s) => {
      for (const id of s['roles'][role]['keyids'] as string[]) delete s['keys'][id];
      const id = tufKeyId(key);
      s['keys'][id] = keyToJSON(key);
      s['roles'][role]['keyids'] = [id];
    },
  });
}

function parts(repo: TestRepo, ...roles: string[]) {
  return roles.map((role) => ({ role, data: repo.bytes(role) }));
}

// Every behaviour holds alike with reads from the store and with cached reads (exclusiveStore).
for (const exclusiveStore of [false, true]) describe(`TufTrustService${exclusiveStore ? ' (exclusive store: cached reads)' : ''}`, () => {
  let now: Date;
  let store: MemoryMetaStore;
  let service: TufTrustService;

  beforeEach(() => {
    now = new Date('2026-11-22T04:00:00Z');
    store = new MemoryMetaStore({ now: () => now });
    const crypto = new LocalCryptoService({ store: new MemoryKeyRecordStore(), passphrase: 'server passphrase' });
    service = new TufTrustService({ store, crypto, keyAlgorithm: 'ed25519', clock: () => now, exclusiveStore });
  });

  async function initRepo(serverSnapshot: boolean): Promise<TestRepo> {
    const repo = TestRepo.create({ gun, now });
    useServerKey(repo, 'timestamp', await service.getOrCreateKey(gun, 'timestamp'));
    if (serverSnapshot) useServerKey(repo, 'snapshot', await service.getOrCreateKey(gun, 'snapshot'));
    return repo;
  }

  it('stores a first publish with a client snapshot and signs a timestamp for it', async () => {
    const repo = await initRepo(false);
    repo.refreshSnapshot(false);
    await service.publish(gun, parts(repo, 'root', 'targets', 'snapshot'));

    const ts = await service.getCurrent(gun, 'timestamp');
    assert.ok(ts);
    const env = Envelope.parse(ts.data, 'timestamp');
    const tsKey = await service.getOrCreateKey(gun, 'timestamp');
    assert.equal(env.signatures.length, 1);
    assert.equal(env.signatures[0]?.keyid, tufKeyId(tsKey));
    assert.ok(verifySignature(tsKey, env.signatures[0]?.method ?? '', env.canonicalSigned(), env.signatures[0]?.sig ?? new Uint8Array()));
    const timestamp = readStoredTimestamp(ts.data);
    assert.equal(timestamp.version, 1);
    assert.deepEqual(timestamp.meta.get('snapshot')?.hashes.get('sha256'), fileMetaFor(repo.bytes('snapshot')).hashes.get('sha256'));

    const sn = await service.getCurrent(gun, 'snapshot');
    assert.deepEqual(sn?.data, repo.bytes('snapshot'));
    assert.deepEqual((await service.getCurrent(gun, 'root'))?.data, repo.bytes('root'));
    const changes = await service.changes(0, 10);
    assert.equal(changes.length, 1);
    assert.equal(changes[0]?.version, 1);
  });

  it('generates the snapshot when it holds the snapshot key', async () => {
    const repo = await initRepo(true);
    await service.publish(gun, parts(repo, 'root', 'targets'));
    const sn = await service.getCurrent(gun, 'snapshot');
    assert.ok(sn);
    const snapshot = readStoredSnapshot(sn.data);
    assert.equal(snapshot.version, 1);
    assert.deepEqual(snapshot.meta.get('targets')?.hashes.get('sha256'), fileMetaFor(repo.bytes('targets')).hashes.get('sha256'));
    assert.deepEqual(snapshot.meta.get('root')?.hashes.get('sha256'), fileMetaFor(repo.bytes('root')).hashes.get('sha256'));

    // a later publish of targets only: snapshot v2 lists the new targets, root meta kept
    repo.addTarget('targets', 'v1', 'hello world');
    repo.sign('targets');
    await service.publish(gun, parts(repo, 'targets'));
    const sn2 = readStoredSnapshot((await service.getCurrent(gun, 'snapshot'))?.data ?? new Uint8Array());
    assert.equal(sn2.version, 2);
    assert.deepEqual(sn2.meta.get('targets')?.hashes.get('sha256'), fileMetaFor(repo.bytes('targets')).hashes.get('sha256'));
    assert.equal(readStoredTimestamp((await service.getCurrent(gun, 'timestamp'))?.data ?? new Uint8Array()).version, 2);
  });

  it('refuses a publish without snapshot when it holds no snapshot key, storing nothing', async () => {
    const repo = await initRepo(false);
    await assert.rejects(service.publish(gun, parts(repo, 'root', 'targets')), (err: unknown) => {
      assert.ok(err instanceof UpdateValidationError);
      assert.equal(err.wireName, 'ErrBadHierarchy');
      assert.equal(err.missing, 'snapshot');
      return true;
    });
    assert.equal(await service.getCurrent(gun, 'root'), null);
  });

  it('refuses a root whose timestamp key the server does not hold', async () => {
    const repo = TestRepo.create({ gun, now });
    await assert.rejects(service.publish(gun, parts(repo, 'root', 'targets', 'snapshot')), (err: unknown) => {
      assert.ok(err instanceof UpdateValidationError);
      assert.equal(err.wireName, 'ErrBadRoot');
      assert.equal(err.message, 'no  timestamp keys exist on the server');
      return true;
    });
    assert.equal(await service.getCurrent(gun, 'root'), null);
  });

  it('answers a stale version with VersionConflictError and keeps what was stored', async () => {
    const repo = await initRepo(true);
    await service.publish(gun, parts(repo, 'root', 'targets'));
    const before = (await service.getCurrent(gun, 'targets'))?.data;
    const stale = resign(repo.bytes('targets'), repo.keys('targets'), (s) => {
      s['targets'] = { x: readSigned(repo.bytes('targets'))['targets']['x'] ?? { hashes: { sha256: 'AAAA' }, length: 1 } };
    });
    await assert.rejects(service.publish(gun, [{ role: 'targets', data: stale }]), VersionConflictError);
    assert.deepEqual((await service.getCurrent(gun, 'targets'))?.data, before);
  });

  it('refuses bad targets signatures as ErrBadTargets and stores nothing', async () => {
    const repo = await initRepo(true);
    await service.publish(gun, parts(repo, 'root', 'targets'));
    const forged = resign(repo.bytes('targets'), repo.keys('snapshot'), (s) => {
      s['version'] = 2;
    });
    await assert.rejects(service.publish(gun, [{ role: 'targets', data: forged }]), (err: unknown) => {
      assert.ok(err instanceof UpdateValidationError);
      assert.equal(err.wireName, 'ErrBadTargets');
      return true;
    });
    assert.equal(await service.getByVersion(gun, 'targets', 2), null);
  });

  it('returns the same pending key until a root lists one, then the listed key', async () => {
    const a = await service.getOrCreateKey(gun, 'timestamp');
    const b = await service.getOrCreateKey(gun, 'timestamp');
    assert.equal(tufKeyId(a), tufKeyId(b));
    const rotated = await service.rotateKey(gun, 'timestamp');
    assert.notEqual(tufKeyId(rotated), tufKeyId(a));

    const repo = TestRepo.create({ gun, now });
    useServerKey(repo, 'timestamp', rotated);
    useServerKey(repo, 'snapshot', await service.getOrCreateKey(gun, 'snapshot'));
    await service.publish(gun, parts(repo, 'root', 'targets'));
    assert.equal(tufKeyId(await service.getOrCreateKey(gun, 'timestamp')), tufKeyId(rotated));
  });

  it('re-signs an expired timestamp on read and stores it', async () => {
    const repo = await initRepo(true);
    await service.publish(gun, parts(repo, 'root', 'targets'));
    const first = await service.getCurrent(gun, 'timestamp');
    now = new Date(now.getTime() + 15 * DAY);
    const second = await service.getCurrent(gun, 'timestamp');
    assert.ok(first && second);
    assert.notDeepEqual(first.data, second.data);
    const ts = readStoredTimestamp(second.data);
    assert.equal(ts.version, 2);
    assert.deepEqual((await service.getByVersion(gun, 'timestamp', 2))?.data, second.data);
    assert.equal(readStoredSnapshot((await service.getCurrent(gun, 'snapshot'))?.data ?? new Uint8Array()).version, 1);
    // reading again serves the same bytes (no new version per read)
    assert.deepEqual((await service.getCurrent(gun, 'timestamp'))?.data, second.data);
  });

  it('regenerates an expired server-managed snapshot on read', async () => {
    const repo = await initRepo(true);
    await service.publish(gun, parts(repo, 'root', 'targets'));
    now = new Date(now.getTime() + 4 * 365 * DAY);
    const sn = await service.getCurrent(gun, 'snapshot');
    assert.ok(sn);
    const snapshot = readStoredSnapshot(sn.data);
    assert.equal(snapshot.version, 2);
    assert.ok(readStoredTimestamp((await service.getCurrent(gun, 'timestamp'))?.data ?? new Uint8Array()).version >= 2);
  });

  it('deletes exactly one GUN', async () => {
    const repo = await initRepo(true);
    await service.publish(gun, parts(repo, 'root', 'targets'));
    const other = `${gun}2`;
    const repo2 = TestRepo.create({ gun: other, now });
    useServerKey(repo2, 'timestamp', await service.getOrCreateKey(other, 'timestamp'));
    useServerKey(repo2, 'snapshot', await service.getOrCreateKey(other, 'snapshot'));
    await service.publish(other, parts(repo2, 'root', 'targets'));
    await service.deleteGun(gun);
    assert.equal(await service.getCurrent(gun, 'timestamp'), null);
    assert.ok(await service.getCurrent(other, 'timestamp'));
  });
});

describe('TufTrustService with an exclusive store', () => {
  const now = new Date('2026-11-22T04:00:00Z');

  /** A memory store whose getCurrent can be held back, to overlap a read with a write. */
  class GatedStore extends MemoryMetaStore {
    gate: Promise<void> | null = null;
    reads = 0;
    override async getCurrent(g: string, role: string) {
      this.reads++;
      const result = await super.getCurrent(g, role);
      if (this.gate !== null) await this.gate;
      return result;
    }
  }

  async function setup() {
    const store = new GatedStore({ now: () => now });
    const crypto = new LocalCryptoService({ store: new MemoryKeyRecordStore(), passphrase: 'server passphrase' });
    const service = new TufTrustService({ store, crypto, keyAlgorithm: 'ed25519', clock: () => now, exclusiveStore: true });
    const repo = TestRepo.create({ gun, now });
    useServerKey(repo, 'timestamp', await service.getOrCreateKey(gun, 'timestamp'));
    useServerKey(repo, 'snapshot', await service.getOrCreateKey(gun, 'snapshot'));
    await service.publish(gun, parts(repo, 'root', 'targets'));
    return { store, service, repo };
  }

  it('reads current metadata from the store once between writes, and a write is seen at once', async () => {
    const { store, service, repo } = await setup();
    const first = await service.getCurrent(gun, 'targets');
    const reads = store.reads;
    for (const role of ['targets', 'root', 'timestamp', 'snapshot', 'targets', 'timestamp', 'snapshot']) await service.getCurrent(gun, role);
    // root once; the timestamp twice on its first read (once more to check it under the GUN's lock)
    assert.equal(store.reads, reads + 3, 'targets and snapshot not read again');
    assert.equal(await service.getCurrent(gun, 'targets'), first, 'the same metadata, not a copy');
    repo.addTarget('targets', 'new', 'bytes');
    repo.sign('targets');
    await service.publish(gun, parts(repo, 'targets'));
    assert.deepEqual((await service.getCurrent(gun, 'targets'))?.data, repo.bytes('targets'));
    assert.equal(readStoredTimestamp((await service.getCurrent(gun, 'timestamp'))!.data).version, 2);
    await service.deleteGun(gun);
    assert.equal(await service.getCurrent(gun, 'targets'), null);
  });

  it('keeps a bounded number of roles per GUN, and long GUNs not at all', async () => {
    const { store, service } = await setup();
    const names = Array.from({ length: 100 }, (_, i) => `targets/d${i}`);
    for (const role of names) assert.equal(await service.getCurrent(gun, role), null);
    const before = store.reads;
    for (const role of names) assert.equal(await service.getCurrent(gun, role), null);
    const again = store.reads - before;
    assert.ok(again >= 36 && again < 100, `${again} of 100 absent roles read from the store again`);
    const long = `${'x'.repeat(300)}/app`;
    await service.getCurrent(long, 'root');
    const n = store.reads;
    await service.getCurrent(long, 'root');
    assert.equal(store.reads, n + 1);
  });

  it('a read that overlapped a write is answered but not kept', async () => {
    const { store, service, repo } = await setup();
    let release!: () => void;
    store.gate = new Promise((r) => (release = r));
    const stale = service.getCurrent(gun, 'targets');
    repo.addTarget('targets', 'new', 'bytes');
    repo.sign('targets');
    store.gate = null;
    await service.publish(gun, parts(repo, 'targets'));
    release();
    assert.equal(readSigned((await stale)!.data)['version'], 1);
    assert.equal(readSigned((await service.getCurrent(gun, 'targets'))!.data)['version'], 2);
  });
});
