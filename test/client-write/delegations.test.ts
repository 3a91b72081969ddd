/**
 * Delegation changes applied at publish (spec §4.3, §9.4): keys, paths, deletion, purge, nested
 * delegations, and notary's quirks (`keyids: null`, unused keys pruned, threshold kept).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseJson, sha256 } from '../../src/canonical/index.ts';
import { canonicalKeyId, certificateToTufKey, generatePrivateKey, generateRootCertificate, tufKeyId } from '../../src/crypto/index.ts';
import type { PrivateKey } from '../../src/crypto/types.ts';
import { Repository } from '../../src/client/repo.ts';
import { MemoryMetadataCache } from '../../src/client/cache.ts';
import { InProcessRemote, MemoryKeyStore, freshRead, testRepository } from './support.ts';

const START = new Date('2026-03-01T12:00:00Z');
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

type Json = Record<string, any>;
function signed(bytes: Uint8Array | undefined | null): Json {
  assert.ok(bytes);
  return (parseJson(bytes, 'f') as { signed: Json }).signed;
}

interface Env {
  clock: { now: Date };
  repo: Repository;
  remote: InProcessRemote;
  keys: MemoryKeyStore;
  gun: string;
  warnings: string[];
}

async function setup(): Promise<Env> {
  const trustDir = await mkdtemp(join(tmpdir(), 'vouch-deleg-'));
  dirs.push(trustDir);
  const gun = 'example.com/deleg/app';
  const clock = { now: START };
  const now = (): Date => clock.now;
  const remote = new InProcessRemote(gun, now);
  const keys = new MemoryKeyStore();
  const warnings: string[] = [];
  const repo = testRepository({ gun, trustDir, remote, keys, cache: new MemoryMetadataCache(), now, warn: (m) => warnings.push(m) });
  await repo.initialize();
  await repo.publish();
  return { clock, repo, remote, keys, gun, warnings };
}

async function heldKey(e: Env, role: string): Promise<PrivateKey> {
  const k = generatePrivateKey('ecdsa');
  await e.keys.add(k, { role });
  return k;
}

const target = (n: number) => ({ name: `t${n}`, length: 1, hashes: new Map([['sha256', sha256(new Uint8Array([n]))]]) });

describe('delegation changes (spec §4.3, §9.4)', () => {
  it('add: keys with threshold 1 and paths land in the parent; only the parent is re-signed', async () => {
    const e = await setup();
    const alice = await heldKey(e, 'alice');
    await e.repo.addDelegation('targets/releases', [alice.publicKey], ['']);
    const out = await e.repo.publish();
    assert.deepEqual([...out.files.keys()], ['targets', 'snapshot']);
    assert.deepEqual(signed(out.files.get('targets'))['delegations'], {
      keys: { [tufKeyId(alice.publicKey)]: { keytype: 'ecdsa', keyval: { private: null, public: Buffer.from(alice.publicKey.public).toString('base64') } } },
      roles: [{ keyids: [tufKeyId(alice.publicKey)], name: 'targets/releases', paths: [''], threshold: 1 }],
    });
  });

  it('remove keys by canonical ID (x509 keys too): keyids null, unused keys pruned, a warning', async () => {
    const e = await setup();
    const bob = generatePrivateKey('ecdsa');
    const bobCert = certificateToTufKey(generateRootCertificate(bob, 'bob', START));
    const alice = await heldKey(e, 'alice');
    await e.repo.addDelegation('targets/releases', [bobCert, alice.publicKey], ['']);
    await e.repo.publish();
    await e.repo.removeDelegationKeysAndPaths('targets/releases', [canonicalKeyId(bobCert)], []);
    let t = signed((await e.repo.publish()).files.get('targets'));
    assert.deepEqual(t['delegations']['roles'][0]['keyids'], [tufKeyId(alice.publicKey)]);
    assert.deepEqual(Object.keys(t['delegations']['keys']), [tufKeyId(alice.publicKey)]);
    await e.repo.removeDelegationKeys('targets/releases', [canonicalKeyId(alice.publicKey)]);
    t = signed((await e.repo.publish()).files.get('targets'));
    assert.deepEqual(t['delegations'], { keys: {}, roles: [{ keyids: null, name: 'targets/releases', paths: [''], threshold: 1 }] });
    // notary warns from both halves of the update (keys, then paths)
    assert.deepEqual(new Set(e.warnings), new Set(['role targets/releases has fewer keys than its threshold of 1; it will not be usable until keys are added to it']));
  });

  it('remove and clear paths (omitted when empty); an existing threshold is never changed', async () => {
    const e = await setup();
    const alice = await heldKey(e, 'alice');
    await e.repo.addDelegation('targets/releases', [alice.publicKey], ['a/', 'b/', 'c/']);
    await e.repo.removeDelegationPaths('targets/releases', ['b/']);
    let t = signed((await e.repo.publish()).files.get('targets'));
    assert.deepEqual(t['delegations']['roles'][0]['paths'], ['a/', 'c/']);
    await e.repo.clearDelegationPaths('targets/releases');
    await e.repo.addDelegationRoleAndKeys('targets/releases', [alice.publicKey]);
    t = signed((await e.repo.publish()).files.get('targets'));
    assert.deepEqual(t['delegations']['roles'], [{ keyids: [tufKeyId(alice.publicKey)], name: 'targets/releases', threshold: 1 }]);
  });

  it('paths without keys cannot create a delegation', async () => {
    const e = await setup();
    await e.repo.addDelegationPaths('targets/releases', ['']);
    await assert.rejects(e.repo.publish(), (err: Error) => err.message === 'tuf: invalid role targets/releases.');
  });

  it('nested delegations: the parent key holder edits them, paths must stay inside the parent', async () => {
    const e = await setup();
    const alice = await heldKey(e, 'alice');
    const carol = await heldKey(e, 'carol');
    await e.repo.addDelegation('targets/releases', [alice.publicKey], ['app/']);
    await e.repo.publish();
    await e.repo.addDelegation('targets/releases/qa', [carol.publicKey], ['other/']);
    await assert.rejects(e.repo.publish(), /tuf: invalid role targets\/releases\/qa\. invalid paths to add to role/);
    await e.repo.changelist.clear();
    await e.repo.addDelegation('targets/releases/qa', [carol.publicKey], ['app/qa/']);
    await e.repo.addTarget({ ...target(1), name: 'app/qa/t1' }, ['targets/releases/qa']);
    const out = await e.repo.publish();
    assert.deepEqual([...out.files.keys()], ['targets/releases', 'targets/releases/qa', 'snapshot']);
    assert.equal(signed(out.files.get('targets/releases'))['version'], 1);
    const remote = await freshRead(e.remote, e.gun, START);
    assert.ok(remote.targets.get('targets/releases/qa')!.signed.targets.has('app/qa/t1'));
  });

  it('delete: the role leaves its parent and the client-signed snapshot', async () => {
    const e = await setup();
    const alice = await heldKey(e, 'alice');
    await e.repo.addDelegation('targets/releases', [alice.publicKey], ['']);
    await e.repo.addTarget(target(1), ['targets/releases']);
    let out = await e.repo.publish();
    assert.ok(signed(out.files.get('snapshot'))['meta']['targets/releases']);
    await e.repo.removeDelegationRole('targets/releases');
    out = await e.repo.publish();
    assert.deepEqual(signed(out.files.get('targets'))['delegations'], { keys: {}, roles: [] });
    assert.deepEqual(Object.keys(signed(out.files.get('snapshot'))['meta']).sort(), ['root', 'targets']);
    const remote = await freshRead(e.remote, e.gun, START);
    assert.deepEqual([...remote.targets.keys()], ['targets']);
  });

  it('purge (targets/*): a key leaves every delegation that lists it', async () => {
    const e = await setup();
    const alice = await heldKey(e, 'alice');
    const bob = await heldKey(e, 'bob');
    await e.repo.addDelegation('targets/releases', [alice.publicKey, bob.publicKey], ['']);
    await e.repo.addDelegation('targets/qa', [bob.publicKey], ['']);
    await e.repo.addTarget(target(1), ['targets/releases']);
    await e.repo.publish();
    await e.repo.removeDelegationKeys('targets/*', [canonicalKeyId(bob.publicKey)]);
    const out = await e.repo.publish();
    const d = signed(out.files.get('targets'))['delegations'];
    assert.deepEqual(d['roles'], [
      { keyids: [tufKeyId(alice.publicKey)], name: 'targets/releases', paths: [''], threshold: 1 },
      { keyids: null, name: 'targets/qa', paths: [''], threshold: 1 },
    ]);
    assert.deepEqual(Object.keys(d['keys']), [tufKeyId(alice.publicKey)]);
  });

  it('a delegation change needs a key of the parent role', async () => {
    const e = await setup();
    const alice = await heldKey(e, 'alice');
    const [targetsId] = [...e.keys.roles()].filter(([, r]) => r === 'targets').map(([id]) => id);
    await e.keys.remove(targetsId as string);
    await e.repo.addDelegation('targets/releases', [alice.publicKey], ['']);
    await assert.rejects(e.repo.publish(), new RegExp(`at least one of these keys must be available: ${targetsId}$`));
  });

  it('witness brings back a delegation that expired, re-signed by its own key', async () => {
    const e = await setup();
    const alice = await heldKey(e, 'alice');
    await e.repo.addDelegation('targets/releases', [alice.publicKey], ['']);
    await e.repo.addTarget(target(1), ['targets/releases']);
    await e.repo.publish();
    const day = 86_400_000;
    e.clock.now = new Date(START.getTime() + 700 * day);
    await e.repo.witness(['targets']);
    await e.repo.publish();
    e.clock.now = new Date(START.getTime() + 1100 * day); // targets/releases expired (1095 days)
    const before = await freshRead(e.remote, e.gun, e.clock.now);
    assert.match(before.invalidRoles.get('targets/releases') ?? '', /targets\/releases expired at/);
    await e.repo.witness(['targets/releases']);
    const out = await e.repo.publish();
    assert.deepEqual([...out.files.keys()], ['targets/releases', 'snapshot']);
    assert.equal(signed(out.files.get('targets/releases'))['version'], 2);
    const repaired = await freshRead(e.remote, e.gun, e.clock.now);
    assert.ok(repaired.targets.get('targets/releases')!.signed.targets.has('t1'));
  });
});
