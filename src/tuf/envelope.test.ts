import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalize } from '../canonical/index.ts';
import { DeserializationError } from '../errors/index.ts';
import { Envelope, assembleSigned, readSignedCommon } from './envelope.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

test('parse keeps bytes, generic signed (unknown fields too) and lower-cases methods', () => {
  const text = '{"signed":{"_type":"Targets","x-extra":{"b":1,"a":"<&>"},"version":2},"signatures":[{"keyid":"ab","method":"ECDSA","sig":"AQI=","extra":1}]}';
  const env = Envelope.parse(enc(text), 'targets');
  assert.equal(new TextDecoder().decode(env.bytes), text);
  assert.deepEqual(env.signed['x-extra'], { b: 1, a: '<&>' });
  assert.deepEqual(env.signatures, [{ keyid: 'ab', method: 'ecdsa', sig: new Uint8Array([1, 2]) }]);
  assert.equal(new TextDecoder().decode(env.canonicalSigned()), '{"_type":"Targets","version":2,"x-extra":{"a":"<&>","b":1}}');
});

test('struct fields match case-insensitively as in Go', () => {
  const env = Envelope.parse(enc('{"Signed":{"_type":"Root"},"SIGNATURES":null}'), 'root');
  assert.equal(env.signed['_type'], 'Root');
  assert.deepEqual(env.signatures, []);
});

test('parse rejects non-JSON, a missing signed object and bad signatures', () => {
  for (const s of ['', 'nope', '[]', '{"signatures":[]}', '{"signed":"x"}', '{"signed":{},"signatures":{}}',
    '{"signed":{},"signatures":[{"sig":"***"}]}', '{"signed":{},"signatures":[{"keyid":1}]}']) {
    assert.throws(() => Envelope.parse(enc(s), 'root'), DeserializationError, s);
  }
});

test('assembleSigned writes Go\'s envelope layout and re-parses to the same signed value', () => {
  const signed = { _type: 'Timestamp', version: 1, name: 'a&b<c>' };
  const canonical = canonicalize(signed);
  const out = assembleSigned(canonical, [{ keyid: 'k', method: 'eddsa', sig: new Uint8Array([255]) }]);
  assert.equal(new TextDecoder().decode(out),
    '{"signed":{"_type":"Timestamp","name":"a\\u0026b\\u003cc\\u003e","version":1},"signatures":[{"keyid":"k","method":"eddsa","sig":"/w=="}]}');
  assert.deepEqual(Envelope.parse(out, 't').canonicalSigned(), canonical);
});

test('readSignedCommon: the fields the publish handler reads', () => {
  assert.deepEqual(readSignedCommon(enc('{"signed":{"_type":"Root","version":3,"expires":"2030-01-01T00:00:00Z"}}'), 'root'),
    { type: 'Root', version: 3, expires: '2030-01-01T00:00:00Z' });
  assert.equal(readSignedCommon(enc('{"signed":{}}'), 'root').version, 0);
  assert.throws(() => readSignedCommon(enc('{"signed":{"version":"3"}}'), 'root'), DeserializationError);
  assert.throws(() => readSignedCommon(enc('{"signed":{"version":1,"expires":"tomorrow"}}'), 'root'), DeserializationError);
  assert.throws(() => readSignedCommon(enc('{"signed":{"version":1.5}}'), 'root'), DeserializationError);
  assert.throws(() => readSignedCommon(enc('{"signed":{"version":1},"signatures":[{"sig":"%%"}]}'), 'root'), DeserializationError);
  assert.throws(() => readSignedCommon(enc('{"signed":{"version":1},"signatures":{}}'), 'root'), DeserializationError);
  assert.equal(readSignedCommon(enc('{"signed":{"version":1},"signatures":[null]}'), 'root').version, 1);
});
