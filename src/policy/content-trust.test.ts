import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { generateKey, TestRepo } from '../../test/support/tuf-repo.ts';
import { MemoryAuditSink } from './audit.ts';
import { ContentTrustPolicy, type Requester } from './content-trust.ts';
import { decideDelete, decideServe } from './decide.ts';
import { MemoryPolicyStore } from './memory-store.ts';
import { effectivePolicy, parseNamespacePolicy, PolicySettingsError } from './settings.ts';
import { NoTrustDataError, verifyStoredTrust, type TrustMetadataSource } from './verify.ts';

const NOW = new Date('2025-03-01T00:00:00Z');
const GUN = '127.0.0.1:5000/team/app';
const digestOf = (s: string): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;
const A = 'manifest A';
const B = 'manifest B';

/** The trust server's store as the policy sees it: every version ever published, by checksum. */
class FakeStore implements TrustMetadataSource {
  readonly repos = new Map<string, TestRepo>();
  readonly history = new Map<string, Uint8Array>();
  reads = 0;
  add(repo: TestRepo): void {
    this.repos.set(repo.gun, repo);
    this.sync();
  }
  sync(): void {
    for (const repo of this.repos.values()) {
      for (const role of repo.roles()) this.history.set(`${repo.gun} ${role} ${createHash('sha256').update(repo.bytes(role)).digest('hex')}`, repo.bytes(role));
    }
  }
  async current(gun: string, role: string): Promise<Uint8Array | null> {
    this.reads++;
    const repo = this.repos.get(gun);
    if (repo === undefined || !repo.roles().includes(role)) return null;
    return repo.bytes(role);
  }
  async byChecksum(gun: string, role: string, sha: string): Promise<Uint8Array | null> {
    this.reads++;
    return this.history.get(`${gun} ${role} ${sha}`) ?? null;
  }
}

/** A repository with `v1` → A in targets, and `targets/releases` + `targets/alice` as docker's signer add leaves them. */
function dockerRepo(): TestRepo {
  const repo = TestRepo.create({ gun: GUN, now: NOW });
  const alice = generateKey();
  repo.addDelegation('targets', 'targets/releases', { keys: [alice] });
  repo.addDelegation('targets', 'targets/alice', { keys: [alice] });
  repo.addTarget('targets', 'admin-only', A);
  repo.publish('targets');
  return repo;
}

async function verified(repo: TestRepo, pin?: string) {
  const store = new FakeStore();
  store.add(repo);
  return verifyStoredTrust(store, { gun: repo.gun, now: NOW, ...(pin === undefined ? {} : { pinnedRootKey: pin }) });
}

describe('verifyStoredTrust', () => {
  it('verifies root, timestamp, snapshot, targets and delegations from the stored root down', async () => {
    const repo = dockerRepo();
    const trusted = await verified(repo);
    assert.deepEqual([...trusted.targets.keys()].sort(), ['targets', 'targets/alice', 'targets/releases']);
  });

  it('no root: NoTrustDataError', async () => {
    await assert.rejects(verifyStoredTrust(new FakeStore(), { gun: GUN, now: NOW }), NoTrustDataError);
  });

  it('a pinned root key must have signed the root', async () => {
    const repo = dockerRepo();
    await verified(repo, repo.keys('root')[0]!.id);
    await assert.rejects(verified(repo, 'f'.repeat(64)), /root/);
  });

  it('a forged targets role fails the whole verification', async () => {
    const repo = dockerRepo();
    repo.addTarget('targets', 'evil', B);
    repo.sign('targets', { keys: [generateKey()] });
    repo.refreshSnapshot();
    repo.refreshTimestamp();
    await assert.rejects(verified(repo), /targets/);
  });

  it('an expired delegation is skipped: it signs nothing', async () => {
    const repo = dockerRepo();
    repo.addTarget('targets/releases', 'v1', A);
    repo.sign('targets/releases', { mutate: (s) => (s['expires'] = '2020-01-01T00:00:00Z') });
    repo.refreshSnapshot();
    repo.refreshTimestamp();
    const trusted = await verified(repo);
    assert.equal(trusted.targets.has('targets/releases'), false);
    assert.equal(decideServe(trusted, { gun: GUN, tag: 'v1', digest: digestOf(A), requiredSigners: [] }).allow, false);
  });
});

describe('decideServe and decideDelete', () => {
  it('a tag: signed in targets/releases (else targets) with the digest served', async () => {
    const repo = dockerRepo();
    repo.addTarget('targets/releases', 'v1', A);
    repo.addTarget('targets/alice', 'v1', A);
    repo.addTarget('targets/alice', 'alice-only', A);
    repo.addTarget('targets', 'v1', B); // releases wins over targets, as docker resolves it
    repo.publish('targets', 'targets/releases', 'targets/alice');
    const t = await verified(repo);
    const ask = (tag: string, content: string, requiredSigners: string[] = []) => decideServe(t, { gun: GUN, tag, digest: digestOf(content), requiredSigners });
    assert.deepEqual(ask('v1', A), { allow: true, reason: 'tag "v1" signed in targets/releases' });
    assert.equal(ask('admin-only', A).allow, true);
    const moved = ask('v1', B);
    assert.equal(moved.allow, false);
    assert.match(moved.reason, new RegExp(`tag "v1" is signed in ${GUN} for ${digestOf(A)}, but the registry's "v1" is ${digestOf(B)}`));
    const other = ask('alice-only', A);
    assert.equal(other.reason, `tag "alice-only" is not signed in ${GUN} (neither targets/releases nor targets lists it)`);
    assert.equal(ask('v1', A, ['alice']).allow, true);
    const bob = ask('v1', A, ['alice', 'bob']);
    assert.equal(bob.allow, false);
    assert.match(bob.reason, /required signer "bob" is not a signer \(no valid targets\/bob role\)/);
    assert.match(ask('admin-only', A, ['alice']).reason, /required signer "alice" has not signed it/);
  });

  it('a digest: the digest of some signed tag, or a child of a signed index', async () => {
    const repo = dockerRepo();
    repo.addTarget('targets/releases', 'multi', 'index');
    repo.publish('targets/releases');
    const t = await verified(repo);
    const ask = (content: string, children?: Map<string, string[]>) => decideServe(t, { gun: GUN, digest: digestOf(content), requiredSigners: [], ...(children ? { children } : {}) });
    assert.equal(ask(A).allow, true);
    assert.deepEqual(ask(B), { allow: false, reason: `${digestOf(B)} is not the digest of any signed tag in ${GUN}` });
    assert.equal(ask('platform', new Map([[digestOf('index'), [digestOf('platform')]]])).allow, true);
    assert.match(decideServe(t, { gun: GUN, digest: digestOf(A), requiredSigners: ['alice'] }).reason, /lacks a required signature/);
  });

  it('delete: refused for a signed tag or a digest some tag is signed for, naming the command that unsigns it', async () => {
    const repo = dockerRepo();
    repo.addTarget('targets/releases', 'v1', A);
    repo.publish('targets/releases');
    const t = await verified(repo);
    assert.equal(
      decideDelete(t, { gun: GUN, tag: 'v1', digest: digestOf(A) }).reason,
      `tag "v1" is signed in ${GUN} (targets/releases); unsign it first: docker trust revoke ${GUN}:v1`,
    );
    assert.equal(decideDelete(t, { gun: GUN, tag: 'v2', digest: digestOf(A) }).allow, true);
    const d = decideDelete(t, { gun: GUN, digest: digestOf(A) });
    assert.equal(d.allow, false);
    assert.match(d.reason, /as "admin-only", "v1"; unsign them first: docker trust revoke .*:admin-only; docker trust revoke .*:v1$/);
    assert.equal(decideDelete(t, { gun: GUN, digest: digestOf(B) }).allow, true);
  });
});

describe('settings', () => {
  it('validates every field at once and applies the closest namespace', async () => {
    assert.throws(
      () => parseNamespacePolicy('Team', { enforce: 'yes', pinned_root_key: 'abc', required_signers: ['releases', 'ok'], extra: 1 }),
      (err: unknown) => err instanceof PolicySettingsError && err.problems.length === 5,
    );
    const store = new MemoryPolicyStore();
    await store.set(parseNamespacePolicy('team', { enforce: true, required_signers: ['bob', 'alice', 'bob'] }));
    await store.set(parseNamespacePolicy('team/sandbox', { enforce: false }));
    assert.deepEqual((await effectivePolicy(store, 'team/app'))?.requiredSigners, ['alice', 'bob']);
    assert.equal((await effectivePolicy(store, 'team/sandbox/x'))?.enforce, false);
    assert.equal(await effectivePolicy(store, 'teams/app'), null);
  });
});

describe('ContentTrustPolicy', () => {
  async function setup(opts: { enforce?: boolean; requiredSigners?: string[] } = {}) {
    const store = new FakeStore();
    const repo = dockerRepo();
    repo.addTarget('targets/releases', 'v1', A);
    repo.publish('targets/releases');
    store.add(repo);
    const settings = new MemoryPolicyStore();
    await settings.set(parseNamespacePolicy('team', { enforce: opts.enforce ?? true, required_signers: opts.requiredSigners ?? [] }));
    const tokens = new Map<string, Requester>([
      ['Bearer puller', { subject: 'carol', access: [{ type: 'repository', class: '', name: 'team/app', actions: ['pull'] }] }],
      ['Bearer pusher', { subject: 'alice', access: [{ type: 'repository', class: '', name: 'team/app', actions: ['pull', 'push'] }] }],
    ]);
    const audit = new MemoryAuditSink();
    const policy = new ContentTrustPolicy({
      settings,
      trust: store,
      gunsFor: (name) => [`localhost:5000/${name}`, `127.0.0.1:5000/${name}`],
      identify: async (h) => (h === undefined ? null : (tokens.get(h) ?? null)),
      audit,
      now: () => NOW,
    });
    return { store, repo, policy, audit };
  }
  const get = (authorization: string | undefined) => ({ method: 'GET', authorization });

  it('serves signed tags, refuses unsigned ones with 412, and audits each decision', async () => {
    const { policy, audit } = await setup();
    assert.deepEqual(await policy.mayServe({ name: 'team/app', reference: 'v1', digest: digestOf(A) }, get('Bearer puller')), { allow: true });
    const r = await policy.mayServe({ name: 'team/app', reference: 'v2', digest: digestOf(B) }, get('Bearer puller'));
    assert.deepEqual(r, { allow: false, status: 412, message: `content trust: tag "v2" is not signed in ${GUN} (neither targets/releases nor targets lists it)` });
    assert.deepEqual(
      audit.entries.map((e) => [e.user, e.action, e.reference, e.decision, e.namespace]),
      [
        ['carol', 'pull', 'v1', 'allow', 'team'],
        ['carol', 'pull', 'v2', 'deny', 'team'],
      ],
    );
    assert.equal(audit.entries[1]?.time, NOW.toISOString());
  });

  it('a repository without trust data under any of its names: nothing is signed', async () => {
    const { policy } = await setup();
    const r = await policy.mayServe({ name: 'team/other', reference: 'v1', digest: digestOf(A) }, get(undefined));
    assert.equal(r.allow, false);
    assert.match((r as { message: string }).message, /no trust data for localhost:5000\/team\/other; tag "v1" is not signed \(sign it: docker trust sign localhost:5000\/team\/other:v1\)/);
  });

  it('a pusher’s own GET and HEAD pass and are audited as such; its DELETE of signed content does not', async () => {
    const { policy, audit } = await setup();
    assert.deepEqual(await policy.mayServe({ name: 'team/app', reference: 'v2', digest: digestOf(B) }, { method: 'HEAD', authorization: 'Bearer pusher' }), { allow: true });
    assert.match(audit.entries.at(-1)!.reason, /^the requester's token grants push .*otherwise refused: tag "v2" is not signed/);
    assert.equal(audit.entries.at(-1)!.action, 'head');
    const del = await policy.mayDelete({ name: 'team/app', reference: 'v1', digest: digestOf(A) }, { method: 'DELETE', authorization: 'Bearer pusher' });
    assert.equal(del.allow, false);
    assert.equal(audit.entries.at(-1)!.action, 'delete');
  });

  it('without enforcement: everything passes and nothing is audited', async () => {
    const { policy, audit } = await setup({ enforce: false });
    assert.deepEqual(await policy.mayServe({ name: 'team/app', reference: 'v2', digest: digestOf(B) }, get(undefined)), { allow: true });
    assert.deepEqual(await policy.mayDelete({ name: 'team/app', reference: 'v1', digest: digestOf(A) }, get(undefined)), { allow: true });
    assert.equal(audit.entries.length, 0);
  });

  it('required signers; a re-signed repository is verified again, an unchanged one comes from the cache', async () => {
    const { policy, store, repo } = await setup({ requiredSigners: ['alice'] });
    const ask = () => policy.mayServe({ name: 'team/app', reference: 'v1', digest: digestOf(A) }, get('Bearer puller'));
    assert.equal((await ask()).allow, false);
    repo.addTarget('targets/alice', 'v1', A);
    repo.publish('targets/alice');
    store.sync();
    assert.equal((await ask()).allow, true);
    const before = store.reads;
    assert.equal((await ask()).allow, true);
    assert.equal(store.reads - before, 2, 'one timestamp read per GUN name, nothing else');
  });

  it('unverifiable trust data refuses serving and deleting', async () => {
    const { policy, store, repo } = await setup();
    repo.sign('targets', { keys: [generateKey()] });
    repo.refreshSnapshot();
    repo.refreshTimestamp();
    store.sync();
    const r = await policy.mayServe({ name: 'team/app', reference: 'v1', digest: digestOf(A) }, get('Bearer puller'));
    assert.match((r as { message: string }).message, /^content trust: trust data for 127\.0\.0\.1:5000\/team\/app does not verify: /);
    const d = await policy.mayDelete({ name: 'team/app', reference: 'x', digest: digestOf(B) }, get('Bearer puller'));
    assert.match((d as { message: string }).message, /deletion is refused until it does$/);
  });
});
