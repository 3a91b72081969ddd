/**
 * notary's own client metadata (test/fixtures/tuf, from notary's compatibility fixtures): parse,
 * verify every signature against root and delegation keys in client load order, and re-serialise
 * byte for byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { canonicalize } from '../canonical/index.ts';
import { RepoBuilder } from './builder.ts';
import { Envelope, assembleSigned } from './envelope.ts';
import { RootValidationError } from './errors.ts';
import { Root } from './root.ts';
import { Snapshot, Timestamp } from './snapshot.ts';
import { Targets } from './targets.ts';
import { validateUpdate } from './update.ts';

const dir = new URL('../../test/fixtures/tuf/', import.meta.url);
const read = (p: string): Uint8Array => new Uint8Array(readFileSync(new URL(p, dir)));

interface Fixture {
  readonly name: string;
  readonly gun: string;
  readonly delegations: readonly string[];
}
const fixtures: Fixture[] = [
  { name: 'notary0.1', gun: 'docker.com/notary0.1/samplerepo', delegations: [] },
  { name: 'notary0.3', gun: 'docker.com/notary0.3/tst', delegations: ['targets/releases'] },
];
// inside both root certificates' validity (notary0.3's expires 2026-07-25)
const now = new Date(Date.UTC(2020, 0, 1));

function file(f: Fixture, role: string): Uint8Array {
  return read(`${f.name}/${role}.json`);
}

for (const f of fixtures) {
  const roles = ['root', 'targets', ...f.delegations, 'snapshot', 'timestamp'];

  test(`${f.name}: every file re-serialises byte for byte (envelope of canonical(parsed signed))`, () => {
    for (const role of roles) {
      const env = Envelope.parse(file(f, role), role);
      assert.deepEqual(assembleSigned(env.canonicalSigned(), env.signatures), env.bytes, role);
    }
  });

  test(`${f.name}: the models know every field Go wrote (toJSON is canonical-identical)`, () => {
    for (const role of roles) {
      const env = Envelope.parse(file(f, role), role);
      const model =
        role === 'root' ? Root.fromSigned(env.signed)
        : role === 'snapshot' ? Snapshot.fromSigned(env.signed)
        : role === 'timestamp' ? Timestamp.fromSigned(env.signed)
        : Targets.fromSigned(env.signed, role);
      assert.deepEqual(canonicalize(model.toJSON()), env.canonicalSigned(), role);
    }
  });

  test(`${f.name}: loads in client order, all signatures and hashes verify`, () => {
    const b = new RepoBuilder({ gun: f.gun, now });
    b.loadRoot(file(f, 'root'));
    b.loadTimestamp(file(f, 'timestamp'));
    b.loadSnapshot(file(f, 'snapshot'));
    b.loadTargets('targets', file(f, 'targets'));
    for (const d of f.delegations) b.loadTargets(d, file(f, d));
    assert.equal(b.root?.signed.version, 1);
    assert.ok((b.targets('targets')?.signed.targets.size ?? 0) + f.delegations.length > 0);
  });

  test(`${f.name}: is accepted by push validation as a first publish`, () => {
    const uploads = new Map(['root', 'targets', ...f.delegations, 'snapshot'].map((r) => [r, file(f, r)]));
    const plan = validateUpdate({ gun: f.gun, now, storedRoot: null, storedRoles: () => null, uploads });
    assert.deepEqual(plan.updates.map((u) => u.role), ['root', 'targets', ...f.delegations, 'snapshot']);
    assert.equal(plan.snapshot.kind, 'uploaded');
  });

  test(`${f.name}: another GUN does not match the root certificate`, () => {
    const b = new RepoBuilder({ gun: `${f.gun}x`, now });
    assert.throws(() => b.loadRoot(file(f, 'root')),
      (e: unknown) => e instanceof RootValidationError && e.message === 'could not validate the path to a trusted root: unable to retrieve valid leaf certificates');
  });
}

test('notary0.3: after its root certificate expired the root is no longer trusted', () => {
  const f = fixtures[1] as Fixture;
  const b = new RepoBuilder({ gun: f.gun, now: new Date(Date.UTC(2026, 6, 26)) });
  assert.throws(() => b.loadRoot(file(f, 'root'), { allowExpired: true }), RootValidationError);
});

test('notary0.1: a delegation-less targets file and offsets in expires survive a round trip', () => {
  const env = Envelope.parse(file(fixtures[0] as Fixture, 'root'), 'root');
  assert.equal(Root.fromSigned(env.signed).expires.text, '2116-01-11T16:58:57.119711158-08:00');
});
