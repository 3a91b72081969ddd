/**
 * The client update workflow (spec §10.1–10.2), one positive and one negative test per step,
 * against an in-memory RepoServer behind the real HttpRemoteStore. Negative tests also check
 * that a refused update leaves the cache exactly as it was.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sha256, sha256Hex } from '../../src/canonical/index.ts';
import { ExpiredMetadataError } from '../../src/errors/index.ts';
import { MaliciousServerError, OfflineError } from '../../src/http/client-errors.ts';
import type { Fetcher } from '../../src/http/fetcher.ts';
import { OfflineRemoteStore } from '../../src/http/remote-store.ts';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileMetadataCache, gunDir } from '../../src/client/cache.ts';
import { Updater } from '../../src/client/updater.ts';
import { RepositoryNotExistError } from '../../src/client/updater-errors.ts';
import { getTargetByName, listTargets } from '../../src/client/walk.ts';
import { ChecksumMismatchError, RootRotationError, RootValidationError, ThresholdError } from '../../src/tuf/index.ts';
import { notFound } from '../support/malicious-server.ts';
import { generateKey, generateRootKey, resign, type TestRepo } from '../support/tuf-repo.ts';
import { GUN, NOW, world, withMessage, type World } from './support.ts';

const PAST = '2001-02-03T04:05:06Z';

/** A world whose cache holds a first successful update. */
async function warmed(): Promise<World> {
  const w = world();
  await w.updater().update();
  w.server.requests.length = 0;
  w.warnings.length = 0;
  return w;
}

function expireTimestamp(repo: TestRepo): Uint8Array {
  return resign(repo.bytes('timestamp'), repo.keys('timestamp'), (s) => (s['expires'] = PAST));
}

describe('§10.1 bootstrap', () => {
  it('10.1.1 positive: a valid cached root is trusted as is — root.json not fetched, trust_pinning not consulted', async () => {
    const w = await warmed();
    w.server.override('root.json', { status: 500 });
    const repo = await w.updater({ pinning: { certs: { [GUN]: ['00'.repeat(32)] }, disableTofu: true } }).update();
    assert.equal(repo.root.signed.version, 1);
    assert.ok(!w.server.metaRequests().includes('root.json'));
    assert.deepEqual(w.firstContacts.length, 1); // only the first contact of warmed()
  });

  it('10.1.1 negative: a cached root that does not verify is fatal and stays as it is', async () => {
    const w = await warmed();
    const bad = resign((await w.cache.get('root')) as Uint8Array, [generateKey()]);
    await w.cache.set('root', bad);
    const before = await w.cacheBytes();
    await assert.rejects(w.updater().update(), (e) => e instanceof RootValidationError && /^could not validate the path to a trusted root/.test(e.message));
    assert.deepEqual(await w.cacheBytes(), before);
    assert.deepEqual(w.server.requests, []);
  });

  it('10.1.1 positive: an expired cached root is the previous root for a newer one from the server', async () => {
    const w = world();
    const expired = resign(w.repo.bytes('root'), w.repo.keys('root'), (s) => (s['expires'] = PAST));
    await w.cache.set('root', expired);
    const repo = await w.updater().update();
    assert.equal(repo.root.signed.version, 1);
    assert.deepEqual(await w.cache.get('root'), w.repo.bytes('root'));
    assert.equal(w.firstContacts.length, 0);
  });

  it('10.1.1 negative: with an expired cached root, a server root not signed by it is refused', async () => {
    const w = world();
    const expired = resign(w.repo.bytes('root'), w.repo.keys('root'), (s) => (s['expires'] = PAST));
    await w.cache.set('root', expired);
    const stranger = generateRootKey(GUN, NOW);
    w.server.serve('root', w.repo.rotateRootKeys([stranger], [stranger]));
    await assert.rejects(w.updater().update(), withMessage(/^could not rotate trust to a new trusted root: failed to validate data with current trusted certificates$/));
    assert.deepEqual(await w.cache.get('root'), expired);
  });

  it('10.1.2 positive: first contact trusts the server root (TOFU), reports its key and caches everything', async () => {
    const w = world();
    const repo = await w.updater().update();
    assert.deepEqual(w.server.metaRequests().slice(0, 2), ['root.json', 'timestamp.json']);
    assert.equal(w.firstContacts.length, 1);
    assert.equal(w.firstContacts[0]?.trustedBy, 'tofu');
    assert.deepEqual(w.firstContacts[0]?.keys.map((k) => k.keyId), [w.repo.keys('root')[0]?.id]);
    for (const role of ['root', 'timestamp', 'snapshot', 'targets', 'targets/releases']) {
      assert.deepEqual(await w.cache.get(role), w.repo.bytes(role), role);
    }
    assert.equal(getTargetByName(repo, 'v1', ['targets/releases', 'targets']).role, 'targets/releases');
  });

  it('10.1.2 positive: a write operation fetches root.json even with a valid cached root', async () => {
    const w = await warmed();
    await w.updater().update({ forWrite: true });
    assert.equal(w.server.metaRequests()[0], 'root.json');
  });

  it('10.1.2 negative: first contact refused by disable_tofu or a non-matching pin; nothing cached', async () => {
    const w = world();
    await assert.rejects(w.updater({ pinning: { disableTofu: true } }).update(), withMessage(/^could not validate the path to a trusted root: invalid trust pinning specified$/));
    await assert.rejects(
      w.updater({ pinning: { certs: { [GUN]: ['ab'.repeat(32)] } } }).update(),
      withMessage(/^could not validate the path to a trusted root: unable to match any certificates to trust_pinning config$/),
    );
    assert.deepEqual(await w.cacheBytes(), new Map());
    assert.equal(w.firstContacts.length, 0);
    // the right pin works, and is reported as such
    await w.updater({ pinning: { certs: { [GUN]: [w.repo.keys('root')[0]?.id as string] }, disableTofu: true } }).update();
    assert.equal(w.firstContacts[0]?.trustedBy, 'certs');
  });

  it('10.1.3 negative: no root on the server is "<host> does not have trust data for <gun>", also for writes', async () => {
    const w = world();
    w.server.unserve('root');
    await assert.rejects(w.updater().update(), (e) => e instanceof RepositoryNotExistError && e.message === `trust.test:4443 does not have trust data for ${GUN}`);
    const cached = await warmed();
    cached.server.unserve('root');
    await assert.rejects(cached.updater().update({ forWrite: true }), RepositoryNotExistError);
  });

  it('10.1.3 positive: offline with a cached repository still reads it', async () => {
    const w = await warmed();
    const u = new Updater({ gun: GUN, remote: new OfflineRemoteStore(), cache: w.cache, now: () => NOW, onWarning: (m) => w.warnings.push(m) });
    const repo = await u.update();
    assert.equal(listTargets(repo).length, 2);
    assert.match(w.warnings[0] ?? '', /using cached timestamp/);
    const cold = world();
    await assert.rejects(new Updater({ gun: GUN, remote: new OfflineRemoteStore(), cache: cold.cache, now: () => NOW }).update(), OfflineError);
  });
});

describe('§10.2 step 1: timestamp', () => {
  it('10.2.1 positive: always downloaded; a newer one replaces the cached one', async () => {
    const w = await warmed();
    const cachedVersion = w.repo.signed('timestamp')['version'] as number;
    w.server.serve('timestamp', w.repo.refreshTimestamp());
    const repo = await w.updater().update();
    assert.equal(repo.timestamp.signed.version, cachedVersion + 1);
    assert.deepEqual(w.server.metaRequests(), ['timestamp.json']);
    assert.deepEqual(await w.cache.get('timestamp'), w.repo.bytes('timestamp'));
  });

  it('10.2.1 positive: 404, 401, 5xx and network errors fall back to the cached timestamp with a warning', async () => {
    for (const reply of [notFound(), { status: 401 }, { status: 503 }, { drop: true as const }]) {
      const w = await warmed();
      w.server.override('timestamp.json', reply);
      const repo = await w.updater().update();
      assert.deepEqual(repo.timestamp.bytes, await w.cache.get('timestamp'));
      assert.deepEqual(w.warnings, ['Error while downloading remote metadata, using cached timestamp - this might not be the latest version available remotely']);
    }
  });

  it('10.2.1 negative: a 400, an oversize body, or a failure with no usable cached timestamp aborts', async () => {
    const w = await warmed();
    const before = await w.cacheBytes();
    w.server.override('timestamp.json', { status: 400, body: '{}' });
    await assert.rejects(w.updater().update(), withMessage(/^timestamp: trust server rejected operation\.$/));
    w.server.override('timestamp.json', { endless: true });
    await assert.rejects(w.updater().update(), (e) => e instanceof MaliciousServerError && e.message === 'timestamp: trust server returned a bad response.');
    // the cached copy must still be valid to be used
    await w.cache.set('timestamp', expireTimestamp(w.repo));
    w.server.override('timestamp.json', { status: 503 });
    await assert.rejects(w.updater().update(), (e) => e instanceof ExpiredMetadataError && /^timestamp expired at Sat Feb 3 04:05:06 UTC 2001$/.test(e.message));
    await w.cache.set('timestamp', w.repo.bytes('timestamp'));
    assert.deepEqual(await w.cacheBytes(), before);
    const cold = world();
    cold.server.override('timestamp.json', { status: 503 });
    await assert.rejects(cold.updater().update(), withMessage(/^timestamp: unable to reach trust server at this time: 503\.$/));
  });
});

describe('§10.2 step 2: snapshot', () => {
  it('10.2.2 positive: cache first — an unchanged snapshot is not downloaded; a new one is fetched by checksum', async () => {
    const w = await warmed();
    await w.updater().update();
    assert.deepEqual(w.server.metaRequests(), ['timestamp.json']);
    const cachedVersion = w.repo.signed('snapshot')['version'] as number;
    w.repo.addTarget('targets', 'new', 'new-content');
    w.repo.publish('targets');
    w.server.publish(w.repo);
    w.server.requests.length = 0;
    const repo = await w.updater().update();
    const sha = Buffer.from(repo.timestamp.signed.meta.get('snapshot')?.hashes.get('sha256') as Uint8Array).toString('hex');
    assert.deepEqual(w.server.metaRequests().slice(0, 2), ['timestamp.json', `snapshot.${sha}.json`]);
    assert.equal(repo.snapshot.signed.version, cachedVersion + 1);
  });

  it('10.2.2 negative: a snapshot that does not match the timestamp is refused (after one retry) and nothing is cached', async () => {
    const w = await warmed();
    const before = await w.cacheBytes();
    w.repo.publish('targets');
    w.server.serve('timestamp', w.repo.bytes('timestamp'));
    const listed = sha256Hex(w.repo.bytes('snapshot'));
    // same length (one-digit versions, fixed-size signatures), other bytes: only the hash can tell
    const forged = resign(w.repo.bytes('snapshot'), w.repo.keys('snapshot'), (s) => (s['version'] = 9));
    assert.equal(forged.length, w.repo.bytes('snapshot').length);
    w.server.override(`snapshot.${listed}.json`, { status: 200, body: forged });
    await assert.rejects(w.updater().update(), (e) => e instanceof ChecksumMismatchError && /^sha256 checksum for snapshot did not match: expected [0-9a-f]{64}$/.test(e.message));
    assert.deepEqual(await w.cacheBytes(), before);
    assert.equal(w.server.metaRequests().filter((r) => r === 'timestamp.json').length, 2);
  });
});

describe('§10.2 step 3: targets and delegations', () => {
  it('10.2.3 positive: targets then delegations pre-order, each by checksum; unchanged roles come from the cache', async () => {
    const w = world();
    w.repo.addDelegation('targets', 'targets/a');
    w.repo.addDelegation('targets/a', 'targets/a/x');
    w.repo.addDelegation('targets', 'targets/b');
    w.repo.publish('targets', 'targets/a');
    w.server.publish(w.repo);
    const first = await w.updater().update();
    // verified (and listed) in pre-order; a role's listed children are downloaded together once it verified
    assert.deepEqual([...first.targets.keys()], ['targets', 'targets/releases', 'targets/a', 'targets/a/x', 'targets/b']);
    const order = w.server.metaRequests().slice(3).map((r) => r.replace(/\.[0-9a-f]{64}\.json$/, ''));
    assert.deepEqual(order, ['targets', 'targets/releases', 'targets/a', 'targets/b', 'targets/a/x']);
    w.repo.addTarget('targets/b', 'b1', 'b');
    w.repo.publish('targets/b');
    w.server.publish(w.repo);
    w.server.requests.length = 0;
    const repo = await w.updater().update();
    assert.deepEqual(w.server.metaRequests().map((r) => r.replace(/\.[0-9a-f]{64}\.json$/, '')), ['timestamp.json', 'snapshot', 'targets/b']);
    assert.equal(getTargetByName(repo, 'b1').role, 'targets/b');
  });

  it('10.2.3 negative: a delegation signed by the wrong key is skipped with a warning; the rest loads', async () => {
    const w = world();
    w.repo.addDelegation('targets', 'targets/bad');
    w.repo.addTarget('targets/bad', 'evil', 'x');
    w.repo.publish('targets');
    w.repo.sign('targets/bad', { keys: [generateKey()] });
    w.repo.refreshSnapshot();
    w.repo.refreshTimestamp();
    w.server.publish(w.repo);
    const repo = await w.updater().update();
    assert.deepEqual([...repo.invalidRoles.keys()], ['targets/bad']);
    assert.equal(repo.invalidRoles.get('targets/bad'), 'valid signatures did not meet threshold for targets/bad');
    assert.ok(w.warnings.includes('Error getting targets/bad: valid signatures did not meet threshold for targets/bad'));
    assert.deepEqual(listTargets(repo).map((t) => t.name), ['admin', 'v1']);
    assert.equal(await w.cache.get('targets/bad'), null);
  });

  it('10.2.3 positive: delegations downloaded together are still verified one by one in pre-order, whatever order they arrive in', async () => {
    const w = world();
    const names = Array.from({ length: 12 }, (_, i) => `targets/d${String(i).padStart(2, '0')}`);
    for (const [i, name] of names.entries()) {
      w.repo.addDelegation('targets', name);
      w.repo.addTarget(name, `t${i}`, name);
    }
    w.repo.addDelegation('targets/d00', 'targets/d00/x');
    w.repo.addTarget('targets/d00/x', 'x', 'x');
    w.repo.publish('targets', ...names, 'targets/d00/x');
    w.server.publish(w.repo);
    const inner = w.server.fetcher();
    let inFlight = 0;
    let most = 0;
    // earlier roles answer later: d00 last of its batch
    const slow: Fetcher = {
      async fetch(req) {
        const m = /targets\/d(\d\d)\./.exec(req.url);
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, m === null ? 0 : 30 - Number(m[1])));
        inFlight--;
        return inner.fetch(req);
      },
    };
    const repo = await w.updater({ fetcher: slow, config: { prefetchLimit: 4 } }).update();
    assert.deepEqual([...repo.targets.keys()], ['targets', 'targets/releases', 'targets/d00', 'targets/d00/x', ...names.slice(1)]);
    assert.equal(most, 4);
    assert.equal(getTargetByName(repo, 'x').role, 'targets/d00/x');
    assert.equal(listTargets(repo).length, 2 + 12 + 1);
  });

  it('10.2.3 negative: the delegations of a skipped role are never downloaded; a failed download fails the update at its turn', async () => {
    const w = world();
    w.repo.addDelegation('targets', 'targets/bad');
    w.repo.addDelegation('targets/bad', 'targets/bad/child');
    w.repo.addTarget('targets/bad/child', 'evil', 'x');
    w.repo.publish('targets', 'targets/bad/child');
    w.repo.sign('targets/bad', { keys: [generateKey()] });
    w.repo.refreshSnapshot();
    w.repo.refreshTimestamp();
    w.server.publish(w.repo);
    const repo = await w.updater().update();
    assert.deepEqual([...repo.invalidRoles.keys()], ['targets/bad']);
    assert.ok(!w.server.metaRequests().some((r) => r.startsWith('targets/bad/child')));

    const v = world();
    v.repo.addDelegation('targets', 'targets/gone');
    v.repo.publish('targets', 'targets/gone');
    v.server.publish(v.repo);
    const inner = v.server.fetcher();
    const failing: Fetcher = { fetch: (req) => (/targets\/gone\./.test(req.url) ? Promise.resolve({ status: 404, headers: {}, body: new Uint8Array(0) }) : inner.fetch(req)) };
    const before = await v.cacheBytes();
    await assert.rejects(v.updater({ fetcher: failing }).update(), (e) => e instanceof Error && /targets\/gone/.test(e.message));
    assert.deepEqual(await v.cacheBytes(), before);
  });

  it('10.2.3 with a file cache: delegations written as they verify become visible only when the update succeeds', async () => {
    const td = await mkdtemp(join(tmpdir(), 'vouch-updater-'));
    try {
      const refused = world({ cache: new FileMetadataCache(join(td, 'a'), GUN) });
      refused.repo.addDelegation('targets', 'targets/gone');
      refused.repo.publish('targets', 'targets/gone');
      refused.server.publish(refused.repo);
      const inner = refused.server.fetcher();
      const failing: Fetcher = { fetch: (req) => (/targets\/gone\./.test(req.url) ? Promise.resolve({ status: 404, headers: {}, body: new Uint8Array(0) }) : inner.fetch(req)) };
      await assert.rejects(refused.updater({ fetcher: failing }).update());
      // targets/releases was prepared before targets/gone failed: no file may be left (empty directories may)
      const left = await readdir(join(td, 'a'), { recursive: true, withFileTypes: true });
      assert.deepEqual(left.filter((e) => !e.isDirectory()).map((e) => e.name), []);
      assert.ok(!left.some((e) => e.name.endsWith('.tmp')));

      const w = world({ cache: new FileMetadataCache(join(td, 'b'), GUN) });
      const { repo, saved } = await w.updater().updateThenSave();
      await saved;
      for (const role of ['root', 'timestamp', 'snapshot', 'targets', 'targets/releases']) {
        const meta = role === 'root' ? repo.root : role === 'timestamp' ? repo.timestamp : role === 'snapshot' ? repo.snapshot : repo.targets.get(role);
        assert.deepEqual(await w.cache.get(role), meta?.bytes, role);
      }
      assert.deepEqual(await readdir(gunDir(join(td, 'b'), GUN)), ['metadata']);
    } finally {
      await rm(td, { recursive: true, force: true });
    }
  });

  it('10.2.3 negative: targets signed by the wrong key is fatal', async () => {
    const w = await warmed();
    const before = await w.cacheBytes();
    w.repo.sign('targets', { keys: [generateKey()] });
    w.repo.refreshSnapshot();
    w.repo.refreshTimestamp();
    w.server.publish(w.repo);
    await assert.rejects(w.updater().update(), (e) => e instanceof ThresholdError && e.message === 'valid signatures did not meet threshold for targets');
    assert.deepEqual(await w.cacheBytes(), before);
  });
});

describe('§10.2 step 4: one retry with a root update', () => {
  it('10.2.4 positive: a rotated root (signed by old and new keys) is found through the snapshot checksum', async () => {
    const w = await warmed();
    w.repo.rotateRootKeys();
    w.repo.publish();
    w.server.publish(w.repo);
    const repo = await w.updater().update();
    assert.equal(repo.root.signed.version, 2);
    const sha = sha256Hex(w.repo.bytes('root'));
    assert.ok(w.server.metaRequests().includes(`root.${sha}.json`));
    assert.deepEqual(await w.cache.get('root'), w.repo.bytes('root'));
  });

  it('10.2.4 positive: several rotations, each signed only by its predecessor, are walked version by version', async () => {
    const w = await warmed();
    const k2 = generateRootKey(GUN, NOW);
    const k3 = generateRootKey(GUN, NOW);
    const k4 = generateRootKey(GUN, NOW);
    const old = w.repo.keys('root');
    w.server.keep('root', w.repo.rotateRootKeys([k2], [...old, k2]));
    w.server.keep('root', w.repo.rotateRootKeys([k3], [k2, k3]));
    w.repo.rotateRootKeys([k4], [k3, k4]);
    w.repo.publish();
    w.server.publish(w.repo);
    const repo = await w.updater().update();
    assert.equal(repo.root.signed.version, 4);
    const roots = w.server.metaRequests().filter((r) => /root/.test(r));
    assert.deepEqual(roots.map((r) => r.replace(/\.[0-9a-f]{64}\.json$/, '.<sha>.json')), ['root.<sha>.json', '2.root.json', '3.root.json']);
  });

  it('10.2.4 negative: a root rotated without the old root signature is refused; cache unchanged', async () => {
    const w = await warmed();
    const before = await w.cacheBytes();
    const k2 = generateRootKey(GUN, NOW);
    w.repo.rotateRootKeys([k2], [k2]);
    w.repo.publish();
    w.server.publish(w.repo);
    await assert.rejects(w.updater().update(), (e) => e instanceof RootRotationError && e.message === 'could not rotate trust to a new trusted root: failed to validate data with current trusted certificates');
    assert.deepEqual(await w.cacheBytes(), before);
  });

  it('10.2.4 negative: more rotations than maxRootRotations', async () => {
    const w = await warmed();
    for (let i = 0; i < 4; i++) w.server.keep('root', w.repo.rotateRootKeys());
    w.repo.publish();
    w.server.publish(w.repo);
    await assert.rejects(w.updater({ config: { maxRootRotations: 2 } }).update(), withMessage(/^root: updating from version 1 to 5 needs more than the maximum of 2 root rotations$/));
    const repo = await w.updater().update();
    assert.equal(repo.root.signed.version, 5);
  });
});

describe('§10.2 step 5: content checks', () => {
  it('10.2.5 positive: a file exactly at its size limit is accepted', async () => {
    const w = world();
    const repo = await w.updater({ config: { maxTimestampLength: w.repo.bytes('timestamp').length } }).update();
    assert.deepEqual(repo.timestamp.bytes, w.repo.bytes('timestamp'));
  });

  it('10.2.5 negative: one byte over the limit is refused; every listed hash must match (sha512 too)', async () => {
    const w = await warmed();
    const before = await w.cacheBytes();
    await assert.rejects(w.updater({ config: { maxTimestampLength: w.repo.bytes('timestamp').length - 1 } }).update(), withMessage(/^timestamp: trust server returned a bad response\.$/));
    // the snapshot lists the right sha256 but a wrong sha512 for a new targets file
    w.repo.addTarget('targets', 'extra', 'x');
    const targets = w.repo.sign('targets');
    w.server.keep('targets', targets);
    const snapshot = resign(w.repo.bytes('snapshot'), w.repo.keys('snapshot'), (s) => {
      s['meta']['targets'] = { hashes: { sha256: Buffer.from(sha256(targets)).toString('base64'), sha512: Buffer.alloc(64).toString('base64') }, length: targets.length };
      s['version'] = (s['version'] as number) + 1;
    });
    w.server.serve('snapshot', snapshot);
    w.server.serve('timestamp', resign(w.repo.bytes('timestamp'), w.repo.keys('timestamp'), (s) => {
      s['meta']['snapshot'] = { hashes: { sha256: Buffer.from(sha256(snapshot)).toString('base64') }, length: snapshot.length };
      s['version'] = (s['version'] as number) + 1;
    }));
    await assert.rejects(w.updater().update(), (e) => e instanceof ChecksumMismatchError && /^sha512 checksum for targets did not match: expected 0{128}$/.test(e.message));
    assert.deepEqual(await w.cacheBytes(), before);
  });
});

describe('updater configuration', () => {
  it('refuses nonsense limits', () => {
    const w = world();
    assert.throws(() => w.updater({ config: { maxRootRotations: -1 } }), RangeError);
    assert.throws(() => w.updater({ config: { maxTimestampLength: 1.5 } }), RangeError);
    assert.throws(() => w.updater({ config: { prefetchLimit: 0 } }), RangeError);
    assert.equal(w.updater().config.maxTimestampLength, 1 << 20);
  });
});
