import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeserializationError } from '../errors/index.ts';
import { canonicalize, compareCodePoints, encodeEnvelope, goJsonString, htmlEscape, parseJson } from './json.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const canon = (v: unknown): string => dec(canonicalize(v));

test('canonicalize: no whitespace, keys sorted, literals', () => {
  assert.equal(canon({ b: [1, true, null, false], a: { d: 'x', c: [] }, _type: 'Root' }), '{"_type":"Root","a":{"c":[],"d":"x"},"b":[1,true,null,false]}');
  assert.equal(canon([]), '[]');
  assert.equal(canon({}), '{}');
  assert.equal(canon('s'), '"s"');
});

test('canonicalize: _type sorts before lowercase letters but after uppercase', () => {
  assert.equal(canon({ version: 1, expires: 'e', _type: 'T', Z: 0 }), '{"Z":0,"_type":"T","expires":"e","version":1}');
});

test('canonicalize: keys sort by UTF-8 bytes, not UTF-16 code units', () => {
  // U+FF5E (EF BD 9E) < U+1F600 (F0 9F 98 80) in UTF-8; UTF-16 order is the reverse.
  const value = { '\u{1F600}': 1, '\uFF5E': 2, 'é': 3, z: 4 };
  assert.equal(canon(value), '{"z":4,"é":3,"～":2,"😀":1}');
  assert.ok(['\u{1F600}', '\uFF5E'].sort()[0] === '\u{1F600}', 'default JS sort differs, so the test can fail');
  assert.ok(compareCodePoints('\uFF5E', '\u{1F600}') < 0);
  assert.ok(compareCodePoints('a', 'ab') < 0);
  assert.equal(compareCodePoints('x', 'x'), 0);
});

test('canonicalize: only quote and backslash escaped; control chars, <>&, U+2028 raw', () => {
  const s = 'q"b\\n\n\t\u0001<>&\u2028\u007f€';
  const out = canonicalize({ k: s });
  const expected = new Uint8Array([
    ...enc('{"k":"q\\"b\\\\n'),
    0x0a, 0x09, 0x01,
    ...enc('<>&'),
    0xe2, 0x80, 0xa8, 0x7f, 0xe2, 0x82, 0xac,
    ...enc('"}'),
  ]);
  assert.deepEqual(out, expected);
});

test('canonicalize: escapes in parsed input are decoded, then written raw', () => {
  const v = parseJson(enc('{"a":"\\u003c\\u00e9\\n\\/"}'), 'x');
  assert.deepEqual(canonicalize(v), new Uint8Array([...enc('{"a":"<é'), 0x0a, ...enc('/"}')]));
});

test('canonicalize: lone surrogates become U+FFFD as Go decodes them', () => {
  const v = parseJson(enc('{"a":"x\\ud800y"}'), 'x');
  assert.equal(canon(v), '{"a":"x\uFFFDy"}');
});

test('canonicalize: integers printed in base 10, floats rejected', () => {
  assert.equal(canon([0, -0, -7, 1e3, 2 ** 53, 1.0, 123456789012]), '[0,0,-7,1000,9007199254740992,1,123456789012]');
  assert.equal(canon(parseJson(enc('[1E2, 5.0, -1e0]'), 'n')), '[100,5,-1]');
  assert.equal(canon(2 ** 63), '-9223372036854775808'); // Go's int64(f) on amd64
  assert.equal(canon(12n), '12');
  for (const bad of [1.5, -0.25, NaN, Infinity, -Infinity]) {
    assert.throws(() => canonicalize({ n: bad }), DeserializationError, String(bad));
  }
  assert.throws(() => canonicalize(parseJson(enc('{"x":1.5}'), 'n')), /unsupported value: 1.5/);
});

test('canonicalize: undefined properties are left out; non-JSON values refused', () => {
  assert.equal(canon({ a: undefined, b: 1 }), '{"b":1}');
  assert.throws(() => canonicalize(undefined), TypeError);
  assert.throws(() => canonicalize([undefined]), TypeError);
  assert.throws(() => canonicalize({ f: () => 1 }), TypeError);
  assert.throws(() => canonicalize(new Date(0)), TypeError);
  assert.throws(() => canonicalize(new Uint8Array(2)), TypeError);
  assert.equal(canon(Object.assign(Object.create(null) as object, { b: 1, a: 2 })), '{"a":2,"b":1}');
});

test('canonicalize: __proto__ from parsed JSON is an ordinary key', () => {
  const v = parseJson(enc('{"__proto__":{"x":1},"a":2}'), 'x');
  assert.equal(canon(v), '{"__proto__":{"x":1},"a":2}');
});

test('parseJson: errors name what was parsed', () => {
  assert.throws(() => parseJson(enc('{"a":'), 'root.json'), (e: unknown) => e instanceof DeserializationError && /root\.json/.test(e.message));
  assert.throws(() => parseJson(enc('{} x'), 't'), DeserializationError);
  assert.throws(() => parseJson(enc('\uFEFF{}'), 'bom'), DeserializationError);
  assert.throws(() => parseJson(enc('{"a":"\u0001"}'), 'ctl'), DeserializationError);
  assert.throws(() => parseJson(enc('['.repeat(10001) + ']'.repeat(10001)), 'deep'), /max depth/);
  assert.ok(Array.isArray(parseJson(enc('['.repeat(100) + ']'.repeat(100)), 'ok')));
  assert.deepEqual(parseJson(enc(' \t\r\n{"a":[1,{"b":null}]} \n'), 'ws'), { a: [1, { b: null }] });
});

test('parseJson: invalid UTF-8 is replaced byte by byte, as Go does', () => {
  // F0 90 80 is a truncated 4-byte sequence: Go gives three U+FFFD, WHATWG would give one.
  const bytes = new Uint8Array([...enc('["'), 0xf0, 0x90, 0x80, 0x41, 0xff, 0xc0, 0x80, ...enc('é"]')]);
  assert.deepEqual(parseJson(bytes, 'x'), ['\uFFFD\uFFFD\uFFFDA\uFFFD\uFFFD\uFFFDé']);
  assert.deepEqual(parseJson(new Uint8Array([...enc('["'), 0xed, 0xa0, 0x80, ...enc('"]')]), 'x'), ['\uFFFD\uFFFD\uFFFD']);
  assert.deepEqual(parseJson(new Uint8Array([...enc('["'), 0xf0, 0x9f, 0x98, 0x80, ...enc('"]')]), 'x'), ['😀']);
});

test('htmlEscape: < > & U+2028 U+2029 only', () => {
  const input = enc('{"a":"<b>&c\u2028\u2029\u2027é"}');
  assert.equal(dec(htmlEscape(input)), '{"a":"\\u003cb\\u003e\\u0026c\\u2028\\u2029\u2027é"}');
  const plain = enc('{"a":"x"}');
  assert.equal(htmlEscape(plain), plain);
});

test('goJsonString: Go encoding/json string escaping', () => {
  assert.equal(goJsonString('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(goJsonString('\n\r\t\u0001\u001f'), '"\\n\\r\\t\\u0001\\u001f"');
  assert.equal(goJsonString('<>&'), '"\\u003c\\u003e\\u0026"');
  assert.equal(goJsonString('\u2028\u2029'), '"\\u2028\\u2029"');
  assert.equal(goJsonString('x\ud800y😀\udc00'), '"x\\ufffdy😀\\ufffd"');
  assert.equal(goJsonString('\u007fé'), '"\u007fé"');
});

test('encodeEnvelope: Go layout, HTML escaping, base64 sigs', () => {
  const signed = canonicalize({ _type: 'Targets', targets: { 'a&b<c>': 1 } });
  const out = encodeEnvelope(signed, [
    { keyid: 'ab', method: 'ecdsa', sig: new Uint8Array([1, 2, 3]) },
    { keyid: 'cd', method: 'x<y', sig: new Uint8Array([]) },
  ]);
  assert.equal(
    dec(out),
    '{"signed":{"_type":"Targets","targets":{"a\\u0026b\\u003cc\\u003e":1}},"signatures":[{"keyid":"ab","method":"ecdsa","sig":"AQID"},{"keyid":"cd","method":"x\\u003cy","sig":""}]}',
  );
  assert.equal(dec(encodeEnvelope(enc('{}'), [])), '{"signed":{},"signatures":[]}');
  assert.equal(dec(encodeEnvelope(enc('{}'), null)), '{"signed":{},"signatures":null}');
});

test('encodeEnvelope: compacts whitespace, refuses raw control characters (Go cannot encode them)', () => {
  assert.equal(dec(encodeEnvelope(enc('{ "a" : [ 1 , "x y" ] }'), [])), '{"signed":{"a":[1,"x y"]},"signatures":[]}');
  assert.throws(() => encodeEnvelope(canonicalize({ name: 'bad\u0001' }), []), DeserializationError);
  assert.throws(() => encodeEnvelope(canonicalize({ name: 'line\nbreak' }), []), DeserializationError);
});
