import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalize } from '../canonical/index.ts';
import { keyToJSON } from '../crypto/index.ts';
import { DeserializationError } from '../errors/index.ts';
import { generateKey, metaJSON } from '../../test/support/tuf-repo.ts';
import { InvalidMetadataError, InvalidRoleError } from './errors.ts';
import { Targets } from './targets.ts';

const k = generateKey('ecdsa');

function targetsJSON(roles: unknown[] = [], over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    _type: 'Targets',
    delegations: { keys: { [k.id]: keyToJSON(k.pub) }, roles },
    expires: '2029-11-21T04:00:11.474650555Z',
    targets: { v1: { ...metaJSON(new Uint8Array([1])), custom: { b: 1, a: [true, null] } } },
    version: 2,
    ...over,
  };
}
const entry = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ keyids: [k.id], name, paths: [''], threshold: 1, ...extra });

function message(v: unknown, role: string): string {
  try {
    Targets.fromSigned(v, role);
  } catch (e) {
    assert.ok(e instanceof InvalidMetadataError || e instanceof InvalidRoleError, String(e));
    return e.message;
  }
  assert.fail('accepted');
}

test('targets with delegations parse and re-emit canonically; paths omitted when empty', () => {
  const v = targetsJSON([entry('targets/releases'), entry('targets/alice', { paths: undefined })]);
  const t = Targets.fromSigned(v, 'targets');
  assert.equal(t.targets.get('v1')?.length, 1);
  assert.deepEqual(t.targets.get('v1')?.custom, { b: 1, a: [true, null] });
  assert.deepEqual(t.delegationRole('targets/releases').paths, ['']);
  assert.deepEqual(t.delegationRole('targets/alice').paths, []);
  assert.deepEqual(canonicalize(t.toJSON()), canonicalize(v));
});

test('keyids: null (all keys removed) is accepted and re-emitted as null', () => {
  const v = targetsJSON([entry('targets/releases', { keyids: null })]);
  const t = Targets.fromSigned(v, 'targets');
  assert.equal(t.delegation('targets/releases')?.keyids, null);
  assert.equal(t.delegationRole('targets/releases').keys.size, 0);
  assert.deepEqual(canonicalize(t.toJSON()), canonicalize(v));
});

test('missing delegations/targets mean empty; emitted as {} and []', () => {
  const t = Targets.fromSigned({ _type: 'Targets', expires: '2030-01-01T00:00:00Z', version: 1 }, 'targets/a');
  assert.deepEqual(t.toJSON(), { _type: 'Targets', delegations: { keys: {}, roles: [] }, expires: '2030-01-01T00:00:00Z', targets: {}, version: 1 });
});

test('structure errors carry notary\'s messages', () => {
  assert.equal(message(targetsJSON(), 'foo'), 'tuf: invalid role foo.');
  assert.equal(message(targetsJSON([], { _type: 'Root' }), 'targets'), 'targets type metadata invalid: expected type Targets, not Root');
  assert.equal(message(targetsJSON([], { version: 0 }), 'targets/a'), 'targets/a type metadata invalid: version cannot be less than one');
  assert.equal(message(targetsJSON([entry('targets/a/b')]), 'targets'), 'targets type metadata invalid: delegation role targets/a/b invalid');
  assert.equal(message(targetsJSON([entry('targets/b')]), 'targets/a'), 'targets/a type metadata invalid: delegation role targets/b invalid');
  assert.equal(message(targetsJSON([entry('targets/Upper')]), 'targets'), 'targets type metadata invalid: delegation role targets/Upper invalid');
  assert.equal(message(targetsJSON([entry('targets/a', { threshold: 0 })]), 'targets'),
    'targets type metadata invalid: invalid threshold specified for targets/a: 0 ');
  assert.equal(message(targetsJSON([entry('targets/a', { keyids: ['nokey'] })]), 'targets'),
    'targets type metadata invalid: key ID nokey specified in targets/a without corresponding key');
  assert.doesNotThrow(() => Targets.fromSigned(targetsJSON([entry('targets/a/b')]), 'targets/a'));
});

test('wrong JSON types are deserialization errors', () => {
  assert.throws(() => Targets.fromSigned(targetsJSON([null]), 'targets'), DeserializationError);
  assert.throws(() => Targets.fromSigned(targetsJSON([entry('targets/a', { paths: 'x' })]), 'targets'), DeserializationError);
  assert.throws(() => Targets.fromSigned(targetsJSON([], { targets: { v: { length: '1' } } }), 'targets'), DeserializationError);
  assert.throws(() => Targets.fromSigned(targetsJSON([], { delegations: [] }), 'targets'), DeserializationError);
});

test('delegationRole: missing delegation and unknown keys', () => {
  const t = Targets.read(targetsJSON([entry('targets/a', { keyids: ['gone'] })]), 'targets');
  assert.throws(() => t.delegationRole('targets/zzz'), (e: unknown) => e instanceof InvalidRoleError && e.message === 'tuf: invalid role targets/zzz. delegation does not exist');
  assert.throws(() => t.delegationRole('targets/a'), (e: unknown) => e instanceof InvalidRoleError && e.message === 'tuf: invalid role targets/a. role lists unknown key gone as a signing key');
});
