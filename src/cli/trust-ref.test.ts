import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authKeyFor, isInsecureRegistry, parseImageRef, trustServerFor } from './trust-ref.ts';

describe('parseImageRef (docker reference rules)', () => {
  it('normalises Docker Hub names', () => {
    const r = parseImageRef('alpine:3.19');
    assert.deepEqual([r.gun, r.domain, r.path, r.tag, r.official], ['docker.io/library/alpine', 'docker.io', 'library/alpine', '3.19', true]);
    assert.equal(parseImageRef('index.docker.io/me/app').gun, 'docker.io/me/app');
    assert.equal(authKeyFor(r), 'https://index.docker.io/v1/');
  });

  it('keeps a registry host with a dot, a port or localhost', () => {
    for (const [s, gun, tag] of [
      ['127.0.0.1:5000/spec/img:v1', '127.0.0.1:5000/spec/img', 'v1'],
      ['registry.example.com/a/b', 'registry.example.com/a/b', ''],
      ['localhost/x:latest', 'localhost/x', 'latest'],
    ] as const) {
      const r = parseImageRef(s);
      assert.deepEqual([r.gun, r.tag, r.official], [gun, tag, false]);
    }
  });

  it('a digest reference has no tag', () => {
    const d = 'sha256:' + 'a'.repeat(64);
    const r = parseImageRef(`example.com/app:v1@${d}`);
    assert.deepEqual([r.tag, r.digest], ['', d]);
  });

  it("refuses what docker refuses, in docker's words", () => {
    assert.throws(() => parseImageRef('Foo:bar'), { message: 'invalid reference format: repository name (library/Foo) must be lowercase' });
    assert.throws(() => parseImageRef('a b'), { message: 'invalid reference format' });
    assert.throws(() => parseImageRef(''), { message: 'invalid reference format' });
    assert.throws(() => parseImageRef('a'.repeat(64).replace(/a/g, 'b')), /cannot specify 64-byte hexadecimal strings/);
  });
});

describe('trustServerFor', () => {
  const ref = parseImageRef('registry.example.com:4443/app');
  it('uses DOCKER_CONTENT_TRUST_SERVER, the Hub notary, or the registry', () => {
    assert.equal(trustServerFor(ref, {}), 'https://registry.example.com:4443');
    assert.equal(trustServerFor(parseImageRef('alpine'), {}), 'https://notary.docker.io');
    assert.equal(trustServerFor(ref, { DOCKER_CONTENT_TRUST_SERVER: 'https://127.0.0.1:1' }), 'https://127.0.0.1:1');
  });
  it('refuses a server that is not https', () => {
    assert.throws(() => trustServerFor(ref, { DOCKER_CONTENT_TRUST_SERVER: 'http://x' }), { message: 'valid https URL required for trust server, got http://x' });
  });
});

describe('isInsecureRegistry (loopback registries skip TLS verification)', () => {
  it('loopback yes, others no', async () => {
    assert.equal(await isInsecureRegistry('127.0.0.1:5000'), true);
    assert.equal(await isInsecureRegistry('localhost:5000'), true);
    assert.equal(await isInsecureRegistry('[::1]:5000'), true);
    assert.equal(await isInsecureRegistry('10.1.2.3:5000'), false);
  });
});
