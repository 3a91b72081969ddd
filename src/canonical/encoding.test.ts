import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeserializationError } from '../errors/index.ts';
import { fromBase64, sha256, sha256Hex, sha512, toBase64, toHex } from './encoding.ts';
import { foldEquals, getGoField } from './go-fields.ts';

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

test('toBase64: standard alphabet with padding', () => {
  assert.equal(toBase64(bytes()), '');
  assert.equal(toBase64(bytes(0xfb, 0xff)), '+/8=');
  assert.equal(toBase64(bytes(1)), 'AQ==');
  assert.equal(toBase64(new Uint8Array([9, 1, 2, 3]).subarray(1)), 'AQID');
});

test('fromBase64: accepts what Go StdEncoding accepts', () => {
  assert.deepEqual(fromBase64(''), bytes());
  assert.deepEqual(fromBase64('+/8='), bytes(0xfb, 0xff));
  assert.deepEqual(fromBase64('AQ=='), bytes(1));
  assert.deepEqual(fromBase64('AQ\r\nID'), bytes(1, 2, 3)); // \r and \n are skipped
  assert.deepEqual(fromBase64('AR=='), bytes(1)); // non-zero trailing bits tolerated (not Strict())
});

test('fromBase64: rejects what Go StdEncoding rejects', () => {
  for (const bad of ['AQ', 'AQ=', 'A===', '====', 'AQ==AQ==', '-_8=', 'AQ ID', 'AQI=D', 'A', 'AQID=']) {
    assert.throws(() => fromBase64(bad), DeserializationError, bad);
  }
});

test('digests', () => {
  assert.equal(sha256Hex(new TextEncoder().encode('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(toHex(sha256(bytes())), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(toHex(sha512(bytes())).slice(0, 16), 'cf83e1357eefb8bd');
  assert.equal(sha512(bytes()).length, 64);
});

test('getGoField: exact or case-insensitive match, last one wins', () => {
  assert.equal(getGoField({ keytype: 'a' }, 'keytype'), 'a');
  assert.equal(getGoField({ KeyType: 'b' }, 'keytype'), 'b');
  assert.equal(getGoField({ keytype: 'a', KEYTYPE: 'c' }, 'keytype'), 'c');
  assert.equal(getGoField({ '\u212Aeytype': 'kelvin' }, 'keytype'), 'kelvin');
  assert.equal(getGoField({ keytypes: 'x' }, 'keytype'), undefined);
  assert.ok(foldEquals('\u017Figned', 'signed'));
  assert.ok(!foldEquals('signee', 'signed'));
});
