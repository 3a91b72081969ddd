import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExpiredMetadataError, StateError } from '../errors/index.ts';
import { ChecksumMismatchError, RootRotationError, RootValidationError, ThresholdError, type TrustPinning } from '../tuf/index.ts';
import { TestRepo, corruptSignatures, generateKey, generateRootKey, metaJSON, resign, tamper } from '../../test/support/tuf-repo.ts';
import {
  TooManyRootRotationsError,
  TrustedSet,
  attributeTo,
  isNearExpiry,
  isSkippableDelegationFailure,
  nearExpiryWarnings,
} from './trusted-set.ts';

const NOW = new Date('2030-03-01T12:00:00Z');
const GUN = 'example.com/trusted-set';
const PAST = '2001-01-01T00:00:00Z';

const noPinning = (): TrustPinning => ({});
const pinningMustNotBeUsed = (): TrustPinning => {
  throw new Error('pinning consulted');
};

function freshRepo(): TestRepo {
  return TestRepo.create({ gun: GUN, now: NOW });
}

/** A set that trusts `repo`'s current root (as if cached and valid). */
function trusting(repo: TestRepo, pinning: () => TrustPinning = pinningMustNotBeUsed): TrustedSet {
  return TrustedSet.bootstrap({ gun: GUN, now: NOW, pinning, cachedRoot: repo.bytes('root') });
}

function loadAll(set: TrustedSet, repo: TestRepo): void {
  set.updateTimestamp(repo.bytes('timestamp'), null);
  set.updateSnapshot(repo.bytes('snapshot'), null);
  set.updateTargets('targets', repo.bytes('targets'), null);
}

describe('TrustedSet bootstrap (§10.1)', () => {
  it('10.1.1 trusts a valid cached root without consulting pinning', () => {
    const repo = freshRepo();
    const set = trusting(repo);
    assert.equal(set.needsRoot, false);
    assert.equal(set.isFirstContact, false);
    assert.equal(set.root.signed.version, 1);
    assert.equal(set.firstContact(), undefined);
  });

  it('10.1.1 refuses a cached root that does not load even allowing expiry', () => {
    const repo = freshRepo();
    const broken = corruptSignatures(repo.bytes('root'));
    assert.throws(
      () => TrustedSet.bootstrap({ gun: GUN, now: NOW, pinning: noPinning, cachedRoot: broken }),
      (e) => e instanceof RootValidationError && e.message === 'could not validate the path to a trusted root: failed to validate integrity of roots',
    );
  });

  it('10.1.1 keeps an expired cached root as previous root and version floor, then uses real pinning', () => {
    const repo = freshRepo();
    const expired = repo.sign('root', { mutate: (s) => (s['expires'] = PAST), bump: false });
    let consulted = 0;
    const set = TrustedSet.bootstrap({ gun: GUN, now: NOW, pinning: () => (consulted++, {}), cachedRoot: expired });
    assert.equal(set.needsRoot, true);
    assert.equal(consulted, 1);
    assert.equal(set.previousRoot?.signed.version, 1);
    // same version again, now valid: accepted (signed by the previous root's key)
    const renewed = repo.sign('root', { mutate: (s) => (s['expires'] = repo.expiry('root')), bump: true });
    set.loadRoot(renewed);
    assert.equal(set.root.signed.version, 2);
    assert.equal(set.firstContact(), undefined);
  });

  it('10.1.2 first contact: TOFU root reported with its key IDs and certificate fingerprints', () => {
    const repo = freshRepo();
    const set = TrustedSet.bootstrap({ gun: GUN, now: NOW, pinning: noPinning });
    assert.equal(set.needsRoot, true);
    set.loadRoot(repo.bytes('root'));
    const info = set.firstContact();
    assert.equal(info?.trustedBy, 'tofu');
    assert.equal(info?.rootVersion, 1);
    assert.deepEqual(info?.keys.map((k) => k.keyId), [repo.keys('root')[0]?.id]);
    assert.match(info?.keys[0]?.certSha256 ?? '', /^[0-9a-f]{64}$/);
    assert.equal(info?.keys[0]?.commonName, GUN);
  });

  it('10.1.2 first contact with disable_tofu and no pin is refused', () => {
    const repo = freshRepo();
    const set = TrustedSet.bootstrap({ gun: GUN, now: NOW, pinning: () => ({ disableTofu: true }) });
    assert.throws(() => set.loadRoot(repo.bytes('root')), (e) => e instanceof RootValidationError && /invalid trust pinning specified/.test(e.message));
  });

  it('10.1.2 first contact with a certs pin: matching key accepted (trustedBy certs), other key refused', () => {
    const repo = freshRepo();
    const id = repo.keys('root')[0]?.id as string;
    const ok = TrustedSet.bootstrap({ gun: GUN, now: NOW, pinning: () => ({ certs: new Map([[GUN, [id]]]) }) });
    ok.loadRoot(repo.bytes('root'));
    assert.equal(ok.firstContact()?.trustedBy, 'certs');
    const other = TrustedSet.bootstrap({ gun: GUN, now: NOW, pinning: () => ({ certs: new Map([[GUN, ['ab'.repeat(32)]]]) }) });
    assert.throws(() => other.loadRoot(repo.bytes('root')), hasMessage(/unable to match any certificates to trust_pinning config/));
  });
});

describe('TrustedSet timestamp (§10.2 step 1)', () => {
  it('10.2.1 accepts a valid timestamp and refuses one below the cached version', () => {
    const repo = freshRepo();
    repo.refreshTimestamp();
    repo.refreshTimestamp();
    const v3 = repo.bytes('timestamp');
    repo.refreshTimestamp();
    repo.refreshTimestamp();
    const v5 = repo.bytes('timestamp');
    const set = trusting(repo);
    assert.throws(() => set.updateTimestamp(v3, v5), (e) => e instanceof Error && e.message === 'timestamp: version 3 is lower than current version 5');
    const again = trusting(repo);
    again.updateTimestamp(v5, v3);
  });

  it('10.2.1 refuses an expired timestamp (freeze) and a wrongly signed one', () => {
    const repo = freshRepo();
    const expired = resign(repo.bytes('timestamp'), repo.keys('timestamp'), (s) => (s['expires'] = PAST));
    assert.throws(() => trusting(repo).updateTimestamp(expired, null), (e) => e instanceof ExpiredMetadataError && /^timestamp expired at Mon Jan 1 00:00:00 UTC 2001$/.test(e.message));
    const wrongKey = resign(repo.bytes('timestamp'), [generateKey('ed25519')]);
    assert.throws(() => trusting(repo).updateTimestamp(wrongKey, null), (e) => e instanceof ThresholdError && e.message === 'valid signatures did not meet threshold for timestamp');
  });

  it('10.2.1 an expired but otherwise valid timestamp still raises the floor for the retry (intermediate)', () => {
    const repo = freshRepo();
    for (let i = 0; i < 5; i++) repo.refreshTimestamp();
    const v6 = repo.bytes('timestamp');
    repo.refreshTimestamp();
    const v7expired = resign(repo.bytes('timestamp'), repo.keys('timestamp'), (s) => (s['expires'] = PAST));
    const set = trusting(repo);
    assert.throws(() => set.updateTimestamp(v7expired, null), ExpiredMetadataError);
    set.beginRetry();
    set.loadUpdatedRoot(repo.bytes('root'));
    assert.throws(() => set.updateTimestamp(v6, null), hasMessage(/^timestamp: version 6 is lower than current version 7$/));
  });

  it('10.2.1 the cached timestamp is usable as a fallback only while it verifies and is unexpired', () => {
    const repo = freshRepo();
    trusting(repo).useCachedTimestamp(repo.bytes('timestamp'));
    const expired = resign(repo.bytes('timestamp'), repo.keys('timestamp'), (s) => (s['expires'] = PAST));
    assert.throws(() => trusting(repo).useCachedTimestamp(expired), hasMessage(/^timestamp expired at/));
  });
});

describe('TrustedSet snapshot (§10.2 step 2)', () => {
  it('10.2.2 cache first: a cached snapshot matching the timestamp is used, a stale one is not', () => {
    const repo = freshRepo();
    const stale = repo.bytes('snapshot');
    repo.publish('targets');
    const set = trusting(repo);
    set.updateTimestamp(repo.bytes('timestamp'), null);
    const why = set.tryCachedSnapshot(stale);
    assert.ok(why instanceof ChecksumMismatchError);
    assert.match(why.message, /^sha256 checksum for snapshot did not match: expected [0-9a-f]{64}$/);
    assert.equal(set.tryCachedSnapshot(repo.bytes('snapshot')), null);
    assert.deepEqual(set.consistentInfo('targets').sha256?.length, 64);
  });

  it('10.2.2 refuses a snapshot that does not match the timestamp, one below the cached version, and an expired one', () => {
    const repo = freshRepo();
    repo.publish('targets');
    repo.publish('targets');
    const set = trusting(repo);
    set.updateTimestamp(repo.bytes('timestamp'), null);
    const other = resign(repo.bytes('snapshot'), repo.keys('snapshot'), (s) => (s['version'] = 99));
    assert.throws(() => set.updateSnapshot(other, null), hasMessage(/^sha256 checksum for snapshot did not match/));

    // rollback: remote snapshot v2 (consistent with its timestamp) vs cached v3
    const r = freshRepo();
    r.publish('targets'); // snapshot v2
    const snapV2 = r.bytes('snapshot');
    const tsV2 = r.bytes('timestamp');
    r.publish('targets'); // snapshot v3
    const snapV3 = r.bytes('snapshot');
    const s2 = trusting(r);
    s2.updateTimestamp(tsV2, null);
    assert.throws(() => s2.updateSnapshot(snapV2, snapV3), hasMessage(/^snapshot: version 2 is lower than current version 3$/));

    const expiredSnap = resign(r.bytes('snapshot'), r.keys('snapshot'), (s) => (s['expires'] = PAST));
    const tsFor = resign(r.bytes('timestamp'), r.keys('timestamp'), (s) => {
      s['meta']['snapshot'] = metaJSON(expiredSnap);
    });
    const s3 = trusting(r);
    s3.updateTimestamp(tsFor, null);
    assert.throws(() => s3.updateSnapshot(expiredSnap, null), hasMessage(/^snapshot expired at Mon Jan 1 00:00:00 UTC 2001$/));
  });

  it('10.2.2 a snapshot listing another root records that root for the retry', () => {
    const repo = freshRepo();
    const oldRoot = repo.bytes('root');
    repo.rotateRootKeys();
    repo.publish();
    const set = TrustedSet.bootstrap({ gun: GUN, now: NOW, pinning: pinningMustNotBeUsed, cachedRoot: oldRoot });
    set.updateTimestamp(repo.bytes('timestamp'), null);
    assert.throws(() => set.updateSnapshot(repo.bytes('snapshot'), null), hasMessage(/checksum for root did not match/));
    set.beginRetry();
    const info = set.rootUpdateInfo();
    assert.equal(info.known, true);
    assert.equal(info.length, repo.bytes('root').length);
    set.loadUpdatedRoot(repo.bytes('root'));
    loadAll(set, repo);
    assert.equal(set.finish().root.signed.version, 2);
  });
});

describe('TrustedSet targets (§10.2 step 3)', () => {
  it('10.2.3 loads targets and delegations; children carry effective paths', () => {
    const repo = freshRepo();
    repo.addDelegation('targets', 'targets/a', { paths: ['app/', 'lib/'] });
    repo.addDelegation('targets/a', 'targets/a/b', { paths: ['app/x', 'other/'] });
    repo.publish('targets', 'targets/a');
    const set = trusting(repo);
    loadAll(set, repo);
    const [a] = set.children({ name: 'targets', paths: [''] });
    assert.deepEqual(a, { name: 'targets/a', paths: ['app/', 'lib/'] });
    set.updateTargets('targets/a', repo.bytes('targets/a'), null);
    assert.deepEqual(set.children(a as { name: string; paths: string[] }), [{ name: 'targets/a/b', paths: ['app/x'] }]);
    set.updateTargets('targets/a/b', repo.bytes('targets/a/b'), null);
    assert.deepEqual(set.loadedTargets(), ['targets', 'targets/a', 'targets/a/b']);
  });

  it('10.2.3 a targets file that does not match the snapshot, or is signed by the wrong key, is refused', () => {
    const repo = freshRepo();
    repo.addDelegation('targets', 'targets/releases');
    repo.publish('targets');
    const tampered = tamper(repo.bytes('targets'), (s) => (s['targets']['evil'] = { hashes: { sha256: 'AA==' }, length: 1 }));
    const set = trusting(repo);
    set.updateTimestamp(repo.bytes('timestamp'), null);
    set.updateSnapshot(repo.bytes('snapshot'), null);
    assert.throws(() => set.updateTargets('targets', tampered, null), hasMessage(/^sha256 checksum for targets did not match: expected [0-9a-f]{64}$/));

    // consistently listed, but signed by a key root does not list: fatal ThresholdError for targets
    repo.sign('targets', { keys: [generateKey()] });
    repo.refreshSnapshot();
    repo.refreshTimestamp();
    const s2 = trusting(repo);
    s2.updateTimestamp(repo.bytes('timestamp'), null);
    s2.updateSnapshot(repo.bytes('snapshot'), null);
    const err = captured(() => s2.updateTargets('targets', repo.bytes('targets'), null));
    assert.ok(err instanceof ThresholdError);
    assert.equal(err.message, 'valid signatures did not meet threshold for targets');
    assert.equal(isSkippableDelegationFailure('targets', err), false);
    assert.equal(isSkippableDelegationFailure('targets/releases', new ThresholdError('targets/releases')), true);
    assert.equal(isSkippableDelegationFailure('targets/releases', new ExpiredMetadataError('targets/releases expired at …')), true);
    assert.equal(isSkippableDelegationFailure('targets/x', new RootRotationError('x')), false);
  });

  it('10.2.3 a delegation signed below threshold fails with ThresholdError naming it', () => {
    const repo = freshRepo();
    const keys = [generateKey(), generateKey()];
    repo.addDelegation('targets', 'targets/team', { keys, threshold: 2 });
    repo.sign('targets/team', { keys: [keys[0] as (typeof keys)[0]] });
    repo.publish('targets');
    const set = trusting(repo);
    loadAll(set, repo);
    assert.throws(
      () => set.updateTargets('targets/team', repo.bytes('targets/team'), null),
      (e) => e instanceof ThresholdError && e.message === 'valid signatures did not meet threshold for targets/team',
    );
  });
});

describe('TrustedSet root update (§10.2 step 4)', () => {
  it('10.2.4 walks a chain of rotations, each version signed by its predecessor', () => {
    const repo = freshRepo();
    const v1 = repo.bytes('root');
    const chain: Uint8Array[] = [];
    for (let i = 0; i < 3; i++) chain.push(repo.rotateRootKeys());
    repo.publish();
    const set = TrustedSet.bootstrap({ gun: GUN, now: NOW, pinning: pinningMustNotBeUsed, cachedRoot: v1 });
    set.beginRetry();
    const newest = chain[2] as Uint8Array;
    assert.throws(() => set.loadUpdatedRoot(newest), RootRotationError);
    const plan = set.planRootWalk(newest);
    assert.deepEqual(plan, { from: 1, to: 4 });
    set.loadRootStep(v1, 1, false);
    set.loadRootStep(chain[0] as Uint8Array, 2, false);
    set.loadRootStep(chain[1] as Uint8Array, 3, false);
    set.loadRootStep(newest, 4, true);
    loadAll(set, repo);
    assert.equal(set.finish().root.signed.version, 4);
  });

  it('10.2.4 refuses a root rotated without the old root signature, a wrong version and too many rotations', () => {
    const repo = freshRepo();
    const v1 = repo.bytes('root');
    const newKey = generateRootKey(GUN, NOW);
    const unsigned = repo.rotateRootKeys([newKey], [newKey]);
    const set = TrustedSet.bootstrap({ gun: GUN, now: NOW, pinning: pinningMustNotBeUsed, cachedRoot: v1 });
    set.beginRetry();
    assert.throws(
      () => set.loadUpdatedRoot(unsigned),
      (e) => e instanceof RootRotationError && e.message === 'could not rotate trust to a new trusted root: failed to validate data with current trusted certificates',
    );
    set.loadRootStep(v1, 1, false);
    assert.throws(() => set.loadRootStep(unsigned, 2, true), RootRotationError);

    // `<v>.root.json` must be version v
    const ok = freshRepo();
    const first = ok.bytes('root');
    ok.sign('root');
    const v3 = ok.sign('root');
    const walk = TrustedSet.bootstrap({ gun: GUN, now: NOW, pinning: pinningMustNotBeUsed, cachedRoot: first });
    walk.beginRetry();
    walk.loadRootStep(first, 1, false);
    assert.throws(() => walk.loadRootStep(v3, 2, false), hasMessage(/^root: expected version 2, got 3$/));

    const r = freshRepo();
    const start = r.bytes('root');
    for (let i = 0; i < 5; i++) r.rotateRootKeys();
    const limited = TrustedSet.bootstrap({ gun: GUN, now: NOW, pinning: pinningMustNotBeUsed, cachedRoot: start, maxRootRotations: 3 });
    limited.beginRetry();
    assert.throws(() => limited.planRootWalk(r.bytes('root')), TooManyRootRotationsError);
    assert.throws(() => limited.planRootWalk(r.bytes('root')), hasMessage(/^root: updating from version 1 to 6 needs more than the maximum of 3 root rotations$/));
  });

  it('10.2.4 a root update may not go below the previous root', () => {
    const repo = freshRepo();
    const v1 = repo.bytes('root');
    const v2 = repo.sign('root');
    const set = TrustedSet.bootstrap({ gun: GUN, now: NOW, pinning: pinningMustNotBeUsed, cachedRoot: v2 });
    set.beginRetry();
    assert.throws(() => set.loadUpdatedRoot(v1), hasMessage(/^root: version 1 is lower than current version 2$/));
    assert.throws(() => set.planRootWalk(v1), hasMessage(/^root: version 1 is lower than current version 2$/));
  });
});

describe('TrustedSet misuse and helpers', () => {
  it('finish() before everything is loaded is a StateError; loading out of order too', () => {
    const repo = freshRepo();
    const set = trusting(repo);
    assert.throws(() => set.finish(), StateError);
    assert.throws(() => set.updateTargets('targets/x', repo.bytes('targets'), null), StateError);
    const empty = TrustedSet.bootstrap({ gun: GUN, now: NOW, pinning: noPinning });
    assert.throws(() => empty.root, StateError);
    assert.throws(() => empty.beginRetry(), StateError);
  });

  it('attributeTo prefixes messages that do not name the role and keeps the class', () => {
    const e = attributeTo('timestamp', new StateError('version 3 is lower than current version 5'));
    assert.ok(e instanceof StateError);
    assert.equal(e.message, 'timestamp: version 3 is lower than current version 5');
    assert.equal((e as unknown as { role: string }).role, 'timestamp');
    assert.equal((e as unknown as { notaryMessage: string }).notaryMessage, 'version 3 is lower than current version 5');
    assert.equal(attributeTo('targets', new Error('valid signatures did not meet threshold for targets')).message, 'valid signatures did not meet threshold for targets');
    assert.equal(attributeTo('targets', new Error('bad targets/a thing')).message, 'targets: bad targets/a thing');
  });

  it('near-expiry warnings for roles expiring within 6 months (not timestamp)', () => {
    const repo = freshRepo();
    const set = trusting(repo);
    loadAll(set, repo);
    const repoView = set.finish();
    assert.deepEqual(nearExpiryWarnings(repoView, NOW), []);
    const later = new Date(NOW.getTime() + 1095 * 86400_000 - 30 * 86400_000);
    assert.deepEqual(nearExpiryWarnings(repoView, later), [
      'targets metadata is nearing expiry, you should re-sign the role metadata',
      'snapshot is nearing expiry, you should re-sign the role metadata',
    ]);
    assert.equal(isNearExpiry(Date.parse('2030-08-31T00:00:00Z'), NOW), true);
    assert.equal(isNearExpiry(Date.parse('2030-09-02T00:00:00Z'), NOW), false);
  });
});

/** An assert.throws validator matching the message only (not `Name: message`). */
function hasMessage(re: RegExp): (e: unknown) => boolean {
  return (e) => e instanceof Error && re.test(e.message);
}

function captured(fn: () => void): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

