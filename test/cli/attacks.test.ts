/**
 * The `vouch` binary (src/bin/vouch.ts, as users run it) against a deliberately malicious trust
 * server (test/support/malicious-server.ts over HTTPS on 127.0.0.1): rolled-back timestamp and
 * snapshot, expired timestamp (freeze) and snapshot, snapshots that mix versions, metadata signed
 * by the wrong key or below its threshold, oversized and endless responses, and a root rotated
 * without the old root's signature.
 *
 * Every attack is tried with `vouch list`, `lookup`, `verify` and `publish` (after staging a
 * target with `add`), once on first contact (empty trust dir) where the attack means anything
 * without a cache, and once after an honest `vouch list` filled the cache. Each run must exit
 * non-zero, say which role was refused and why (standard output and standard error together),
 * and leave `tuf/<gun>/metadata` byte-for-byte as it was.
 *
 * The clock is the real one (the binary reads it), so the repositories are made for "now".
 *
 * Run: ./node_modules/.bin/node --test test/cli/attacks.test.ts
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sha256Hex } from '../../src/canonical/index.ts';
import { keyToJSON } from '../../src/crypto/index.ts';
import { formatGoTime } from '../../src/tuf/index.ts';
import { dirBytes } from '../client/support.ts';
import { describeResult, type RunResult } from '../support/exec.ts';
import { RepoServer, type Listening } from '../support/malicious-server.ts';
import { makePki, removeDir, tempDir, type Pki } from '../support/pki.ts';
import { TestRepo, generateKey, generateRootKey, metaJSON, resign, type TestKey } from '../support/tuf-repo.ts';
import { VouchCli } from './support.ts';

const GUN = 'example.com/attacks/app';
const RELEASE = 'release-content';
/** An hour ago: certificates and expiries are made from here, so they are valid now. */
const MADE_AT = new Date(Date.now() - 3_600_000);
/** Yesterday, as an expiry in the past. */
const YESTERDAY = new Date(Date.now() - 86_400_000);

let dir = '';
let pki: Pki;
let payload = '';
let counter = 0;
const servers: Listening[] = [];

before(async () => {
  dir = await tempDir('cli-attacks');
  pki = await makePki(dir);
  payload = join(dir, 'payload.txt');
  await writeFile(payload, 'new content\n');
});

after(async () => {
  for (const s of servers) await s.close();
  await removeDir(dir);
});

/** An honest repository: `v1` in `targets/releases`, `admin` in `targets`. */
function honestRepo(): TestRepo {
  const repo = TestRepo.create({ gun: GUN, now: MADE_AT });
  repo.addDelegation('targets', 'targets/releases');
  repo.addTarget('targets', 'admin', 'admin-content');
  repo.addTarget('targets/releases', 'v1', RELEASE);
  repo.publish('targets', 'targets/releases');
  return repo;
}

const escape = (t: string): string => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** notary's words, as the CLI prints them on standard output. */
const fatal = (text: string): RegExp => new RegExp(`^\\* fatal: ${escape(text)}$`, 'm');
/** vouch's fuller text, logged at level error on standard error (logrus format, Go-quoted). */
const detail = (text: string | RegExp): RegExp =>
  new RegExp(`^time="[^"]+" level=error msg="${typeof text === 'string' ? escape(text) : text.source}"$`, 'm');
/** Go's time.UnixDate as notary prints an expiry. */
const GO_DATE = '\\w{3} \\w{3} +\\d+ \\d\\d:\\d\\d:\\d\\d UTC \\d{4}';

/** A timestamp (next version, or `version`) listing `snapshot`, signed with `keys`. */
function timestampFor(repo: TestRepo, snapshot: Uint8Array, keys: readonly TestKey[] = repo.keys('timestamp'), version?: number): Uint8Array {
  return resign(repo.bytes('timestamp'), keys, (s) => {
    s['meta'] = { snapshot: metaJSON(snapshot) };
    s['version'] = version ?? (s['version'] as number) + 1;
  });
}

interface Attack {
  readonly name: string;
  /** Also meaningful without a cache (a rollback is only one against something trusted). */
  readonly firstContact: boolean;
  /** The repository before the honest run (default: honestRepo()). */
  readonly repo?: () => TestRepo;
  /** Turn the server. */
  readonly attack: (repo: TestRepo, server: RepoServer) => void;
  /** What the output must say: each pattern must match standard output + standard error. */
  readonly says: readonly RegExp[];
}

const ATTACKS: readonly Attack[] = [
  {
    name: 'timestamp rolled back below the cached version',
    firstContact: false,
    repo: () => {
      const repo = honestRepo();
      repo.refreshTimestamp();
      repo.refreshTimestamp();
      return repo;
    },
    attack: (repo, server) => {
      // version 3 of the timestamp, re-signed as it was then, under the current snapshot
      server.serve('timestamp', timestampFor(repo, repo.bytes('snapshot'), repo.keys('timestamp'), 3));
    },
    says: [fatal('version 3 is lower than current version 4'), detail('timestamp: version 3 is lower than current version 4')],
  },
  {
    name: 'snapshot rolled back (an old snapshot under a fresh, validly signed timestamp)',
    firstContact: false,
    repo: () => {
      const repo = honestRepo();
      repo.publish('targets');
      return repo;
    },
    attack: (repo, server) => {
      const old = resign(repo.bytes('snapshot'), repo.keys('snapshot'), (s) => (s['version'] = 2));
      server.keep('snapshot', old);
      server.serve('timestamp', timestampFor(repo, old));
    },
    says: [fatal('version 2 is lower than current version 3'), detail('snapshot: version 2 is lower than current version 3')],
  },
  {
    name: 'expired timestamp (freeze attack)',
    firstContact: true,
    attack: (repo, server) => {
      server.serve('timestamp', resign(repo.bytes('timestamp'), repo.keys('timestamp'), (t) => {
        t['expires'] = formatGoTime(YESTERDAY);
        t['version'] = (t['version'] as number) + 1;
      }));
    },
    says: [new RegExp(`^\\* fatal: timestamp expired at ${GO_DATE}$`, 'm')],
  },
  {
    name: 'expired snapshot behind a valid timestamp',
    firstContact: true,
    attack: (repo, server) => {
      const expired = resign(repo.bytes('snapshot'), repo.keys('snapshot'), (t) => {
        t['expires'] = formatGoTime(YESTERDAY);
        t['version'] = (t['version'] as number) + 1;
      });
      server.keep('snapshot', expired);
      server.serve('timestamp', timestampFor(repo, expired));
    },
    says: [new RegExp(`^\\* fatal: snapshot expired at ${GO_DATE}$`, 'm')],
  },
  {
    name: 'a new snapshot listing the previous targets (mix and match)',
    firstContact: false,
    repo: () => {
      const repo = honestRepo();
      repo.publish('targets');
      return repo;
    },
    attack: (repo, server) => {
      const old = resign(repo.bytes('targets'), repo.keys('targets'), (s) => {
        s['version'] = 2;
        s['targets'] = { evil: metaJSON(new TextEncoder().encode('evil')) };
      });
      server.keep('targets', old);
      const mixed = resign(repo.bytes('snapshot'), repo.keys('snapshot'), (s) => {
        s['meta']['targets'] = metaJSON(old);
        s['version'] = (s['version'] as number) + 1;
      });
      server.keep('snapshot', mixed);
      server.serve('timestamp', timestampFor(repo, mixed));
    },
    says: [fatal('version 2 is lower than current version 3'), detail('targets: version 2 is lower than current version 3')],
  },
  {
    name: 'a snapshot served under the checksum of another one',
    firstContact: true,
    attack: (repo, server) => {
      const listed = resign(repo.bytes('snapshot'), repo.keys('snapshot'), (t) => (t['version'] = 7));
      server.serve('timestamp', timestampFor(repo, listed));
      server.override(`snapshot.${sha256Hex(listed)}.json`, { status: 200, body: repo.bytes('snapshot') });
    },
    says: [/^\* fatal: sha256 checksum for snapshot did not match: expected [0-9a-f]{64}$/m],
  },
  {
    name: 'timestamp signed with the wrong key',
    firstContact: true,
    attack: (repo, server) => {
      server.serve('timestamp', timestampFor(repo, repo.bytes('snapshot'), [generateKey('ed25519')]));
    },
    says: [fatal('valid signatures did not meet threshold for timestamp')],
  },
  {
    name: 'targets signed below its threshold of 2',
    firstContact: true,
    repo: () => {
      const repo = TestRepo.create({ gun: GUN, now: MADE_AT });
      const k1 = repo.keys('targets')[0] as TestKey;
      const k2 = generateKey();
      repo.sign('root', {
        mutate: (r) => {
          r['keys'][k2.id] = keyToJSON(k2.pub);
          r['roles']['targets'] = { keyids: [k1.id, k2.id], threshold: 2 };
        },
      });
      repo.setKeys('targets', [k1, k2]);
      repo.addDelegation('targets', 'targets/releases');
      repo.addTarget('targets/releases', 'v1', RELEASE);
      repo.publish('targets', 'targets/releases');
      return repo;
    },
    attack: (repo, server) => {
      repo.addTarget('targets', 'evil', 'evil');
      repo.sign('targets', { keys: repo.keys('targets').slice(0, 1) });
      repo.refreshSnapshot();
      repo.refreshTimestamp();
      server.publish(repo);
    },
    says: [fatal('valid signatures did not meet threshold for targets')],
  },
  {
    name: 'root rotated without the old root signature',
    firstContact: false,
    attack: (repo, server) => {
      const attacker = generateRootKey(GUN, MADE_AT);
      repo.rotateRootKeys([attacker], [attacker]);
      repo.publish();
      server.publish(repo);
    },
    says: [fatal('could not rotate trust to a new trusted root: failed to validate data with current trusted certificates')],
  },
  {
    name: 'endless timestamp',
    firstContact: true,
    attack: (_repo, server) => server.override('timestamp.json', { endless: true }),
    says: [fatal('trust server returned a bad response.'), detail('timestamp: trust server returned a bad response. (more than the 1048576 bytes allowed)')],
  },
  {
    name: 'snapshot larger than the timestamp says',
    firstContact: true,
    attack: (repo, server) => {
      repo.publish('targets');
      server.serve('timestamp', repo.bytes('timestamp'));
      const listed = sha256Hex(repo.bytes('snapshot'));
      server.override(`snapshot.${listed}.json`, { status: 200, body: new Uint8Array(repo.bytes('snapshot').length + 1) });
    },
    says: [fatal('trust server returned a bad response.'), detail(/snapshot: trust server returned a bad response\. \(more than the \d+ bytes allowed\)/)],
  },
  {
    name: 'targets streamed past its length',
    firstContact: true,
    attack: (repo, server) => {
      repo.publish('targets');
      server.publish(repo, ['timestamp', 'snapshot']);
      server.override(`targets.${sha256Hex(repo.bytes('targets'))}.json`, { endless: true });
    },
    says: [fatal('trust server returned a bad response.'), detail(/targets: trust server returned a bad response\. \(more than the \d+ bytes allowed\)/)],
  },
];

interface Scene {
  readonly cli: VouchCli;
  readonly metadataDir: string;
}

/** Serve the attack's repository honestly; with `trusted`, read it once with `vouch list`. */
async function scene(a: Attack, trusted: boolean): Promise<{ s: Scene; repo: TestRepo; server: RepoServer }> {
  const repo = (a.repo ?? honestRepo)();
  const server = new RepoServer(GUN);
  server.publish(repo);
  const http = await server.listen({ pki, lifetimeMs: 600_000 });
  servers.push(http);
  const home = join(dir, `home-${++counter}`);
  await mkdir(home, { recursive: true });
  const cli = new VouchCli({ url: http.url, caFile: http.caFile, home });
  const s: Scene = { cli, metadataDir: join(cli.trustDir, 'tuf', GUN, 'metadata') };
  if (trusted) {
    const good = await cli.spawn(['list', GUN]);
    assert.equal(good.code, 0, describeResult(['vouch', 'list', GUN], good));
    assert.match(good.stdout, /^v1 +[0-9a-f]{64} +15 +targets\/releases$/m, describeResult(['vouch', 'list', GUN], good));
  }
  // a staged change for `publish` (offline: the metadata is not touched)
  const staged = await cli.spawn(['add', GUN, 'v2', payload]);
  assert.equal(staged.code, 0, describeResult(['vouch', 'add', GUN], staged));
  return { s, repo, server };
}

const COMMANDS: readonly { readonly args: readonly string[]; readonly input?: string }[] = [
  { args: ['list', GUN] },
  { args: ['lookup', GUN, 'v1'] },
  { args: ['verify', GUN, 'v1'], input: RELEASE },
  { args: ['publish', GUN] },
];

/** Every command is refused with the attack's words, and the metadata stays as it was. */
async function allRefused(a: Attack, s: Scene, trusted: boolean): Promise<void> {
  const before = await dirBytes(s.metadataDir);
  assert.equal(before.size > 0, trusted, `metadata cached before the attack: ${[...before.keys()].join(', ')}`);
  const results = await Promise.all(COMMANDS.map((c) => s.cli.spawn(c.args, c.input === undefined ? {} : { input: c.input })));
  for (const [i, c] of COMMANDS.entries()) {
    const r = results[i] as RunResult;
    const label = describeResult(['vouch', ...c.args], r);
    assert.equal(r.timedOut, false, label);
    assert.notEqual(r.code, 0, label);
    assert.doesNotMatch(r.stdout, new RegExp(RELEASE), label);
    const text = `${r.stdout}\n${r.stderr}`;
    for (const re of a.says) assert.match(text, re, label);
  }
  assert.deepEqual(await dirBytes(s.metadataDir), before, `${a.name}: metadata changed`);
}

describe('the vouch binary against a malicious trust server', { timeout: 600_000 }, () => {
  for (const a of ATTACKS) {
    if (a.firstContact) {
      it(`first contact: ${a.name}`, async () => {
        const { s, repo, server } = await scene(a, false);
        a.attack(repo, server);
        await allRefused(a, s, false);
      });
    }
    it(`trusted cache: ${a.name}`, async () => {
      const { s, repo, server } = await scene(a, true);
      a.attack(repo, server);
      await allRefused(a, s, true);
    });
  }
});
