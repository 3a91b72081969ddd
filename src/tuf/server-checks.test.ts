import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256Hex } from '../canonical/index.ts';
import { DeserializationError, ExpiredMetadataError } from '../errors/index.ts';
import { resign, signCanonical, TestRepo } from '../../test/support/tuf-repo.ts';
import { assembleSigned } from './envelope.ts';
import { ChecksumMismatchError, MissingMetaError, RootValidationError, ThresholdError } from './errors.ts';
import { buildSnapshot } from './generate.ts';
import {
  isSnapshotExpired,
  isTimestampExpired,
  loadCurrentRoot,
  needsNewTimestamp,
  readStoredSnapshot,
  readStoredTimestamp,
  snapshotChecksumHex,
  snapshotMatchesTimestamp,
  verifySnapshotForTimestamp,
} from './server-checks.ts';
import { defaultExpiry } from './time.ts';

const DAY = 86_400_000;
const now = new Date(Date.UTC(2026, 0, 1));
const gun = 'example.com/test/repo';

test('the timestamp points at its snapshot by sha256; it is current while unexpired and matching', () => {
  const repo = TestRepo.create({ gun, now });
  const ts = readStoredTimestamp(repo.bytes('timestamp'));
  assert.equal(snapshotChecksumHex(ts), sha256Hex(repo.bytes('snapshot')));
  assert.equal(snapshotMatchesTimestamp(ts, repo.bytes('snapshot')), true);
  assert.equal(needsNewTimestamp(ts, repo.bytes('snapshot'), now), false);
  assert.equal(isTimestampExpired(ts, new Date(now.getTime() + 14 * DAY)), false);
  assert.equal(isTimestampExpired(ts, new Date(now.getTime() + 14 * DAY + 1)), true);
  assert.equal(needsNewTimestamp(ts, repo.bytes('snapshot'), new Date(now.getTime() + 15 * DAY)), true);
  const newer = repo.refreshSnapshot();
  assert.equal(snapshotMatchesTimestamp(ts, newer), false);
  assert.equal(needsNewTimestamp(ts, newer, now), true);
});

test('a timestamp without snapshot sha256 has no checksum', () => {
  const repo = TestRepo.create({ gun, now });
  const ts = readStoredTimestamp(resign(repo.bytes('timestamp'), [], (s) => { delete s['meta']['snapshot']['hashes']['sha256']; }));
  assert.throws(() => snapshotChecksumHex(ts), MissingMetaError);
  assert.equal(snapshotMatchesTimestamp(ts, repo.bytes('snapshot')), true); // sha512 still listed and matching
  assert.throws(() => readStoredTimestamp(new TextEncoder().encode('{"signed":{"version":"x"}}')), DeserializationError);
});

test('snapshot expiry and regeneration inputs', () => {
  const repo = TestRepo.create({ gun, now });
  const sn = readStoredSnapshot(repo.bytes('snapshot'));
  const afterSnapshot = new Date(now.getTime() + 1096 * DAY);
  assert.equal(isSnapshotExpired(sn, now), false);
  assert.equal(isSnapshotExpired(sn, afterSnapshot), true);
  const root = loadCurrentRoot(gun, afterSnapshot, repo.bytes('root'));
  const regenerated = buildSnapshot(sn, new Map([['root', root.bytes]]), defaultExpiry('snapshot', afterSnapshot));
  assert.equal(regenerated.signed.version, 2);
  assert.deepEqual(regenerated.signed.meta.get('targets'), sn.meta.get('targets'));
  const bytes = assembleSigned(regenerated.canonical, signCanonical(regenerated.canonical, repo.keys('snapshot')));
  assert.equal(verifySnapshotForTimestamp({ gun, now: afterSnapshot, rootBytes: repo.bytes('root'), snapshotBytes: bytes }).snapshot.signed.version, 2);
});

test('a new timestamp needs an unexpired root and a snapshot that verifies against it', () => {
  const repo = TestRepo.create({ gun, now });
  const input = { gun, now, rootBytes: repo.bytes('root'), snapshotBytes: repo.bytes('snapshot') };
  assert.equal(verifySnapshotForTimestamp(input).root.signed.version, 1);
  assert.throws(() => verifySnapshotForTimestamp({ ...input, now: new Date(now.getTime() + 1096 * DAY) }), ExpiredMetadataError);
  assert.throws(() => verifySnapshotForTimestamp({ ...input, snapshotBytes: resign(repo.bytes('snapshot'), repo.keys('targets')) }), ThresholdError);
  const otherRoot = repo.sign('root');
  assert.throws(() => verifySnapshotForTimestamp({ ...input, rootBytes: otherRoot }), ChecksumMismatchError);
  assert.throws(() => loadCurrentRoot('example.com/other', now, otherRoot), RootValidationError);
  const shortRoot = repo.sign('root', { mutate: (s) => { s['expires'] = '2026-01-02T00:00:00Z'; } });
  assert.throws(() => loadCurrentRoot(gun, new Date(now.getTime() + 2 * DAY), shortRoot), ExpiredMetadataError);
});
