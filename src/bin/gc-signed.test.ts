import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { DeserializationError } from '../errors/index.ts';
import { MemoryMetaStore } from '../storage/index.ts';
import { listGuns, repositoriesOf, signedDigests, signedManifests } from './gc-signed.ts';

const EXPIRES = '2099-01-01T00:00:00Z';
const hex = (s: string): string => createHash('sha256').update(s).digest('hex');
const b64 = (h: string): string => Buffer.from(h, 'hex').toString('base64');
const envelope = (signed: unknown): Uint8Array => Buffer.from(JSON.stringify({ signed, signatures: [] }));
const target = (content: string) => ({ length: content.length, hashes: { sha256: b64(hex(content)) } });

function targets(files: Record<string, string>, delegations: string[] = []): Uint8Array {
  return envelope({
    _type: 'Targets',
    version: 1,
    expires: EXPIRES,
    targets: Object.fromEntries(Object.entries(files).map(([name, content]) => [name, target(content)])),
    delegations: { keys: {}, roles: delegations.map((name) => ({ name, keyids: [], threshold: 1, paths: [''] })) },
  });
}

function snapshot(roles: string[]): Uint8Array {
  return envelope({ _type: 'Snapshot', version: 1, expires: EXPIRES, meta: Object.fromEntries(['root', 'targets', ...roles].map((r) => [r, target(r)])) });
}

/** One publish of `gun` (with a timestamp, so the changefeed names it). */
async function publish(store: MemoryMetaStore, gun: string, roles: Record<string, Uint8Array>, version = 1): Promise<void> {
  const ts = envelope({ _type: 'Timestamp', version, expires: EXPIRES, meta: {} });
  await store.updateMany(gun, [...Object.entries(roles).map(([role, data]) => ({ role, version, data })), { role: 'timestamp', version, data: ts }]);
}

describe('vouch gc: what the trust data signs', () => {
  it('a GUN names its repository with or without its registry host', () => {
    assert.deepEqual(repositoriesOf('127.0.0.1:5000/team/app'), ['127.0.0.1:5000/team/app', 'team/app']);
    assert.deepEqual(repositoriesOf('registry.example.com/team/app'), ['registry.example.com/team/app', 'team/app']);
    assert.deepEqual(repositoriesOf('localhost/app'), ['localhost/app', 'app']);
    assert.deepEqual(repositoriesOf('[::1]:5000/app'), ['[::1]:5000/app', 'app']);
    assert.deepEqual(repositoriesOf('team/app'), ['team/app'], 'no host: the repository itself');
    assert.deepEqual(repositoriesOf('app'), ['app']);
  });

  it('targets, delegations found from targets down and from the snapshot, by repository', async () => {
    const store = new MemoryMetaStore();
    await publish(store, '127.0.0.1:5000/team/app', {
      targets: targets({ v1: 'a' }, ['targets/releases']),
      'targets/releases': targets({ v2: 'b' }, ['targets/releases/ci']),
      'targets/releases/ci': targets({ v3: 'c' }),
      'targets/alice': targets({ v4: 'd' }), // listed by the snapshot only
      snapshot: snapshot(['targets/releases', 'targets/releases/ci', 'targets/alice']),
    });
    await publish(store, 'other/repo', { targets: targets({ latest: 'e' }) });
    await publish(store, 'gone.example/x', { targets: targets({ v1: 'f' }) });
    await store.delete('gone.example/x');

    assert.deepEqual(await listGuns(store), ['127.0.0.1:5000/team/app', 'other/repo', 'gone.example/x']);
    assert.deepEqual([...(await signedDigests(store, '127.0.0.1:5000/team/app'))!].sort(), ['a', 'b', 'c', 'd'].map((c) => `sha256:${hex(c)}`).sort());
    assert.equal(await signedDigests(store, 'gone.example/x'), null);

    const signed = await signedManifests(store);
    assert.equal(signed.guns, 2);
    assert.equal(signed.size, 5, '4 digests in team/app, 1 in other/repo');
    assert.equal(signed.has('team/app', `sha256:${hex('d')}`), true);
    assert.equal(signed.has('127.0.0.1:5000/team/app', `sha256:${hex('a')}`), true);
    assert.equal(signed.has('other/repo', `sha256:${hex('e')}`), true);
    assert.equal(signed.has('team/app', `sha256:${hex('e')}`), false, 'another repository’s signature');
    assert.equal(signed.has('x', `sha256:${hex('f')}`), false, 'a deleted GUN signs nothing');
  });

  it('the current version counts: a target removed by a later publish is no longer kept', async () => {
    const store = new MemoryMetaStore();
    await publish(store, 'h.example/app', { targets: targets({ v1: 'old', v2: 'kept' }) });
    await publish(store, 'h.example/app', { targets: targets({ v2: 'kept' }) }, 2);
    const signed = await signedManifests(store);
    assert.equal(signed.has('app', `sha256:${hex('old')}`), false);
    assert.equal(signed.has('app', `sha256:${hex('kept')}`), true);
  });

  it('pages through a long changefeed', async () => {
    const store = new MemoryMetaStore();
    for (let i = 0; i < 1005; i++) await publish(store, `h.example/r${i}`, { targets: targets({}) });
    assert.equal((await listGuns(store)).length, 1005);
  });

  it('metadata that cannot be read stops the run, naming the GUN and role', async () => {
    const store = new MemoryMetaStore();
    await publish(store, 'h.example/app', { targets: targets({}, ['targets/bad']), 'targets/bad': Buffer.from('{not json') });
    await assert.rejects(signedManifests(store), (err: Error) => err instanceof DeserializationError && /cannot read targets\/bad of h\.example\/app/.test(err.message));
  });
});
