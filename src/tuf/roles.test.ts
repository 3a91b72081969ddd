import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compareRoleDepth,
  expectedType,
  gunHasAllowedPrefix,
  isDelegationName,
  isDirectChild,
  isValidGun,
  isValidRoleName,
  parentRole,
} from './roles.ts';

test('base roles and clean delegation names are valid role names', () => {
  for (const name of ['root', 'targets', 'snapshot', 'timestamp', 'targets/releases', 'targets/a/b-c_d/0']) {
    assert.equal(isValidRoleName(name), true, name);
  }
});

test('invalid role names: unknown, unclean, uppercase, too long, wrong prefix', () => {
  const bad = ['', 'foo', 'Root', 'targets/', 'targets//a', 'targets/a/', 'targets/./a', 'targets/../a', 'targets/..', 'targets/A',
    'targets/a b', 'targets/a.b', 'targetsx/a', '/targets/a', 'snapshot/a', `targets/${'a'.repeat(248)}`];
  for (const name of bad) assert.equal(isValidRoleName(name), false, name);
  assert.equal(isDelegationName(`targets/${'a'.repeat(247)}`), true); // 255 bytes
});

test('parent and direct children', () => {
  assert.equal(parentRole('targets/a/b'), 'targets/a');
  assert.equal(parentRole('targets/a'), 'targets');
  assert.equal(parentRole('targets'), '.');
  assert.equal(isDirectChild('targets/a', 'targets/a/x'), true);
  assert.equal(isDirectChild('targets', 'targets/a/x'), false);
});

test('expected _type per role', () => {
  assert.equal(expectedType('root'), 'Root');
  assert.equal(expectedType('targets/x'), 'Targets');
  assert.equal(expectedType('timestamp'), 'Timestamp');
  assert.equal(expectedType('nope'), undefined);
});

test('role depth order: fewer segments first, then byte order', () => {
  const roles = ['targets/b/c', 'targets/b', 'targets', 'targets/a/z', 'targets/a'];
  assert.deepEqual(roles.sort(compareRoleDepth), ['targets', 'targets/a', 'targets/b', 'targets/a/z', 'targets/b/c']);
});

test('GUNs: any non-empty name without "*"; prefix restriction', () => {
  assert.equal(isValidGun('docker.io/library/alpine'), true);
  assert.equal(isValidGun('127.0.0.1:5000/a'), true);
  assert.equal(isValidGun(''), false);
  assert.equal(isValidGun('a/*'), false);
  assert.equal(gunHasAllowedPrefix('example.com/a', []), true);
  assert.equal(gunHasAllowedPrefix('example.com/a', ['docker.io/', 'example.com/']), true);
  assert.equal(gunHasAllowedPrefix('example.org/a', ['example.com/']), false);
});
