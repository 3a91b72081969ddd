/**
 * Repository against vouch's in-process trust service: initialise, first publish, later
 * publishes, targets in delegations, failures that must leave everything untouched (spec §10.4).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { canonicalize, encodeEnvelope, fromBase64, parseJson, sha256 } from '../../src/canonical/index.ts';
import { canonicalKeyId, generatePrivateKey, parseCertificateChain, tufKeyId } from '../../src/crypto/index.ts';
import { DownloadError } from '../../src/errors/index.ts';
import { Repository } from '../../src/client/repo.ts';
import { NoSigningKeysError, TargetsNotAddedError } from '../../src/client/repo-errors.ts';
import { MemoryMetadataCache } from '../../src/client/cache.ts';
import { InProcessRemote, MemoryKeyStore, freshRead, testRepository } from './support.ts';

const START = new Date('2026-03-01T12:00:00Z');
const enc = new TextEncoder();
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

type Json = Record<string, any>;
function doc(bytes: Uint8Array | null | undefined): { signed: Json; signatures: Json[] } {
  assert.ok(bytes, 'expected a file');
  return parseJson(bytes, 'file') as { signed: Json; signatures: Json[] };
}

/** What Go writes for this file's parsed content: the emitted bytes must be exactly that. */
function goBytes(bytes: Uint8Array): Uint8Array {
  const d = doc(bytes);
  return encodeEnvelope(
    canonicalize(d.signed),
    d.signatures.map((s) => ({ keyid: s['keyid'], method: s['method'], sig: fromBase64(s['sig']) })),
  );
}

async function snapshotOf(cache: MemoryMetadataCache): Promise<Map<string, Uint8Array | null>> {
  const out = new Map<string, Uint8Array | null>();
  for (const role of cache.roles()) out.set(role, await cache.get(role));
  return out;
}

function hashes(content: string): Map<string, Uint8Array> {
  return new Map([['sha256', sha256(enc.encode(content))]]);
}

interface Env {
  gun: string;
  clock: { now: Date };
  remote: InProcessRemote;
  keys: MemoryKeyStore;
  cache: MemoryMetadataCache;
  repo: Repository;
  trustDir: string;
}

async function setup(gun = 'example.com/write/app', shared?: { remote?: InProcessRemote; keys?: MemoryKeyStore }): Promise<Env> {
  const trustDir = await mkdtemp(join(tmpdir(), 'vouch-write-'));
  dirs.push(trustDir);
  const clock = { now: START };
  const now = (): Date => clock.now;
  const remote = shared?.remote?.forGun(gun) ?? new InProcessRemote(gun, now);
  const keys = shared?.keys ?? new MemoryKeyStore();
  const cache = new MemoryMetadataCache();
  const repo = testRepository({ gun, trustDir, remote, keys, cache, now });
  return { gun, clock, remote, keys, cache, repo, trustDir };
}

describe('initialize (spec §3.1, §4, §11 init)', () => {
  it('creates keys and writes root v1, targets v1, snapshot v1 to the cache', async () => {
    const e = await setup();
    const r = await e.repo.initialize();
    assert.equal(r.createdRootKey, true);
    assert.deepEqual([...e.keys.roles().values()].sort(), ['root', 'snapshot', 'targets']);
    const [rootId] = r.rootKeyIds;
    assert.equal(e.keys.keys.get(rootId as string)?.gun, '');
    assert.deepEqual(e.cache.roles(), ['root', 'snapshot', 'targets']);

    const root = doc((await e.cache.get('root'))).signed;
    assert.equal(root['version'], 1);
    assert.equal(root['expires'], '2036-02-27T12:00:00Z'); // now + 3650 days
    assert.deepEqual(Object.keys(root['roles']).sort(), ['root', 'snapshot', 'targets', 'timestamp']);
    const rootKeyId = root['roles']['root']['keyids'][0];
    const rootKey = root['keys'][rootKeyId];
    assert.equal(rootKey['keytype'], 'ecdsa-x509');
    const cert = parseCertificateChain(new TextDecoder().decode(fromBase64(rootKey['keyval']['public'])))[0];
    assert.equal(cert?.commonName, e.gun);
    assert.equal(canonicalKeyId({ keytype: 'ecdsa-x509', public: fromBase64(rootKey['keyval']['public']) }), rootId);
    const tsKey = await e.remote.getKey('timestamp');
    assert.deepEqual(root['roles']['timestamp']['keyids'], [tufKeyId(tsKey)]);

    const targets = doc((await e.cache.get('targets'))).signed;
    assert.deepEqual(targets, { _type: 'Targets', delegations: { keys: {}, roles: [] }, expires: '2029-02-28T12:00:00Z', targets: {}, version: 1 });
    const snapshot = doc((await e.cache.get('snapshot'))).signed;
    assert.equal(snapshot['version'], 1);
    assert.deepEqual(Object.keys(snapshot['meta']).sort(), ['root', 'targets']);
    for (const role of ['root', 'targets', 'snapshot']) {
      const bytes = (await e.cache.get(role))!;
      assert.deepEqual(goBytes(bytes), bytes);
    }

    const again = await e.repo.initialize();
    assert.equal(again.createdRootKey, false);
    assert.deepEqual(again.rootKeyIds, r.rootKeyIds);
  });

  it('leaves the snapshot to the server when asked, and refuses other server-managed roles', async () => {
    const e = await setup();
    await e.repo.initialize({ serverManagedRoles: ['snapshot'] });
    assert.deepEqual(e.cache.roles(), ['root', 'targets']);
    assert.deepEqual([...e.keys.roles().values()].sort(), ['root', 'targets']);
    const root = doc((await e.cache.get('root'))).signed;
    assert.deepEqual(root['roles']['snapshot']['keyids'], [tufKeyId(await e.remote.getKey('snapshot'))]);
    await assert.rejects(e.repo.initialize({ serverManagedRoles: ['targets'] }), /notary does not permit the server managing the targets key/);
  });

  it('uses a given root certificate only when its private key is held', async () => {
    const e = await setup();
    const first = await e.repo.initialize();
    const rootDoc = doc((await e.cache.get('root'))).signed;
    const rootKey = rootDoc['keys'][rootDoc['roles']['root']['keyids'][0]];
    const pem = new TextDecoder().decode(fromBase64(rootKey['keyval']['public']));
    const again = await e.repo.initialize({ rootCertPem: pem });
    assert.deepEqual(again.rootKeyIds, first.rootKeyIds);
    assert.equal(doc((await e.cache.get('root'))).signed['roles']['root']['keyids'][0], rootDoc['roles']['root']['keyids'][0]);
    const other = await setup();
    await assert.rejects(other.repo.initialize({ rootCertPem: pem }), /cannot find matching private key id/);
  });
});

describe('publish (spec §10.4, Appendix B)', () => {
  it('first publish sends the cached root v1 unchanged, targets v2 and snapshot v2', async () => {
    const e = await setup();
    await e.repo.initialize();
    const cachedRoot = (await e.cache.get('root'));
    await e.repo.addTarget({ name: 'v1', length: 11, hashes: hashes('hello world') });
    const out = await e.repo.publish();
    assert.equal(out.initialPublish, true);
    assert.equal(out.initialized, null);
    assert.deepEqual([...out.files.keys()], ['root', 'targets', 'snapshot']);
    assert.deepEqual(out.files.get('root'), cachedRoot);
    assert.equal(doc(out.files.get('targets')).signed['version'], 2);
    assert.equal(doc(out.files.get('snapshot')).signed['version'], 2);
    for (const bytes of out.files.values()) assert.deepEqual(goBytes(bytes), bytes);
    assert.deepEqual(await e.repo.changelist.list(), []);
    const remote = await freshRead(e.remote, e.gun, START);
    assert.deepEqual([...remote.targets.get('targets')!.signed.targets.keys()], ['v1']);
    assert.equal(remote.timestamp.signed.version, 1);
    assert.deepEqual((await e.cache.get('root')), cachedRoot, 'a publish does not write the cache');
  });

  it('initialises on the spot when nothing exists locally or remotely', async () => {
    const e = await setup();
    await e.repo.addTarget({ name: 'v1', length: 3, hashes: hashes('abc') });
    const out = await e.repo.publish();
    assert.notEqual(out.initialized, null);
    assert.equal(out.initialized?.createdRootKey, true);
    assert.deepEqual(
      [...out.files].map(([r, b]) => [r, doc(b).signed['version']]),
      [['root', 1], ['targets', 2], ['snapshot', 2]],
    );
    assert.ok((await freshRead(e.remote, e.gun, START)).targets.get('targets')!.signed.targets.has('v1'));
  });

  it('with a server-managed snapshot sends root and targets only', async () => {
    const e = await setup();
    await e.repo.initialize({ serverManagedRoles: ['snapshot'] });
    await e.repo.addTarget({ name: 'v1', length: 3, hashes: hashes('abc') });
    const out = await e.repo.publish();
    assert.deepEqual([...out.files.keys()], ['root', 'targets']);
    const remote = await freshRead(e.remote, e.gun, START);
    assert.equal(remote.snapshot.signed.version, 1);
    assert.ok(remote.targets.get('targets')!.signed.targets.has('v1'));
  });

  it('later publishes send only changed roles plus a re-signed snapshot, version + 1 each', async () => {
    const e = await setup();
    await e.repo.initialize();
    await e.repo.publish();
    e.clock.now = new Date(START.getTime() + 86_400_000);
    await e.repo.addTarget({ name: 'v2', length: 3, hashes: hashes('xyz'), customJson: enc.encode('{"a": [1, 2]}') });
    const out = await e.repo.publish();
    assert.equal(out.initialPublish, false);
    assert.deepEqual([...out.files.keys()], ['targets', 'snapshot']);
    const t = doc(out.files.get('targets')).signed;
    assert.equal(t['version'], 3);
    assert.equal(t['expires'], '2029-03-01T12:00:00Z');
    assert.deepEqual(t['targets']['v2']['custom'], { a: [1, 2] });
    assert.equal(doc(out.files.get('snapshot')).signed['version'], 3);
    // nothing staged: the snapshot alone is re-signed
    const again = await e.repo.publish();
    assert.deepEqual([...again.files.keys()], ['snapshot']);
    assert.equal(doc(again.files.get('snapshot')).signed['version'], 4);
  });

  it('a failed publish leaves the changelist and the cache untouched', async () => {
    const e = await setup();
    await e.repo.initialize();
    await e.repo.addTarget({ name: 'v1', length: 3, hashes: hashes('abc') });
    const cacheBefore = await snapshotOf(e.cache);
    e.remote.failNextPublish = new DownloadError('unable to reach trust server at this time: 503.', 503);
    await assert.rejects(e.repo.publish(), /503/);
    assert.equal((await e.repo.changelist.list()).length, 1);
    assert.deepEqual(await snapshotOf(e.cache), cacheBefore);
    assert.equal(await e.remote.current('root'), null);
    await e.repo.publish();
    assert.deepEqual(await e.repo.changelist.list(), []);
  });
});

describe('targets in delegations (spec §10.4 step 2)', () => {
  async function withReleases(paths: string[]): Promise<{ e: Env; alice: ReturnType<typeof generatePrivateKey> }> {
    const e = await setup();
    await e.repo.initialize();
    const alice = generatePrivateKey('ecdsa');
    await e.keys.add(alice, { role: 'targets/releases' });
    await e.repo.addDelegation('targets/releases', [alice.publicKey], paths);
    await e.repo.publish();
    return { e, alice };
  }

  it('adds a target to a delegation whose key is held, creating its metadata at version 1', async () => {
    const { e, alice } = await withReleases(['']);
    await e.repo.addTarget({ name: 'rel1', length: 3, hashes: hashes('abc') }, ['targets/releases']);
    const out = await e.repo.publish();
    assert.deepEqual([...out.files.keys()], ['targets/releases', 'snapshot']);
    const rel = doc(out.files.get('targets/releases'));
    assert.equal(rel.signed['version'], 1);
    assert.deepEqual(rel.signatures.map((s) => s['keyid']), [tufKeyId(alice.publicKey)]);
    assert.deepEqual(rel.signed['delegations'], { keys: {}, roles: [] });
    const remote = await freshRead(e.remote, e.gun, START);
    assert.ok(remote.targets.get('targets/releases')!.signed.targets.has('rel1'));
  });

  it('refuses a name outside the delegation paths with "Could not add all targets" and sends nothing', async () => {
    const { e } = await withReleases(['a/']);
    await e.repo.addTarget({ name: 'b/x', length: 3, hashes: hashes('abc') }, ['targets/releases']);
    const sent = e.remote.published.length;
    await assert.rejects(e.repo.publish(), (err) => err instanceof TargetsNotAddedError && err.message === 'Could not add all targets');
    assert.equal(e.remote.published.length, sent);
    assert.equal((await e.repo.changelist.list()).length, 1);
  });

  it('names the missing keys by canonical ID when the role key is not held', async () => {
    const { e, alice } = await withReleases(['']);
    await e.keys.remove(canonicalKeyId(alice.publicKey));
    await e.repo.addTarget({ name: 'rel1', length: 3, hashes: hashes('abc') }, ['targets/releases']);
    await assert.rejects(
      e.repo.publish(),
      (err) =>
        err instanceof NoSigningKeysError &&
        err.message === `could not find necessary signing keys, at least one of these keys must be available: ${canonicalKeyId(alice.publicKey)}`,
    );
  });

  it('removing an absent target needs no key; witness re-signs with version + 1', async () => {
    const { e } = await withReleases(['']);
    await e.repo.removeTarget('nope', ['targets']);
    await e.repo.witness(['targets']);
    const out = await e.repo.publish();
    assert.deepEqual([...out.files.keys()], ['targets', 'snapshot']);
    assert.equal(doc(out.files.get('targets')).signed['version'], 3);
    await e.repo.witness(['targets/nope']);
    await assert.rejects(e.repo.publish(), /tuf: invalid role targets\/nope\. this role is not known/);
  });
});

describe('delete (spec §11 delete)', () => {
  it('deleteLocal removes tuf/<gun> (changelist included), deleteRemote the server copy; keys stay', async () => {
    const e = await setup('example.com/write/deleted');
    await e.repo.initialize();
    await e.repo.publish();
    await e.repo.addTarget({ name: 'v1', length: 3, hashes: hashes('abc') });
    const keyCount = e.keys.keys.size;
    await e.repo.deleteLocal();
    assert.deepEqual(await e.repo.changelist.list(), []);
    await assert.rejects(stat(join(e.trustDir, 'tuf', 'example.com', 'write', 'deleted')), /ENOENT/);
    assert.equal(e.keys.keys.size, keyCount);
    assert.notEqual(await e.remote.current('root'), null);
    await e.repo.deleteRemote();
    assert.equal(await e.remote.current('root'), null);
  });

  it('a cached root that does not verify stops a first publish before anything is sent', async () => {
    const e = await setup();
    await e.repo.initialize();
    const root = (await e.cache.get('root'))!;
    await e.cache.set('root', root.map((b, i) => (i === root.length - 10 ? b ^ 1 : b)));
    await assert.rejects(e.repo.publish());
    assert.equal(e.remote.published.length, 0);
  });
});

