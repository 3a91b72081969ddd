import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { digestOf, hasTrustComponent, isValidRepositoryName, isValidTag, looksLikeDigest, parseDigest, parseReference } from './names.ts';

const HEX64 = 'a'.repeat(64);

describe('repository names (spec: [a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(/…)*, < 256 chars)', () => {
  it('accepts the grammar', () => {
    for (const n of ['a', 'library/ubuntu', 'a.b/c_d/e__f/g-h/i---j', '0/1/2', 'x'.repeat(255)]) assert.equal(isValidRepositoryName(n), true, n);
  });
  it('refuses everything else', () => {
    for (const n of ['', 'A', 'a/', '/a', 'a//b', '_a', 'a_', 'a___b', 'a..b', 'a.-b', 'a/_trust', 'a b', 'a:b', '..', 'a/../b', 'x'.repeat(256), 'é']) {
      assert.equal(isValidRepositoryName(n), false, n);
    }
  });
  it('spots the trust API namespace', () => {
    assert.equal(hasTrustComponent('a/_trust/tuf'), true);
    assert.equal(hasTrustComponent('a/trust'), false);
  });
});

describe('tags (spec: [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127})', () => {
  it('accepts and refuses', () => {
    for (const t of ['latest', 'V1.0_rc-2', '_x', 'a'.repeat(128)]) assert.equal(isValidTag(t), true, t);
    for (const t of ['', '.x', '-x', 'a'.repeat(129), 'a/b', 'a:b', 'a+b']) assert.equal(isValidTag(t), false, t);
  });
});

describe('digests', () => {
  it('accepts sha256 and sha512 in lowercase hex only', () => {
    assert.equal(parseDigest(`sha256:${HEX64}`), `sha256:${HEX64}`);
    assert.equal(parseDigest(`sha512:${'0'.repeat(128)}`), `sha512:${'0'.repeat(128)}`);
    for (const d of [`sha256:${HEX64.toUpperCase()}`, `sha256:${HEX64}0`, `sha384:${'a'.repeat(96)}`, `md5:${'a'.repeat(32)}`, 'sha256:', HEX64]) assert.equal(parseDigest(d), null, d);
  });
  it('tells a bad digest from a tag', () => {
    assert.equal(looksLikeDigest('sha256:xyz'), true);
    assert.deepEqual(parseReference('sha256:xyz'), { kind: 'invalid', reason: 'digest' });
    assert.deepEqual(parseReference('v1'), { kind: 'tag', tag: 'v1' });
    assert.deepEqual(parseReference('-v1'), { kind: 'invalid', reason: 'tag' });
    assert.deepEqual(parseReference(`sha256:${HEX64}`), { kind: 'digest', digest: `sha256:${HEX64}` });
  });
  it('hashes bytes', () => {
    assert.equal(digestOf(Buffer.from('')), 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});
