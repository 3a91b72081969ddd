/**
 * `key rotate` (spec §4.2, §11): root rotations signed by old and new root keys with the old
 * certificate kept, local targets/snapshot keys, server-managed snapshot/timestamp keys, legacy
 * signing, and the refusals.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseJson, sha256 } from '../../src/canonical/index.ts';
import { canonicalKeyId, generatePrivateKey, tufKeyId } from '../../src/crypto/index.ts';
import { Repository } from '../../src/client/repo.ts';
import { InsufficientSignaturesError, InvalidLocalRoleError, InvalidRemoteRoleError } from '../../src/client/repo-errors.ts';
import { RepoBuilder, Root, Envelope } from '../../src/tuf/index.ts';
import { MemoryMetadataCache } from '../../src/client/cache.ts';
import { InProcessRemote, MemoryKeyStore, freshRead, testRepository } from './support.ts';

const START = new Date('2026-03-01T12:00:00Z');
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

type Json = Record<string, any>;
function signed(bytes: Uint8Array | undefined): Json {
  assert.ok(bytes);
  return (parseJson(bytes, 'f') as { signed: Json }).signed;
}
function sigIds(bytes: Uint8Array | undefined): string[] {
  assert.ok(bytes);
  return (parseJson(bytes, 'f') as { signatures: Json[] }).signatures.map((s) => s['keyid']).sort();
}

async function published(): Promise<{ repo: Repository; remote: InProcessRemote; keys: MemoryKeyStore; gun: string }> {
  const trustDir = await mkdtemp(join(tmpdir(), 'vouch-rotate-'));
  dirs.push(trustDir);
  const gun = 'example.com/rotate/app';
  const now = (): Date => START;
  const remote = new InProcessRemote(gun, now);
  const keys = new MemoryKeyStore();
  const repo = testRepository({ gun, trustDir, remote, keys, cache: new MemoryMetadataCache(), now });
  await repo.initialize();
  await repo.addTarget({ name: 'v1', length: 1, hashes: new Map([['sha256', sha256(new Uint8Array([1]))]]) });
  await repo.publish();
  return { repo, remote, keys, gun };
}

function idsWithRole(keys: MemoryKeyStore, role: string): string[] {
  return [...keys.roles()].filter(([, r]) => r === role).map(([id]) => id);
}

describe('key rotate (spec §11)', () => {
  it('targets: a new local key replaces the old one in root and in the key store; targets re-signed with it', async () => {
    const { repo, remote, keys, gun } = await published();
    const [oldId] = idsWithRole(keys, 'targets');
    await repo.addTarget({ name: 'staged', length: 1, hashes: new Map([['sha256', sha256(new Uint8Array([2]))]]) });
    const out = await repo.rotateKey('targets');
    assert.deepEqual([...out.files.keys()], ['root', 'targets', 'snapshot']);
    const root = signed(out.files.get('root'));
    assert.equal(root['version'], 2);
    const [newId] = idsWithRole(keys, 'targets');
    assert.notEqual(newId, oldId);
    assert.deepEqual(root['roles']['targets']['keyids'], [newId]);
    assert.equal(root['keys'][oldId as string], undefined);
    assert.deepEqual(sigIds(out.files.get('targets')), [newId]);
    assert.equal(signed(out.files.get('targets'))['version'], 3);
    assert.equal((await repo.changelist.list()).length, 1, 'staged changes stay staged');
    const after = await freshRead(remote, gun, START);
    assert.deepEqual([...after.targets.get('targets')!.signed.targets.keys()], ['v1']);
  });

  it('root: signed by the old and the new root key, old certificate kept in keys', async () => {
    const { repo, remote, keys, gun } = await published();
    const oldRootBytes = (await remote.current('root'))!;
    const oldRoot = signed(oldRootBytes);
    const oldCertId = oldRoot['roles']['root']['keyids'][0];
    const out = await repo.rotateKey('root');
    assert.deepEqual([...out.files.keys()], ['root', 'snapshot']);
    const root = signed(out.files.get('root'));
    const [newCertId] = root['roles']['root']['keyids'];
    assert.notEqual(newCertId, oldCertId);
    assert.ok(root['keys'][oldCertId], 'old root certificate stays in keys');
    assert.equal(root['keys'][newCertId]['keytype'], 'ecdsa-x509');
    assert.deepEqual(sigIds(out.files.get('root')), [oldCertId, newCertId].sort());
    assert.equal(idsWithRole(keys, 'root').length, 2, 'the old root key is kept');
    // a client that trusted the old root accepts the rotation
    const b = new RepoBuilder({ gun, now: START, prevRoot: Root.fromSigned(Envelope.parse(oldRootBytes, 'root').signed) });
    b.loadRoot((await remote.current('root'))!);
    assert.equal(b.root?.signed.version, 2);
  });

  it('root: rotating to a given key that is not a root key is refused; missing old root key cannot sign', async () => {
    const { repo, keys } = await published();
    const stray = generatePrivateKey('ecdsa');
    await keys.add(stray, { role: 'targets', gun: 'x' });
    await assert.rejects(repo.rotateKey('root', { keyIds: [canonicalKeyId(stray.publicKey)] }), /attempted to load root key but given targets key instead/);
    await assert.rejects(repo.rotateKey('root', { keyIds: ['0'.repeat(64)] }), /unable to find key: 0{64}/);
    for (const id of idsWithRole(keys, 'root')) await keys.remove(id);
    await assert.rejects(repo.rotateKey('root'), (err) => err instanceof InsufficientSignaturesError && err.foundKeys === 0);
  });

  it('root: rotates to an imported key', async () => {
    const { repo, keys } = await published();
    const imported = generatePrivateKey('ecdsa');
    const out = await repo.rotateKey('root', { keys: [imported] });
    assert.equal(keys.keys.get(canonicalKeyId(imported.publicKey))?.role, 'root');
    const root = signed(out.files.get('root'));
    const newCert = root['keys'][root['roles']['root']['keyids'][0]];
    assert.equal(canonicalKeyId({ keytype: newCert['keytype'], public: Buffer.from(newCert['keyval']['public'], 'base64') }), canonicalKeyId(imported.publicKey));
  });

  it('snapshot to the server: root alone is sent, the server signs snapshots from then on', async () => {
    const { repo, remote, keys, gun } = await published();
    const [oldSnap] = idsWithRole(keys, 'snapshot');
    const out = await repo.rotateKey('snapshot', { serverManaged: true });
    assert.deepEqual([...out.files.keys()], ['root']);
    assert.deepEqual(idsWithRole(keys, 'snapshot'), [], `old snapshot key ${oldSnap} removed`);
    const after = await freshRead(remote, gun, START);
    const snapKey = after.root.signed.baseRole('snapshot');
    assert.deepEqual([...snapKey.keys.keys()], [tufKeyId(await remote.getKey('snapshot'))]);
    assert.equal(after.snapshot.signed.version, 3);
    // a delegate without any snapshot key can now publish
    await repo.addTarget({ name: 'v2', length: 1, hashes: new Map([['sha256', sha256(new Uint8Array([3]))]]) });
    const next = await repo.publish();
    assert.deepEqual([...next.files.keys()], ['targets']);
  });

  it('timestamp on the server: root re-signed with the new timestamp key', async () => {
    const { repo, remote, gun } = await published();
    const out = await repo.rotateKey('timestamp', { serverManaged: true });
    assert.deepEqual([...out.files.keys()], ['root', 'snapshot']);
    const after = await freshRead(remote, gun, START);
    assert.equal(after.timestamp.signed.version, 2);
    assert.deepEqual(signed(out.files.get('root'))['roles']['timestamp']['keyids'], [...after.root.signed.baseRole('timestamp').keys.keys()]);
  });

  it('refuses roles notary refuses', async () => {
    const { repo } = await published();
    await assert.rejects(repo.rotateKey('targets/releases'), /notary does not currently permit rotating the targets\/releases key/);
    await assert.rejects(repo.rotateKey('targets', { serverManaged: true }), InvalidRemoteRoleError);
    await assert.rejects(repo.rotateKey('timestamp'), InvalidLocalRoleError);
    await assert.rejects(repo.rotateKey('root', { serverManaged: true }), /notary does not permit the server managing the root key/);
  });

  it('--legacy: root also signed by the root keys of older versions', async () => {
    const { repo, remote } = await published();
    const v1RootId = signed((await remote.current('root'))!)['roles']['root']['keyids'][0];
    await repo.rotateKey('root');
    const v2Root = signed((await remote.current('root'))!);
    const v2RootId = v2Root['roles']['root']['keyids'][0];
    await repo.rotateKey('root');
    const v3 = signed((await remote.current('root'))!);
    const v3RootId = v3['roles']['root']['keyids'][0];
    // without legacy: the current root keys only
    const plain = await repo.rotateKey('targets');
    assert.deepEqual(sigIds(plain.files.get('root')), [v3RootId]);
    const legacy = await repo.rotateKey('targets', { legacyVersions: -1 });
    assert.deepEqual(sigIds(legacy.files.get('root')), [v1RootId, v2RootId, v3RootId].sort());
    const one = await repo.rotateKey('targets', { legacyVersions: 1 });
    // current version 5 and version 4 both list the v3 root key only
    assert.deepEqual(sigIds(one.files.get('root')), [v3RootId]);
  });
});
