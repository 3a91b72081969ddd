import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashPassword, passwordMatches, verifyAgainstNothing } from './password.ts';

test('a hash verifies its password only, and every hash has its own salt', async () => {
  const a = await hashPassword('correct horse', 10);
  const b = await hashPassword('correct horse', 10);
  assert.match(a, /^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  assert.notEqual(a, b);
  assert.equal(await passwordMatches(a, 'correct horse'), true);
  assert.equal(await passwordMatches(b, 'correct horse'), true);
  assert.equal(await passwordMatches(a, 'correct horse '), false);
  assert.equal(await passwordMatches(a, ''), false);
});

test('passwords are compared after NFC normalisation', async () => {
  const h = await hashPassword('caf\u00e9', 10);
  assert.equal(await passwordMatches(h, 'cafe\u0301'), true);
});

test('unreadable or tampered hashes never match', async () => {
  const h = await hashPassword('pw', 10);
  assert.equal(await passwordMatches('', 'pw'), false);
  assert.equal(await passwordMatches('$2y$10$abcdefghijklmnopqrstuu', 'pw'), false);
  assert.equal(await passwordMatches(h.replace('ln=10', 'ln=25'), 'pw'), false);
  const last = h.at(-2) === 'A' ? 'B' : 'A';
  assert.equal(await passwordMatches(h.slice(0, -2) + last + h.at(-1), 'pw'), false);
});

test('cost and password limits', async () => {
  await assert.rejects(hashPassword('pw', 9), RangeError);
  await assert.rejects(hashPassword('pw', 21), RangeError);
  await assert.rejects(hashPassword('', 10), RangeError);
  await assert.rejects(hashPassword('x'.repeat(1025), 10), RangeError);
  assert.equal(await verifyAgainstNothing('anything', 10), false);
});
