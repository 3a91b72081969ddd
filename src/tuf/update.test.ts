import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeserializationError, UpdateValidationError, type ValidationErrorName } from '../errors/index.ts';
import { generateRootKey, resign, signCanonical, TestRepo, tamper } from '../../test/support/tuf-repo.ts';
import { RepoBuilder } from './builder.ts';
import { assembleSigned } from './envelope.ts';
import { StoredMetadataError } from './errors.ts';
import { buildSnapshot, buildTimestamp } from './generate.ts';
import { defaultExpiry } from './time.ts';
import { parsePreviousTimestamp, snapshotKeyMissingError, timestampKeyMissingError, validateUpdate, type UpdatePlan } from './update.ts';

const DAY = 86_400_000;
const now = new Date(Date.UTC(2026, 0, 1));
const gun = 'example.com/test/repo';

type Store = Map<string, Uint8Array>;

function validate(store: Store, uploads: Map<string, Uint8Array>, at = now): UpdatePlan {
  return validateUpdate({ gun, now: at, storedRoot: store.get('root') ?? null, storedRoles: (r) => store.get(r) ?? null, uploads });
}

/** What TrustService does after validation, with the repo's snapshot/timestamp keys standing in for server keys. */
function serverPublish(repo: TestRepo, store: Store, uploads: Map<string, Uint8Array>, at = now): UpdatePlan {
  const plan = validate(store, uploads, at);
  for (const u of plan.updates) store.set(u.role, u.data);
  if (plan.snapshot.kind === 'generate') {
    const sn = buildSnapshot(plan.snapshot.prev, plan.loaded, defaultExpiry('snapshot', at));
    store.set('snapshot', assembleSigned(sn.canonical, signCanonical(sn.canonical, repo.keys('snapshot'))));
  }
  const ts = buildTimestamp(parsePreviousTimestamp(store.get('timestamp') ?? null), store.get('snapshot') as Uint8Array, defaultExpiry('timestamp', at));
  store.set('timestamp', assembleSigned(ts.canonical, signCanonical(ts.canonical, repo.keys('timestamp'))));
  return plan;
}

/** A client reading the server's current files must accept all of them. */
function clientLoad(store: Store, at = now): RepoBuilder {
  const b = new RepoBuilder({ gun, now: at });
  b.loadRoot(store.get('root') as Uint8Array);
  b.loadTimestamp(store.get('timestamp') as Uint8Array);
  b.loadSnapshot(store.get('snapshot') as Uint8Array);
  const roles = [...store.keys()].filter((r) => r.startsWith('targets')).sort((a, c) => a.split('/').length - c.split('/').length);
  for (const r of roles) b.loadTargets(r, store.get(r) as Uint8Array);
  return b;
}

function rejects(fn: () => unknown, name: ValidationErrorName, message: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UpdateValidationError, String(e));
    assert.equal(e.wireName, name);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

test('first publish with client-managed snapshot: root, targets, snapshot validated in order', () => {
  const repo = TestRepo.create({ gun, now });
  const store: Store = new Map();
  const plan = serverPublish(repo, store, repo.files('snapshot', 'targets', 'root'));
  assert.deepEqual(plan.updates.map((u) => [u.role, u.version]), [['root', 1], ['targets', 1], ['snapshot', 1]]);
  assert.equal(plan.snapshot.kind, 'uploaded');
  assert.equal(plan.root.signed.version, 1);
  assert.equal(clientLoad(store).timestamp?.signed.version, 1);
});

test('first publish with server-managed snapshot (docker): a generated snapshot and timestamp verify for clients', () => {
  const repo = TestRepo.create({ gun, now });
  repo.addDelegation('targets', 'targets/releases');
  repo.publish('targets');
  const store: Store = new Map();
  const plan = serverPublish(repo, store, repo.files('root', 'targets'));
  assert.deepEqual(plan.snapshot, { kind: 'generate', prev: null });
  assert.deepEqual([...plan.loaded.keys()], ['root', 'targets']);
  const b = clientLoad(store);
  assert.equal(b.snapshot?.signed.version, 1);
  assert.deepEqual(plan.root.signed.baseRole('snapshot').keys.keys().next().value, repo.keys('snapshot')[0]?.id);
});

test('later publish of a delegation: ancestors come from storage; the snapshot keeps other entries', () => {
  const repo = TestRepo.create({ gun, now });
  repo.addDelegation('targets', 'targets/a');
  repo.addDelegation('targets/a', 'targets/a/b');
  repo.publish('targets', 'targets/a');
  const store: Store = new Map();
  serverPublish(repo, store, repo.files('root', 'targets', 'targets/a', 'targets/a/b'));
  repo.addTarget('targets/a/b', 'v1', 'data');
  repo.sign('targets/a/b');
  const later = new Date(now.getTime() + DAY);
  const plan = serverPublish(repo, store, repo.files('targets/a/b'), later);
  assert.deepEqual(plan.updates.map((u) => [u.role, u.version]), [['targets/a/b', 2]]);
  assert.deepEqual([...plan.loaded.keys()], ['root', 'targets', 'targets/a', 'targets/a/b']);
  assert.equal(plan.snapshot.kind === 'generate' && plan.snapshot.prev?.version, 1);
  const b = clientLoad(store, later);
  assert.equal(b.snapshot?.signed.version, 2);
  assert.equal(b.timestamp?.signed.version, 2);
  assert.equal(b.targets('targets/a/b')?.signed.targets.has('v1'), true);
});

test('targets roles are processed shallowest first whatever the upload order', () => {
  const repo = TestRepo.create({ gun, now });
  repo.addDelegation('targets', 'targets/b');
  repo.addDelegation('targets', 'targets/a');
  repo.addDelegation('targets/a', 'targets/a/x');
  repo.sign('targets');
  repo.sign('targets/a');
  const uploads = repo.files('targets/a/x', 'targets/b', 'root', 'targets/a', 'targets');
  assert.deepEqual(validate(new Map(), uploads).updates.map((u) => u.role), ['root', 'targets', 'targets/a', 'targets/b', 'targets/a/x']);
});

test('no root stored and none uploaded', () => {
  const repo = TestRepo.create({ gun, now });
  rejects(() => validate(new Map(), repo.files('targets')), 'ErrValidation', 'no pre-existing root and no root provided in update.');
});

test('root versions: stored or stored+1 (nothing stored counts as 1)', () => {
  const repo = TestRepo.create({ gun, now });
  const store: Store = new Map();
  serverPublish(repo, store, repo.files('root', 'targets'));
  validate(store, repo.files('root')); // same version again is allowed by validation
  const v3 = repo.sign('root', { mutate: (s) => { s['version'] = 3; }, bump: false });
  rejects(() => validate(store, new Map([['root', v3]])), 'ErrBadRoot', 'Root modifications must increment the version. Current 1, new 3');
  rejects(() => validate(new Map(), new Map([['root', v3], ['targets', repo.bytes('targets')]])), 'ErrBadRoot', 'Root modifications must increment the version. Current 1, new 3');
  const v2 = repo.sign('root', { mutate: (s) => { s['version'] = 2; }, bump: false });
  assert.equal(validate(new Map(), new Map([['root', v2], ['targets', repo.bytes('targets')]])).root.signed.version, 2);
  assert.equal(validate(store, new Map([['root', v2]])).root.signed.version, 2);
});

test('root rotation must be signed by the stored root\'s keys', () => {
  const repo = TestRepo.create({ gun, now });
  const store: Store = new Map();
  serverPublish(repo, store, repo.files('root', 'targets'));
  const oldKeys = repo.keys('root');
  const newKey = generateRootKey(gun, now);
  const onlyNew = repo.rotateRootKeys([newKey], [newKey]);
  rejects(() => validate(store, new Map([['root', onlyNew]])), 'ErrBadRoot', 'could not rotate trust to a new trusted root: failed to validate data with current trusted certificates');
  const onlyOld = repo.sign('root', { bump: false, keys: oldKeys });
  rejects(() => validate(store, new Map([['root', onlyOld]])), 'ErrBadRoot', 'could not validate the path to a trusted root: failed to validate integrity of roots');
});

test('root rotation signed by old and new keys is accepted and becomes the plan\'s root', () => {
  const repo = TestRepo.create({ gun, now });
  const store: Store = new Map();
  serverPublish(repo, store, repo.files('root', 'targets'));
  const rotated = repo.rotateRootKeys();
  const plan = serverPublish(repo, store, new Map([['root', rotated]]));
  assert.equal(plan.root.signed.version, 2);
  assert.deepEqual(plan.updates.map((u) => u.role), ['root']);
  assert.equal(clientLoad(store).root?.signed.version, 2);
});

test('an expired upload is refused; an expired stored root is still a valid base', () => {
  const repo = TestRepo.create({ gun, now });
  const store: Store = new Map();
  serverPublish(repo, store, repo.files('root', 'targets'));
  const afterRoot = new Date(now.getTime() + 3651 * DAY); // root (and its certificate) expired
  rejects(() => validate(new Map(), repo.files('root', 'targets'), afterRoot), 'ErrBadRoot', 'could not validate the path to a trusted root: unable to retrieve valid leaf certificates');
  const shortRoot = repo.sign('root', { mutate: (s) => { s['expires'] = '2026-01-02T00:00:00Z'; }, bump: false });
  rejects(() => validate(new Map(), new Map([['root', shortRoot], ['targets', repo.bytes('targets')]]), new Date(now.getTime() + 2 * DAY)),
    'ErrBadRoot', 'root expired at Fri Jan 2 00:00:00 UTC 2026');
  // stored root expired (certificate still valid): a targets-only publish goes through
  const stored: Store = new Map([['root', shortRoot]]);
  const t = repo.sign('targets');
  assert.deepEqual(validate(stored, new Map([['targets', t]]), new Date(now.getTime() + 2 * DAY)).updates.map((u) => u.role), ['targets']);
});

test('bad targets uploads are ErrBadTargets with the builder\'s message', () => {
  const repo = TestRepo.create({ gun, now });
  const store: Store = new Map();
  serverPublish(repo, store, repo.files('root', 'targets'));
  rejects(() => validate(store, new Map([['targets', tamper(repo.bytes('targets'), (s) => { s['targets']['x'] = { hashes: {}, length: 1 }; })]])),
    'ErrBadTargets', 'valid signatures did not meet threshold for targets');
  rejects(() => validate(store, new Map([['targets', resign(repo.bytes('targets'), repo.keys('targets'), (s) => { s['version'] = 0; })]])),
    'ErrBadTargets', 'targets type metadata invalid: version cannot be less than one');
  rejects(() => validate(store, new Map([['targets', resign(repo.bytes('targets'), repo.keys('targets'), (s) => { s['expires'] = '2025-01-01T00:00:00Z'; })]])),
    'ErrBadTargets', 'targets expired at Wed Jan 1 00:00:00 UTC 2025');
  repo.addDelegation('targets', 'targets/a');
  rejects(() => validate(store, repo.files('targets/a')), 'ErrBadTargets', 'tuf: invalid role targets/a. delegation does not exist');
  rejects(() => validate(new Map([['root', repo.bytes('root')]]), repo.files('targets/a')), 'ErrBadTargets', 'targets must be loaded first');
});

test('targets versions are not compared with storage here (storage refuses non-increasing versions)', () => {
  const repo = TestRepo.create({ gun, now });
  const store: Store = new Map();
  serverPublish(repo, store, repo.files('root', 'targets'));
  assert.equal(validate(store, repo.files('targets')).updates[0]?.version, 1);
});

test('uploaded snapshot: signature, expiry and hashes of everything loaded', () => {
  const repo = TestRepo.create({ gun, now });
  const store: Store = new Map();
  serverPublish(repo, store, repo.files('root', 'targets', 'snapshot'));
  rejects(() => validate(store, new Map([['snapshot', resign(repo.bytes('snapshot'), repo.keys('targets'))]])),
    'ErrBadSnapshot', 'valid signatures did not meet threshold for snapshot');
  rejects(() => validate(store, new Map([['snapshot', resign(repo.bytes('snapshot'), repo.keys('snapshot'), (s) => { s['expires'] = '2025-12-31T23:59:59.5Z'; })]])),
    'ErrBadSnapshot', 'snapshot expired at Wed Dec 31 23:59:59 UTC 2025');
  rejects(() => validate(store, new Map([['snapshot', resign(repo.bytes('snapshot'), repo.keys('snapshot'), (s) => { delete s['meta']['targets']; })]])),
    'ErrBadSnapshot', 'snapshot type metadata invalid: missing targets sha256 checksum information');
  // a new targets with the old snapshot: the snapshot no longer matches
  repo.addTarget('targets', 'v1', 'x');
  repo.sign('targets');
  rejects(() => validate(store, repo.files('targets', 'snapshot')), 'ErrBadSnapshot', /^sha256 checksum for targets did not match: expected [0-9a-f]{64}$/);
  // the stored root is checked too: a snapshot made for a root the server does not have
  repo.sign('root');
  repo.refreshSnapshot();
  rejects(() => validate(store, repo.files('targets', 'snapshot')), 'ErrBadSnapshot', /^sha256 checksum for root did not match/);
  assert.deepEqual(validate(store, repo.files('root', 'targets', 'snapshot')).updates.map((u) => u.version), [2, 2, 2]);
});

test('snapshot generation needs a valid stored snapshot or a loaded targets', () => {
  const repo = TestRepo.create({ gun, now });
  rejects(() => validate(new Map(), repo.files('root')), 'ErrValidation', 'targets must be loaded first');
  const store: Store = new Map([['root', repo.bytes('root')], ['targets', repo.bytes('targets')], ['snapshot', resign(repo.bytes('snapshot'), repo.keys('snapshot'), (s) => { s['_type'] = 'Snap'; })]]);
  rejects(() => validate(store, repo.files('targets')), 'ErrValidation', 'snapshot type metadata invalid: expected type Snapshot, not Snap');
  store.set('snapshot', new TextEncoder().encode('{"signed":{"meta":[]}}'));
  assert.throws(() => validate(store, repo.files('targets')), StoredMetadataError);
});

test('stored metadata that cannot be loaded, unreadable uploads, ignored timestamp uploads', () => {
  const repo = TestRepo.create({ gun, now });
  repo.addDelegation('targets', 'targets/a');
  assert.throws(() => validate(new Map([['root', new TextEncoder().encode('nope')]]), repo.files('targets')), StoredMetadataError);
  const store: Store = new Map([['root', repo.bytes('root')], ['targets', tamper(repo.bytes('targets'), (s) => { s['version'] = 7; })]]);
  assert.throws(() => validate(store, repo.files('targets/a')), (e: unknown) => e instanceof StoredMetadataError && e.message === 'valid signatures did not meet threshold for targets');
  assert.throws(() => validate(new Map(), new Map([['root', new TextEncoder().encode('{')]])), DeserializationError);
  const plan = validate(new Map(), repo.files('root', 'targets', 'timestamp'));
  assert.deepEqual(plan.updates.map((u) => u.role), ['root', 'targets']);
});

test('previous timestamp and the "no key" errors', () => {
  const repo = TestRepo.create({ gun, now });
  assert.equal(parsePreviousTimestamp(null), null);
  assert.equal(parsePreviousTimestamp(repo.bytes('timestamp'))?.version, 1);
  rejects(() => parsePreviousTimestamp(resign(repo.bytes('timestamp'), [], (s) => { s['meta'] = {}; })), 'ErrValidation',
    'timestamp type metadata invalid: missing snapshot sha256 checksum information');
  assert.throws(() => parsePreviousTimestamp(new TextEncoder().encode('[]')), StoredMetadataError);
  const s = snapshotKeyMissingError();
  assert.equal(s.wireName, 'ErrBadHierarchy');
  assert.equal(s.missing, 'snapshot');
  assert.equal(s.message, 'no snapshot was included in update and server does not hold current snapshot key for repository');
  const t = timestampKeyMissingError();
  assert.equal(t.wireName, 'ErrBadRoot');
  assert.equal(t.message, 'no  timestamp keys exist on the server');
});
