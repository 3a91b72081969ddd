import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256, sha512, toBase64 } from '../canonical/index.ts';
import { DeserializationError } from '../errors/index.ts';
import { ChecksumMismatchError, MissingMetaError } from './errors.ts';
import { checkHashes, fileMetaFor, fileMetaToJSON, hashStructureProblem, hashesMatch, parseFileMeta } from './file-meta.ts';

const data = new TextEncoder().encode('hello world');

test('fileMetaFor: length, sha256 and sha512 of the bytes', () => {
  const m = fileMetaFor(data);
  assert.equal(m.length, 11);
  assert.deepEqual(m.hashes.get('sha256'), sha256(data));
  assert.deepEqual(m.hashes.get('sha512'), sha512(data));
  assert.deepEqual(fileMetaToJSON(m), { hashes: { sha256: toBase64(sha256(data)), sha512: toBase64(sha512(data)) }, length: 11 });
});

test('parse keeps custom and unknown algorithms; null custom is absent', () => {
  const m = parseFileMeta({ hashes: { sha256: toBase64(sha256(data)), md5: 'AAAA' }, length: 11, custom: { a: [1] } }, 'x');
  assert.deepEqual(m.custom, { a: [1] });
  assert.equal(m.hashes.get('md5')?.length, 3);
  assert.equal('custom' in parseFileMeta({ hashes: {}, length: 1, custom: null }, 'x'), false);
});

test('parse rejects wrong types and bad base64', () => {
  assert.throws(() => parseFileMeta({ hashes: { sha256: 'not base64!' }, length: 1 }, 'x'), DeserializationError);
  assert.throws(() => parseFileMeta({ hashes: { sha256: 5 }, length: 1 }, 'x'), DeserializationError);
  assert.throws(() => parseFileMeta({ hashes: {}, length: 1.5 }, 'x'), DeserializationError);
  assert.throws(() => parseFileMeta({ hashes: [], length: 1 }, 'x'), DeserializationError);
});

test('checkHashes: every supported hash must match, at least one needed', () => {
  const good = fileMetaFor(data).hashes;
  checkHashes(data, 'targets', good);
  checkHashes(data, 'targets', new Map([['sha256', sha256(data)]]));
  assert.throws(() => checkHashes(data, 'targets', new Map([['sha256', sha256(data)], ['sha512', new Uint8Array(64)]])),
    (e: unknown) => e instanceof ChecksumMismatchError && e.message === `sha512 checksum for targets did not match: expected ${'00'.repeat(64)}`);
  assert.throws(() => checkHashes(data, 'targets/a', new Map([['md5', new Uint8Array(16)]])),
    (e: unknown) => e instanceof MissingMetaError && e.message === 'no checksums for supported algorithms were provided for targets/a');
  assert.throws(() => checkHashes(data, 'root', undefined), MissingMetaError);
  assert.equal(hashesMatch(data, good), true);
  assert.equal(hashesMatch(new Uint8Array([1]), good), false);
});

test('hash structure: digest sizes and at least one supported algorithm', () => {
  assert.equal(hashStructureProblem(fileMetaFor(data).hashes), null);
  assert.equal(hashStructureProblem(new Map([['sha256', new Uint8Array(31)]])), 'sha256 checksum invalid');
  assert.equal(hashStructureProblem(new Map([['md5', new Uint8Array(16)]])), 'at least one supported hash needed');
});
