import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256, toBase64 } from '../canonical/index.ts';
import { DeserializationError } from '../errors/index.ts';
import { InvalidMetadataError } from './errors.ts';
import { Snapshot, Timestamp } from './snapshot.ts';

const h256 = toBase64(sha256(new Uint8Array([1])));
const entry = { hashes: { sha256: h256 }, length: 1 };

function snap(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { _type: 'Snapshot', expires: '2030-01-01T00:00:00Z', meta: { root: entry, targets: entry }, version: 1, ...over };
}

function msg(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof InvalidMetadataError, String(e));
    return e.message;
  }
  assert.fail('no error');
}

test('snapshot: valid structure parses and round-trips through toJSON', () => {
  const s = Snapshot.fromSigned(snap({ meta: { root: entry, targets: entry, 'targets/a': { ...entry, custom: 1 } } }));
  assert.equal(s.version, 1);
  assert.equal(s.meta.get('targets/a')?.custom, 1);
  assert.deepEqual(s.toJSON(), snap({ meta: { root: entry, targets: entry, 'targets/a': { ...entry, custom: 1 } } }));
});

test('snapshot structure errors use notary\'s texts', () => {
  assert.equal(msg(() => Snapshot.fromSigned(snap({ _type: 'Timestamp' }))), 'snapshot type metadata invalid: expected type Snapshot, not Timestamp');
  assert.equal(msg(() => Snapshot.fromSigned(snap({ version: 0 }))), 'snapshot type metadata invalid: version cannot be less than one');
  assert.equal(msg(() => Snapshot.fromSigned(snap({ meta: { root: entry } }))), 'snapshot type metadata invalid: missing targets sha256 checksum information');
  assert.equal(msg(() => Snapshot.fromSigned(snap({ meta: { targets: entry, root: { hashes: { sha512: h256 }, length: 1 } } }))),
    'snapshot type metadata invalid: missing root sha256 checksum information');
  assert.equal(msg(() => Snapshot.fromSigned(snap({ meta: { targets: entry, root: { hashes: { sha256: 'AAAA' }, length: 1 } } }))),
    'snapshot type metadata invalid: invalid root checksum information, sha256 checksum invalid');
  assert.equal(msg(() => Snapshot.fromSigned(snap({ version: undefined }))), 'snapshot type metadata invalid: version cannot be less than one');
});

test('snapshot: wrong JSON types are deserialization errors; missing expires is Go\'s zero time', () => {
  assert.throws(() => Snapshot.fromSigned(snap({ version: '1' })), DeserializationError);
  assert.throws(() => Snapshot.fromSigned(snap({ meta: [] })), DeserializationError);
  assert.throws(() => Snapshot.fromSigned(snap({ expires: 'soon' })), DeserializationError);
  assert.equal(Snapshot.fromSigned(snap({ expires: undefined })).expires.text, '0001-01-01T00:00:00Z');
});

test('timestamp: needs snapshot with sha256', () => {
  const ts = { _type: 'Timestamp', expires: '2030-01-01T00:00:00Z', meta: { snapshot: entry }, version: 3 };
  const t = Timestamp.fromSigned(ts);
  assert.equal(t.snapshotMeta?.length, 1);
  assert.deepEqual(t.toJSON(), ts);
  assert.equal(msg(() => Timestamp.fromSigned({ ...ts, meta: {} })), 'timestamp type metadata invalid: missing snapshot sha256 checksum information');
  assert.equal(msg(() => Timestamp.fromSigned({ ...ts, _type: 'timestamp' })), 'timestamp type metadata invalid: expected type Timestamp, not timestamp');
  assert.equal(msg(() => Timestamp.fromSigned({ ...ts, version: -1 })), 'timestamp type metadata invalid: version cannot be less than one');
  assert.equal(msg(() => Timestamp.fromSigned({ ...ts, meta: { snapshot: { hashes: { sha256: h256, sha512: h256 }, length: 1 } } })),
    'timestamp type metadata invalid: invalid snapshot checksum information, sha512 checksum invalid');
  assert.doesNotThrow(() => Timestamp.read({ ...ts, meta: {} }));
});
