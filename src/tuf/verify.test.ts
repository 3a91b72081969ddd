import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BadVersionError, ExpiredMetadataError } from '../errors/index.ts';
import { editSignatures, generateKey, signEnvelope, type TestKey } from '../../test/support/tuf-repo.ts';
import type { BaseRole } from './common.ts';
import { Envelope } from './envelope.ts';
import { InvalidKeyIdError, NoSignaturesError, ThresholdError } from './errors.ts';
import { parseGoTime } from './time.ts';
import { hasValidSignatures, validSignerIds, verifyExpiry, verifySignatures, verifyVersion } from './verify.ts';

const k1 = generateKey('ecdsa');
const k2 = generateKey('ed25519');
const k3 = generateKey('ecdsa');
const signed = { _type: 'Targets', expires: '2030-01-01T00:00:00Z', targets: { 'a&b<c>': { hashes: {}, length: 1 } }, version: 1 };

function role(keys: readonly TestKey[], threshold: number): BaseRole {
  return { name: 'targets', keys: new Map(keys.map((k) => [k.id, k.pub])), threshold };
}
const env = (bytes: Uint8Array): Envelope => Envelope.parse(bytes, 'targets');
const isThreshold = (e: unknown): boolean => e instanceof ThresholdError && e.message === 'valid signatures did not meet threshold for targets';

test('threshold met by distinct valid keys of the role (ecdsa and eddsa)', () => {
  verifySignatures(env(signEnvelope(signed, [k1, k2])), role([k1, k2], 2));
  verifySignatures(env(signEnvelope(signed, [k1, k3])), role([k1, k2], 1));
  assert.deepEqual(validSignerIds(env(signEnvelope(signed, [k1, k2, k3])), role([k1, k2], 2)), new Set([k1.id, k2.id]));
});

test('threshold not met: too few keys, keys outside the role, repeated signatures by one key', () => {
  assert.throws(() => verifySignatures(env(signEnvelope(signed, [k1])), role([k1, k2], 2)), isThreshold);
  assert.throws(() => verifySignatures(env(signEnvelope(signed, [k3])), role([k1], 1)), isThreshold);
  const twice = editSignatures(signEnvelope(signed, [k1]), (s) => [s[0]!, s[0]!]);
  assert.throws(() => verifySignatures(env(twice), role([k1, k2], 2)), isThreshold);
});

test('invalid signatures and unsupported methods do not count', () => {
  const corrupted = editSignatures(signEnvelope(signed, [k1]), (s) => s.map((x) => ({ ...x, sig: x.sig.map((b, i) => (i === 5 ? b ^ 1 : b)) })));
  assert.throws(() => verifySignatures(env(corrupted), role([k1], 1)), isThreshold);
  const wrongMethod = editSignatures(signEnvelope(signed, [k1]), (s) => s.map((x) => ({ ...x, method: 'eddsa' })));
  assert.throws(() => verifySignatures(env(wrongMethod), role([k1], 1)), isThreshold);
  const unknown = editSignatures(signEnvelope(signed, [k1]), (s) => s.map((x) => ({ ...x, method: 'nope' })));
  assert.equal(hasValidSignatures(env(unknown), role([k1], 1)), false);
  const empty = editSignatures(signEnvelope(signed, [k1]), (s) => s.map((x) => ({ ...x, sig: new Uint8Array(0) })));
  assert.equal(hasValidSignatures(env(empty), role([k1], 1)), false);
});

test('method is matched case-insensitively (lower-cased on parse)', () => {
  const upper = editSignatures(signEnvelope(signed, [k1]), (s) => s.map((x) => ({ ...x, method: 'ECDSA' })));
  verifySignatures(env(upper), role([k1], 1));
});

test('a listed key that does not hash to its ID aborts, even with other valid signatures', () => {
  const lying: BaseRole = { name: 'targets', keys: new Map([[k1.id, k1.pub], [k2.id, k3.pub]]), threshold: 1 };
  assert.throws(() => verifySignatures(env(signEnvelope(signed, [k1, k2])), lying),
    (e: unknown) => e instanceof InvalidKeyIdError && e.message === 'key ID is not valid for key content');
  // not reached when no signature names the bad key
  verifySignatures(env(signEnvelope(signed, [k1])), lying);
});

test('no signatures, or a threshold below 1', () => {
  assert.throws(() => verifySignatures(env(signEnvelope(signed, [])), role([k1], 1)),
    (e: unknown) => e instanceof NoSignaturesError && e.message === 'tuf: data has no signatures');
  assert.throws(() => verifySignatures(env(signEnvelope(signed, [k1])), role([k1], 0)),
    (e: unknown) => e instanceof ThresholdError && e.message === 'valid signatures did not meet threshold');
});

test('signatures cover canonical(parsed signed), not the received bytes', () => {
  const good = new TextDecoder().decode(signEnvelope(signed, [k1]));
  // pretty-printed, escapes decoded differently, keys reordered: still the same parsed value
  const sigs = good.slice(good.indexOf('"signatures"'));
  const pretty = `{\n  "signed": {"version": 1, "targets": {"a\\u0026b\\u003cc\\u003e": {"length": 1, "hashes": {}}},\n "expires": "2030-01-01T00:00:00Z", "_type": "Targets"},\n  ${sigs}`;
  verifySignatures(env(new TextEncoder().encode(pretty)), role([k1], 1));
  const changed = pretty.replace('"length": 1', '"length": 2');
  assert.throws(() => verifySignatures(env(new TextEncoder().encode(changed)), role([k1], 1)), isThreshold);
});

test('version and expiry messages', () => {
  const common = { type: 'Targets', version: 3, expires: parseGoTime('2026-12-06T03:57:54.670776667Z') };
  verifyVersion(common, 3);
  assert.throws(() => verifyVersion(common, 4), (e: unknown) => e instanceof BadVersionError && e.message === 'version 3 is lower than current version 4');
  verifyExpiry(common, 'targets', new Date(Date.UTC(2026, 11, 6, 3, 57, 54, 670)));
  assert.throws(() => verifyExpiry(common, 'targets/releases', new Date(Date.UTC(2026, 11, 6, 3, 57, 54, 671))),
    (e: unknown) => e instanceof ExpiredMetadataError && e.message === 'targets/releases expired at Sun Dec 6 03:57:54 UTC 2026');
});
