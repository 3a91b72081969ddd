import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalize } from '../canonical/index.ts';
import { keyToJSON } from '../crypto/index.ts';
import { DeserializationError } from '../errors/index.ts';
import { generateKey } from '../../test/support/tuf-repo.ts';
import { InvalidMetadataError, InvalidRoleError } from './errors.ts';
import { Root } from './root.ts';

const keys = [generateKey('ed25519'), generateKey('ecdsa')] as const;
const [a, b] = keys;

function rootJSON(over: Record<string, unknown> = {}): Record<string, unknown> {
  const roles = { root: { keyids: [a.id], threshold: 1 }, targets: { keyids: [b.id], threshold: 1 }, snapshot: { keyids: [b.id], threshold: 1 }, timestamp: { keyids: [a.id], threshold: 1 } };
  return { _type: 'Root', consistent_snapshot: false, expires: '2036-11-19T03:57:11.364016461Z', keys: { [a.id]: keyToJSON(a.pub), [b.id]: keyToJSON(b.pub) }, roles, version: 1, ...over };
}

function structureError(v: unknown): string {
  try {
    Root.fromSigned(v);
  } catch (e) {
    assert.ok(e instanceof InvalidMetadataError, String(e));
    return e.message;
  }
  assert.fail('accepted');
}

test('a valid root parses; toJSON reproduces the canonical signed value; extra roles are kept', () => {
  const v = rootJSON({ roles: { ...(rootJSON()['roles'] as object), 'targets/x': { keyids: [], threshold: 1 } } });
  const root = Root.fromSigned(v);
  assert.equal(root.version, 1);
  assert.equal(root.consistentSnapshot, false);
  assert.equal(root.keys.size, 2);
  assert.deepEqual(canonicalize(root.toJSON()), canonicalize(v));
  assert.deepEqual(root.baseRole('targets'), { name: 'targets', keys: new Map([[b.id, b.pub]]), threshold: 1 });
});

test('structure errors carry notary\'s messages', () => {
  const roles = rootJSON()['roles'] as Record<string, unknown>;
  assert.equal(structureError(rootJSON({ _type: 'Targets' })), 'root type metadata invalid: expected type Root, not Targets');
  assert.equal(structureError(rootJSON({ version: 0 })), 'root type metadata invalid: version cannot be less than 1');
  assert.equal(structureError(rootJSON({ roles: { ...roles, snapshot: undefined } })), 'root type metadata invalid: missing snapshot role specification');
  assert.equal(structureError(rootJSON({ roles: { ...roles, timestamp: null } })), 'root type metadata invalid: missing timestamp role specification');
  assert.equal(structureError(rootJSON({ roles: { ...roles, targets: { keyids: [b.id], threshold: 0 } } })),
    'root type metadata invalid: invalid threshold specified for targets: 0 ');
  assert.equal(structureError(rootJSON({ roles: { ...roles, root: { keyids: ['abc'], threshold: 1 } } })),
    'root type metadata invalid: key ID abc specified in root without corresponding key');
  assert.equal(structureError(rootJSON({ keys: {} })), `root type metadata invalid: key ID ${a.id} specified in root without corresponding key`);
});

test('wrong JSON types are deserialization errors', () => {
  for (const over of [{ version: '1' }, { keys: [] }, { roles: { root: 'x' } }, { consistent_snapshot: 'no' }, { keys: { x: { keytype: 'ed25519', keyval: { public: '!' } } } }]) {
    assert.throws(() => Root.fromSigned(rootJSON(over)), DeserializationError, JSON.stringify(over));
  }
  assert.throws(() => Root.fromSigned('root'), DeserializationError);
});

test('baseRole errors name the role', () => {
  const root = Root.read(rootJSON({ roles: { root: { keyids: ['gone'], threshold: 1 } } }));
  assert.throws(() => root.baseRole('targets'), (e: unknown) => e instanceof InvalidRoleError && e.message === 'tuf: invalid role targets. role not found in root file');
  assert.throws(() => root.baseRole('root'), (e: unknown) => e instanceof InvalidRoleError && e.message === 'tuf: invalid role root. key with ID gone was not found in root metadata');
});
