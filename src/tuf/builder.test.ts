import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BadVersionError, ExpiredMetadataError, StateError } from '../errors/index.ts';
import { generateRootKey, metaJSON, resign, TestRepo, tamper } from '../../test/support/tuf-repo.ts';
import { RepoBuilder } from './builder.ts';
import { ChecksumMismatchError, InvalidMetadataError, InvalidRoleError, MissingMetaError, RootRotationError, ThresholdError } from './errors.ts';

const DAY = 86_400_000;
const now = new Date(Date.UTC(2026, 0, 1));
const gun = 'example.com/test/repo';

function repoWithDelegations(): TestRepo {
  const repo = TestRepo.create({ gun, now });
  repo.addDelegation('targets', 'targets/a');
  repo.addDelegation('targets/a', 'targets/a/b');
  repo.addTarget('targets/a/b', 'file', 'content');
  repo.publish('targets', 'targets/a', 'targets/a/b');
  return repo;
}

function clientLoad(repo: TestRepo, b = new RepoBuilder({ gun, now })): RepoBuilder {
  b.loadRoot(repo.bytes('root'));
  b.loadTimestamp(repo.bytes('timestamp'));
  b.loadSnapshot(repo.bytes('snapshot'));
  for (const role of repo.roles().filter((r) => r.startsWith('targets'))) b.loadTargets(role, repo.bytes(role));
  return b;
}

const err = <T extends Error>(type: new (...a: never[]) => T, message: string) => (e: unknown): boolean => e instanceof type && e.message === message;

test('a whole repository loads in client order; models and bytes are kept', () => {
  const repo = repoWithDelegations();
  const b = clientLoad(repo);
  assert.equal(b.targets('targets/a/b')?.signed.targets.get('file')?.length, 7);
  assert.deepEqual(b.targets('targets')?.bytes, repo.bytes('targets'));
  assert.deepEqual([...b.loadedBytes().keys()], ['root', 'targets', 'targets/a', 'targets/a/b']);
  assert.equal(b.loadedVersion('targets'), 2);
  assert.equal(b.loadedVersion('targets/zzz'), 1);
  assert.equal(b.isLoaded('timestamp'), true);
});

test('load order and misuse are StateErrors with notary\'s texts', () => {
  const repo = repoWithDelegations();
  const b = new RepoBuilder({ gun, now });
  assert.throws(() => b.loadTargets('targets', repo.bytes('targets')), err(StateError, 'root must be loaded first'));
  assert.throws(() => b.load('foo', repo.bytes('targets')), err(StateError, 'foo is an invalid role'));
  b.loadRoot(repo.bytes('root'));
  assert.throws(() => b.loadRoot(repo.bytes('root')), err(StateError, 'root has already been loaded'));
  assert.throws(() => b.loadTargets('targets/a', repo.bytes('targets/a')), err(StateError, 'targets must be loaded first'));
  b.loadTargets('targets', repo.bytes('targets'));
  assert.throws(() => b.loadTargets('targets', repo.bytes('targets')), err(StateError, 'targets has already been loaded'));
});

test('delegations are found through loaded parents only', () => {
  const repo = repoWithDelegations();
  const b = new RepoBuilder({ gun, now });
  b.loadRoot(repo.bytes('root'));
  b.loadTargets('targets', repo.bytes('targets'));
  assert.throws(() => b.loadTargets('targets/a/b', repo.bytes('targets/a/b')), err(InvalidRoleError, 'tuf: invalid role targets/a/b. delegation does not exist'));
  assert.throws(() => b.loadTargets('targets/x', repo.bytes('targets/a')), err(InvalidRoleError, 'tuf: invalid role targets/x. delegation does not exist'));
  b.loadTargets('targets/a', repo.bytes('targets/a'));
  b.loadTargets('targets/a/b', repo.bytes('targets/a/b'));
});

test('a delegation dropped from its grandparent is unreachable', () => {
  const repo = repoWithDelegations();
  const targets = resign(repo.bytes('targets'), repo.keys('targets'), (s) => { s['delegations']['roles'] = []; });
  const b = new RepoBuilder({ gun, now });
  b.loadRoot(repo.bytes('root'));
  b.loadTargets('targets', targets);
  assert.throws(() => b.loadTargets('targets/a', repo.bytes('targets/a')), InvalidRoleError);
});

test('targets: signatures are checked before structure; delegations: structure and version before signatures', () => {
  const repo = repoWithDelegations();
  const b = new RepoBuilder({ gun, now });
  b.loadRoot(repo.bytes('root'));
  const badTargets = tamper(repo.bytes('targets'), (s) => { s['version'] = 0; });
  assert.throws(() => b.loadTargets('targets', badTargets), err(ThresholdError, 'valid signatures did not meet threshold for targets'));
  b.loadTargets('targets', repo.bytes('targets'));
  const badDeleg = tamper(repo.bytes('targets/a'), (s) => { s['version'] = 0; });
  assert.throws(() => b.loadTargets('targets/a', badDeleg), err(InvalidMetadataError, 'targets/a type metadata invalid: version cannot be less than one'));
  const lowDeleg = tamper(repo.bytes('targets/a'), (s) => { s['version'] = 1; });
  assert.throws(() => b.loadTargets('targets/a', lowDeleg, { minVersion: 2 }), err(BadVersionError, 'version 1 is lower than current version 2'));
  assert.throws(() => b.loadTargets('targets/a', lowDeleg), err(ThresholdError, 'valid signatures did not meet threshold for targets/a'));
  const wrongKey = resign(repo.bytes('targets/a'), repo.keys('targets'));
  assert.throws(() => b.loadTargets('targets/a', wrongKey), ThresholdError);
});

test('expiry is checked last and can be allowed', () => {
  const repo = repoWithDelegations();
  const later = new Date(now.getTime() + 15 * DAY);
  const b = new RepoBuilder({ gun, now: later });
  b.loadRoot(repo.bytes('root'));
  assert.throws(() => b.loadTimestamp(repo.bytes('timestamp')), (e: unknown) => e instanceof ExpiredMetadataError && e.message === 'timestamp expired at Thu Jan 15 00:00:00 UTC 2026');
  b.loadTimestamp(repo.bytes('timestamp'), { allowExpired: true });
  const veryLate = new Date(now.getTime() + 1100 * DAY);
  const c = new RepoBuilder({ gun, now: veryLate });
  c.loadRoot(repo.bytes('root'));
  assert.throws(() => c.loadTargets('targets', repo.bytes('targets')), ExpiredMetadataError);
  c.loadTargets('targets', repo.bytes('targets'), { allowExpired: true });
  assert.throws(() => c.loadTargets('targets/a', repo.bytes('targets/a')), err(ExpiredMetadataError, 'targets/a expired at Sun Dec 31 00:00:00 UTC 2028'));
});

test('bytes loaded before their listing are checked when the listing arrives', () => {
  const repo = repoWithDelegations();
  const other = resign(repo.bytes('targets'), repo.keys('targets'), (s) => { s['targets']['x'] = metaJSON(new Uint8Array(1)); });
  const b = new RepoBuilder({ gun, now });
  b.loadRoot(repo.bytes('root'));
  b.loadTargets('targets', other); // valid on its own
  assert.throws(() => b.loadSnapshot(repo.bytes('snapshot')), (e: unknown) => e instanceof ChecksumMismatchError && e.message.startsWith('sha256 checksum for targets did not match: expected '));
});

test('bytes loaded after their listing are checked immediately; a missing entry is an error', () => {
  const repo = repoWithDelegations();
  const b = new RepoBuilder({ gun, now });
  b.loadRoot(repo.bytes('root'));
  b.loadTimestamp(repo.bytes('timestamp'));
  const staleSnapshot = resign(repo.bytes('snapshot'), repo.keys('snapshot'), (s) => { delete s['meta']['targets/a']; });
  assert.throws(() => b.loadSnapshot(staleSnapshot), ChecksumMismatchError);
  b.loadSnapshot(repo.bytes('snapshot'));
  const other = resign(repo.bytes('targets'), repo.keys('targets'));
  assert.throws(() => b.loadTargets('targets', other), ChecksumMismatchError);
  b.loadTargets('targets', repo.bytes('targets'));

  const c = new RepoBuilder({ gun, now });
  c.loadRoot(repo.bytes('root'));
  c.loadSnapshot(staleSnapshot);
  c.loadTargets('targets', repo.bytes('targets'));
  assert.throws(() => c.loadTargets('targets/a', repo.bytes('targets/a')), err(MissingMetaError, 'no checksums for supported algorithms were provided for targets/a'));
});

test('a snapshot loaded before the timestamp is checked against it', () => {
  const repo = repoWithDelegations();
  const b = new RepoBuilder({ gun, now });
  b.loadRoot(repo.bytes('root'));
  b.loadSnapshot(resign(repo.bytes('snapshot'), repo.keys('snapshot')));
  assert.throws(() => b.loadTimestamp(repo.bytes('timestamp')), ChecksumMismatchError);
});

test('x509 delegation keys are not checked for expiry', () => {
  const repo = TestRepo.create({ gun, now });
  repo.addDelegation('targets', 'targets/cert', { keys: [generateRootKey('delegate', new Date(now.getTime() - 4000 * DAY))] });
  repo.publish('targets');
  clientLoad(repo);
});

test('root rotation through a bootstrapped builder requires the old keys; loadRootForUpdate chains versions', () => {
  const repo = TestRepo.create({ gun, now });
  const v1 = repo.bytes('root');
  const b = new RepoBuilder({ gun, now });
  b.loadRoot(v1);
  const v2 = repo.rotateRootKeys();
  b.bootstrapNewBuilder().loadRoot(v2);
  const v3bad = repo.sign('root', { keys: [generateRootKey(gun, now)] });
  const v3 = repo.sign('root', { bump: false });
  assert.throws(() => b.bootstrapNewBuilder().loadRoot(v3bad), RootRotationError);
  const u = b.bootstrapNewBuilder();
  u.loadRootForUpdate(v2, 1, false);
  u.loadRootForUpdate(v3, 2, true);
  assert.equal(u.root?.signed.version, 3);
  assert.throws(() => b.bootstrapNewBuilder().loadRoot(v3), RootRotationError); // v1 keys did not sign v3
  assert.throws(() => new RepoBuilder({ gun, now }).loadRoot(v1, { minVersion: 2 }), err(BadVersionError, 'version 1 is lower than current version 2'));
});
