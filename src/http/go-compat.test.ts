import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goJsonMarshal, goJsonQuote, goQuote } from './go-json.ts';
import { formatRfc1123Local, formatRfc3339NanoLocal, parsePosixTz } from './go-time.ts';
import { cleanGoPath, decodeGoPath, escapeGoPath, muxCleanPath } from './go-path.ts';
import { encodeErrorEnvelope, parseErrorEnvelope } from './error-envelope.ts';

test('goJsonQuote escapes like encoding/json (HTML-safe, \\u00XX controls)', () => {
  assert.equal(goJsonQuote('a&b<c>'), '"a\\u0026b\\u003cc\\u003e"');
  assert.equal(goJsonQuote('\b\f\n\r\t\u0001'), '"\\u0008\\u000c\\n\\r\\t\\u0001"');
  assert.equal(goJsonQuote('\u2028x\u2029'), '"\\u2028x\\u2029"');
  assert.equal(goJsonQuote('é"\\'), '"é\\"\\\\"');
  assert.equal(goJsonQuote('\ud800'), '"\\ufffd"');
});

test('goJsonMarshal keeps insertion order and drops undefined members', () => {
  assert.equal(goJsonMarshal({ b: 1, a: [null, true, 'x'], c: undefined, d: {} }), '{"b":1,"a":[null,true,"x"],"d":{}}');
});

test('goQuote matches strconv.Quote', () => {
  assert.equal(goQuote(''), '""');
  assert.equal(goQuote('abc'), '"abc"');
  assert.equal(goQuote('a"b\\c\n\x01\x7f'), '"a\\"b\\\\c\\n\\x01\\x7f"');
  assert.equal(goQuote('ünï'), '"ünï"');
});

test('error envelope: detail omitted when absent, {} kept, trailing newline', () => {
  assert.equal(
    encodeErrorEnvelope([{ code: 'METADATA_NOT_FOUND', message: 'You have requested metadata that does not exist.' }]),
    '{"errors":[{"code":"METADATA_NOT_FOUND","message":"You have requested metadata that does not exist."}]}\n',
  );
  assert.equal(encodeErrorEnvelope([{ code: 'VERSION', message: 'm', detail: {} }]), '{"errors":[{"code":"VERSION","message":"m","detail":{}}]}\n');
  assert.deepEqual(parseErrorEnvelope('{"errors":[{"code":"X","message":"y","detail":"z"}]}'), [{ code: 'X', message: 'y', detail: 'z' }]);
  assert.deepEqual(parseErrorEnvelope('nope'), []);
});

test('RFC1123 Last-Modified uses the local zone abbreviation (TZ=UTC, America/New_York, Europe/Berlin)', () => {
  const saved = process.env['TZ'];
  try {
    const d = new Date(Date.UTC(2026, 10, 22, 3, 57, 54, 670));
    process.env['TZ'] = 'UTC';
    assert.equal(formatRfc1123Local(d), 'Sun, 22 Nov 2026 03:57:54 UTC');
    assert.equal(formatRfc3339NanoLocal(d), '2026-11-22T03:57:54.67Z');
    assert.equal(formatRfc3339NanoLocal(new Date(Date.UTC(2026, 0, 1))), '2026-01-01T00:00:00Z');
    process.env['TZ'] = 'America/New_York';
    assert.equal(formatRfc1123Local(d), 'Sat, 21 Nov 2026 22:57:54 EST');
    assert.equal(formatRfc1123Local(new Date(Date.UTC(2026, 6, 1, 12))), 'Wed, 01 Jul 2026 08:00:00 EDT');
    assert.equal(formatRfc3339NanoLocal(d), '2026-11-21T22:57:54.67-05:00');
    process.env['TZ'] = 'Europe/Berlin';
    assert.equal(formatRfc1123Local(d), 'Sun, 22 Nov 2026 04:57:54 CET');
    assert.equal(formatRfc1123Local(new Date(Date.UTC(2026, 6, 1, 12))), 'Wed, 01 Jul 2026 14:00:00 CEST');
  } finally {
    if (saved === undefined) delete process.env['TZ'];
    else process.env['TZ'] = saved;
  }
});

test('POSIX TZ footers give standard and daylight names', () => {
  assert.deepEqual(parsePosixTz('EST5EDT,M3.2.0,M11.1.0'), { std: 'EST', dst: 'EDT', stdOffset: -300 });
  assert.deepEqual(parsePosixTz('<+09>-9'), { std: '+09', dst: undefined, stdOffset: 540 });
  assert.deepEqual(parsePosixTz('IST-5:30'), { std: 'IST', dst: undefined, stdOffset: 330 });
  assert.equal(parsePosixTz('???'), null);
});

test('path helpers follow Go (path.Clean, mux trailing slash, PathUnescape, EscapedPath)', () => {
  assert.equal(cleanGoPath('/v2/foo/../bar//x/.'), '/v2/bar/x');
  assert.equal(cleanGoPath('/..'), '/');
  assert.equal(cleanGoPath('a/../..'), '..');
  assert.equal(muxCleanPath('/v2/foo//_trust/tuf/'), '/v2/foo/_trust/tuf/');
  assert.equal(muxCleanPath('/v2/foo/_trust/tuf/.'), '/v2/foo/_trust/tuf');
  assert.equal(muxCleanPath('//'), '/');
  assert.equal(decodeGoPath('/v2/a%2Fb%20c'), '/v2/a/b c');
  assert.equal(decodeGoPath('/v2/%zz'), null);
  assert.equal(decodeGoPath('/v2/%e2%82%ac'), '/v2/€');
  assert.equal(escapeGoPath('/v2/a b/(x)?'), '/v2/a%20b/%28x%29%3F');
});
