import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalize, sha256, sha512 } from '../canonical/index.ts';
import { StateError } from '../errors/index.ts';
import { Envelope } from './envelope.ts';
import { buildSnapshot, buildTimestamp } from './generate.ts';
import { Snapshot, Timestamp } from './snapshot.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const expires = new Date(Date.UTC(2029, 10, 21, 3, 57, 54, 665));
const roles = new Map([['root', enc('root-bytes')], ['targets', enc('targets-bytes')]]);

test('new snapshot: version 1, meta of root and targets from the given bytes, Go time format', () => {
  const { signed, canonical } = buildSnapshot(null, roles, expires);
  assert.equal(signed.version, 1);
  assert.equal(signed.expires.text, '2029-11-21T03:57:54.665Z');
  assert.deepEqual(signed.meta.get('root')?.hashes.get('sha256'), sha256(enc('root-bytes')));
  assert.deepEqual(signed.meta.get('targets')?.hashes.get('sha512'), sha512(enc('targets-bytes')));
  assert.equal(signed.meta.get('targets')?.length, 13);
  assert.deepEqual(canonical, canonicalize(signed.toJSON()));
  const text = new TextDecoder().decode(canonical);
  assert.match(text, /^\{"_type":"Snapshot","expires":"2029-11-21T03:57:54.665Z","meta":\{"root":\{"hashes":\{"sha256":"[^"]+","sha512":"[^"]+"\},"length":10\},"targets":/);
  assert.ok(text.endsWith(',"version":1}'));
  Snapshot.fromSigned(JSON.parse(text)); // structurally valid
});

test('new snapshot needs root and targets', () => {
  assert.throws(() => buildSnapshot(null, new Map([["root", enc("r")]]), expires), StateError);
});

test('next snapshot keeps other entries (deleted delegations stay) and bumps the version', () => {
  const first = buildSnapshot(null, new Map([...roles, ['targets/old', enc('old')]]), expires).signed;
  const next = buildSnapshot(first, new Map([['root', enc('root-v2')]]), expires).signed;
  assert.equal(next.version, 2);
  assert.deepEqual(next.meta.get('root')?.hashes.get('sha256'), sha256(enc('root-v2')));
  assert.deepEqual(next.meta.get('targets'), first.meta.get('targets'));
  assert.deepEqual(next.meta.get('targets/old'), first.meta.get('targets/old'));
});

test('timestamp: meta.snapshot describes the snapshot file; version prev+1', () => {
  const snapshotFile = enc('{"signed":{},"signatures":[]}');
  const first = buildTimestamp(null, snapshotFile, expires);
  assert.equal(first.signed.version, 1);
  assert.deepEqual(first.signed.meta.get('snapshot')?.hashes.get('sha256'), sha256(snapshotFile));
  Timestamp.fromSigned(new Envelope(enc(''), JSON.parse(new TextDecoder().decode(first.canonical)), []).signed);
  const second = buildTimestamp(first.signed, enc('other'), new Date(Date.UTC(2030, 0, 1)));
  assert.equal(second.signed.version, 2);
  assert.equal(second.signed.expires.text, '2030-01-01T00:00:00Z');
  assert.equal(second.signed.meta.get('snapshot')?.length, 5);
});
