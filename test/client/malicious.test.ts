/**
 * The updater against a deliberately malicious trust server over HTTPS (node:https on
 * 127.0.0.1, throwaway CA). For every attack: the client first reads the honest repository
 * (filling its on-disk cache), then the server turns; the update must be refused with an error
 * naming the role and the problem, and the trust dir must be byte-for-byte what it was.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sha256Hex } from '../../src/canonical/index.ts';
import { FileMetadataCache } from '../../src/client/cache.ts';
import { Updater } from '../../src/client/updater.ts';
import { getTargetByName } from '../../src/client/walk.ts';
import { NodeFetcher } from '../../src/http/fetcher.ts';
import { connectTrustServer, HttpRemoteStore } from '../../src/http/remote-store.ts';
import { RepoServer, type Listening } from '../support/malicious-server.ts';
import { makePki, removeDir, tempDir, type Pki } from '../support/pki.ts';
import { keyToJSON } from '../../src/crypto/index.ts';
import { TestRepo, generateKey, generateRootKey, metaJSON, resign, type TestKey } from '../support/tuf-repo.ts';
import { GUN, NOW, dirBytes } from './support.ts';

let pkiDir = '';
let pki: Pki;
const cleanups: (() => Promise<void>)[] = [];

before(async () => {
  pkiDir = await tempDir('client-malicious');
  pki = await makePki(pkiDir);
});

after(async () => {
  for (const c of cleanups) await c();
  await removeDir(pkiDir);
});

interface Scene {
  readonly repo: TestRepo;
  readonly server: RepoServer;
  readonly http: Listening;
  readonly trustDir: string;
  update(): Promise<unknown>;
}

/** An honest repository, served over HTTPS and read once into a fresh trust dir. */
async function scene(repo: TestRepo = honestRepo()): Promise<Scene> {
  const server = new RepoServer(repo.gun);
  server.publish(repo);
  const http = await server.listen({ pki });
  const trustDir = await mkdtemp(join(tmpdir(), 'vouch-client-trust-'));
  cleanups.push(() => http.close(), () => rm(trustDir, { recursive: true, force: true }));
  const update = (): Promise<unknown> =>
    new Updater({
      gun: repo.gun,
      remote: new HttpRemoteStore({ serverUrl: http.url, gun: repo.gun, fetcher: new NodeFetcher({ ca: http.ca, timeoutMs: 10_000 }) }),
      cache: new FileMetadataCache(trustDir, repo.gun),
      now: () => NOW,
    }).update();
  await update();
  return { repo, server, http, trustDir, update };
}

function honestRepo(): TestRepo {
  const repo = TestRepo.create({ gun: GUN, now: NOW });
  repo.addDelegation('targets', 'targets/releases');
  repo.addTarget('targets/releases', 'v1', 'release');
  repo.publish('targets', 'targets/releases');
  repo.publish('targets');
  return repo;
}

/** The update is refused with a message matching `re`, and the trust dir did not change. */
async function refused(s: Scene, re: RegExp): Promise<void> {
  const before = await dirBytes(s.trustDir);
  assert.ok(before.size >= 4, 'cache was filled by the honest update');
  await assert.rejects(s.update(), (e) => {
    if (e instanceof Error && re.test(e.message)) return true;
    throw new Error(`unexpected error: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} (wanted ${re})`);
  });
  assert.deepEqual(await dirBytes(s.trustDir), before);
}

/** A timestamp (next version) for `snapshot`, signed with `keys`. */
function timestampFor(repo: TestRepo, snapshot: Uint8Array, keys: readonly TestKey[] = repo.keys('timestamp'), version?: number): Uint8Array {
  return resign(repo.bytes('timestamp'), keys, (s) => {
    s['meta'] = { snapshot: metaJSON(snapshot) };
    s['version'] = version ?? (s['version'] as number) + 1;
  });
}

describe('malicious server: rollback and freeze', () => {
  it('timestamp rolled back below the cached version', async () => {
    const repo = honestRepo();
    const old = repo.bytes('timestamp');
    repo.refreshTimestamp();
    repo.refreshTimestamp();
    const s = await scene(repo);
    s.server.serve('timestamp', old);
    await refused(s, /^timestamp: version 3 is lower than current version 5$/);
  });

  it('snapshot rolled back (old snapshot under a fresh, validly signed timestamp)', async () => {
    const repo = honestRepo();
    const oldSnapshot = repo.bytes('snapshot');
    repo.publish('targets');
    const s = await scene(repo);
    s.server.keep('snapshot', oldSnapshot);
    s.server.serve('timestamp', timestampFor(repo, oldSnapshot));
    await refused(s, /^snapshot: version 3 is lower than current version 4$/);
  });

  it('expired timestamp (freeze attack)', async () => {
    const s = await scene();
    s.server.serve('timestamp', resign(s.repo.bytes('timestamp'), s.repo.keys('timestamp'), (t) => {
      t['expires'] = '2030-05-01T00:00:00Z';
      t['version'] = (t['version'] as number) + 1;
    }));
    await refused(s, /^timestamp expired at Wed May 1 00:00:00 UTC 2030$/);
  });

  it('expired snapshot behind a valid timestamp', async () => {
    const s = await scene();
    const expired = resign(s.repo.bytes('snapshot'), s.repo.keys('snapshot'), (t) => {
      t['expires'] = '2030-05-01T00:00:00Z';
      t['version'] = (t['version'] as number) + 1;
    });
    s.server.keep('snapshot', expired);
    s.server.serve('timestamp', timestampFor(s.repo, expired));
    await refused(s, /^snapshot expired at Wed May 1 00:00:00 UTC 2030$/);
  });
});

describe('malicious server: mixed versions', () => {
  it('a new snapshot listing the previous targets (mix-and-match) is a targets rollback', async () => {
    const repo = honestRepo();
    const oldTargets = repo.bytes('targets');
    repo.publish('targets');
    const s = await scene(repo);
    s.server.keep('targets', oldTargets);
    const mixed = resign(repo.bytes('snapshot'), repo.keys('snapshot'), (t) => {
      t['meta']['targets'] = metaJSON(oldTargets);
      t['version'] = (t['version'] as number) + 1;
    });
    s.server.keep('snapshot', mixed);
    s.server.serve('timestamp', timestampFor(repo, mixed));
    await refused(s, /^targets: version 3 is lower than current version 4$/);
  });

  it('a timestamp listing one snapshot while another is served under its name', async () => {
    const repo = honestRepo();
    const s = await scene(repo);
    repo.publish('targets');
    const other = repo.bytes('snapshot');
    const listedFor = resign(other, repo.keys('snapshot'), (t) => (t['version'] = 7));
    s.server.serve('timestamp', timestampFor(repo, listedFor));
    s.server.override(`snapshot.${sha256Hex(listedFor)}.json`, { status: 200, body: other });
    await refused(s, /^sha256 checksum for snapshot did not match: expected [0-9a-f]{64}$/);
  });
});

describe('malicious server: signatures', () => {
  it('timestamp signed with the wrong key', async () => {
    const s = await scene();
    s.server.serve('timestamp', timestampFor(s.repo, s.repo.bytes('snapshot'), [generateKey('ed25519')]));
    await refused(s, /^valid signatures did not meet threshold for timestamp$/);
  });

  it('targets signed below its threshold of 2', async () => {
    const repo = TestRepo.create({ gun: GUN, now: NOW });
    const k1 = repo.keys('targets')[0] as TestKey;
    const k2 = generateKey();
    repo.sign('root', {
      mutate: (r) => {
        r['keys'][k2.id] = keyToJSON(k2.pub);
        r['roles']['targets'] = { keyids: [k1.id, k2.id], threshold: 2 };
      },
    });
    repo.setKeys('targets', [k1, k2]);
    repo.addTarget('targets', 'v1', 'x');
    repo.publish('targets');
    const s = await scene(repo);
    repo.addTarget('targets', 'evil', 'y');
    repo.sign('targets', { keys: [k1] });
    repo.refreshSnapshot();
    repo.refreshTimestamp();
    s.server.publish(repo);
    await refused(s, /^valid signatures did not meet threshold for targets$/);
  });

  it('root rotated without the old root signature', async () => {
    const s = await scene();
    const attacker = generateRootKey(GUN, NOW);
    s.repo.rotateRootKeys([attacker], [attacker]);
    s.repo.publish();
    s.server.publish(s.repo);
    await refused(s, /^could not rotate trust to a new trusted root: failed to validate data with current trusted certificates$/);
  });
});

describe('malicious server: oversized and endless responses', () => {
  it('endless timestamp', async () => {
    const s = await scene();
    s.server.override('timestamp.json', { endless: true });
    await refused(s, /^timestamp: trust server returned a bad response\.$/);
  });

  it('snapshot larger than the timestamp says (Content-Length over the limit)', async () => {
    const s = await scene();
    s.repo.publish('targets');
    s.server.serve('timestamp', s.repo.bytes('timestamp'));
    const listed = sha256Hex(s.repo.bytes('snapshot'));
    s.server.override(`snapshot.${listed}.json`, { status: 200, body: new Uint8Array(s.repo.bytes('snapshot').length + 1) });
    await refused(s, /^snapshot: trust server returned a bad response\.$/);
  });

  it('targets streamed past its length without a Content-Length', async () => {
    const s = await scene();
    s.repo.publish('targets');
    s.server.publish(s.repo, ['timestamp', 'snapshot']);
    s.server.override(`targets.${sha256Hex(s.repo.bytes('targets'))}.json`, { endless: true });
    await refused(s, /^targets: trust server returned a bad response\.$/);
  });
});

describe('HTTPS client plumbing', () => {
  it('reads through token auth after the ping (connectTrustServer, NOTARY_AUTH credentials)', async () => {
    const repo = honestRepo();
    const server = new RepoServer(repo.gun);
    server.publish(repo);
    server.requireToken({ token: 'secret-token', username: 'alice', password: 'pw' });
    const http = await server.listen({ pki });
    cleanups.push(() => http.close());
    const { remote, online } = await connectTrustServer({
      serverUrl: http.url,
      gun: repo.gun,
      access: 'readOnly',
      tls: { rootCA: http.caFile },
      credentials: () => ({ username: 'alice', password: 'pw' }),
    });
    assert.equal(online, true);
    const trusted = await new Updater({ gun: repo.gun, remote, cache: new FileMetadataCache(await tempTrustDir(), repo.gun), now: () => NOW }).update();
    assert.equal(getTargetByName(trusted, 'v1').role, 'targets/releases');
    // anonymous first (refused by this token server), then with credentials, then the cached token
    const tokenRequests = server.requests.filter((r) => r.startsWith('GET /token'));
    assert.deepEqual(tokenRequests, [
      'GET /token?scope=repository%3Aexample.com%2Fclient%2Fapp%3Apull&service=vouch-test',
      'GET /token?account=alice&scope=repository%3Aexample.com%2Fclient%2Fapp%3Apull&service=vouch-test',
    ]);
    assert.ok(server.authorizations.includes('Bearer secret-token'));
  });

  it('a server whose certificate does not chain to the configured CA means offline mode', async () => {
    const other = await makePki(await tempTrustDir());
    const server = new RepoServer(GUN);
    const http = await server.listen({ pki });
    cleanups.push(() => http.close());
    const c = await connectTrustServer({ serverUrl: http.url, gun: GUN, access: 'readOnly', tls: { rootCA: other.caFile } });
    assert.equal(c.online, false);
    const insecure = await connectTrustServer({ serverUrl: http.url, gun: GUN, access: 'readOnly', tls: { skipTLSVerify: true } });
    assert.equal(insecure.online, true);
  });
});

async function tempTrustDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'vouch-client-trust-'));
  cleanups.push(() => rm(d, { recursive: true, force: true }));
  return d;
}
