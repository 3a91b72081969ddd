import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  children,
  encodeOid,
  encodeSequence,
  encodeTlv,
  encodeUnsignedInteger,
  parseDer,
  readBitString,
  readBoolean,
  readInteger,
  readOid,
  Tag,
} from './der.ts';
import { pemDecode, pemDecodeAll, pemEncode } from './pem.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

test('DER: OIDs round trip, including large arcs', () => {
  for (const oid of ['1.2.840.10045.4.3.2', '2.5.29.37.0', '1.3.6.1.4.1.311.10.3.3', '2.999.1', '0.9.2342.19200300.100.1.1']) {
    assert.equal(readOid(parseDer(encodeOid(oid))), oid);
  }
  assert.equal(hex(encodeOid('1.2.840.10045.4.3.2')), '06082a8648ce3d040302');
});

test('DER: integers are minimal, two’s complement', () => {
  assert.equal(hex(encodeUnsignedInteger(0n)), '020100');
  assert.equal(hex(encodeUnsignedInteger(127n)), '02017f');
  assert.equal(hex(encodeUnsignedInteger(128n)), '02020080');
  assert.equal(readInteger(parseDer(fromHex('0202ff7f'))), -129n);
  assert.equal(readInteger(parseDer(fromHex('02020080'))), 128n);
  assert.throws(() => readInteger(parseDer(fromHex('0202007f'))), /non-minimal/);
  assert.throws(() => readInteger(parseDer(fromHex('0200'))), /empty/);
});

test('DER: lengths must be definite and minimal; no trailing data', () => {
  const long = new Uint8Array(200).fill(7);
  const tlv = encodeTlv(Tag.OctetString, long);
  assert.equal(hex(tlv.subarray(0, 3)), '0481c8');
  assert.deepEqual(parseDer(tlv).content, long);
  assert.throws(() => parseDer(fromHex('04810100')), /non-minimal/);
  assert.throws(() => parseDer(fromHex('0480')), /indefinite/);
  assert.throws(() => parseDer(fromHex('040201')), /exceeds/);
  assert.throws(() => parseDer(fromHex('04000500')), /trailing/);
  assert.throws(() => parseDer(fromHex('1f0100')), /multi-byte/);
});

test('DER: sequences, booleans, bit strings', () => {
  const seq = encodeSequence(encodeOid('2.5.29.19'), fromHex('0101ff'));
  const [oid, bool] = children(parseDer(seq));
  assert.equal(readOid(oid!), '2.5.29.19');
  assert.equal(readBoolean(bool!), true);
  assert.throws(() => readBoolean(parseDer(fromHex('010101'))), /BOOLEAN/);
  assert.deepEqual(readBitString(parseDer(fromHex('030205a0'))), [fromHex('a0'), 5]);
  assert.throws(() => readBitString(parseDer(fromHex('030205a1'))), /padding/);
});

test('PEM: encode is 64 columns with a trailing newline; decode round trips', () => {
  const bytes = new Uint8Array(100).map((_, i) => i);
  const pem = pemEncode('CERTIFICATE', bytes);
  const lines = pem.split('\n');
  assert.equal(lines[0], '-----BEGIN CERTIFICATE-----');
  assert.equal(lines[1]!.length, 64);
  assert.equal(lines.at(-2), '-----END CERTIFICATE-----');
  assert.equal(lines.at(-1), '');
  const [block, rest] = pemDecode(pem);
  assert.deepEqual(block?.bytes, bytes);
  assert.equal(rest, '');
});

test('PEM: Go pem.Decode behaviour (headers, junk, broken blocks skipped, wrong END type)', () => {
  const a = pemEncode('A', new Uint8Array([1]));
  const b = pemEncode('B', new Uint8Array([2]));
  const withHeaders = '-----BEGIN X-----\nrole: root\ngun: g\n\nAw==\n-----END X-----\n';
  const [h] = pemDecode(withHeaders);
  assert.deepEqual(h?.headers, { role: 'root', gun: 'g' });
  assert.deepEqual(h?.bytes, new Uint8Array([3]));
  assert.deepEqual(pemDecodeAll('junk before\n' + a + 'between\n' + b).map((x) => x.type), ['A', 'B']);
  // BEGIN must start a line.
  assert.equal(pemDecode('x' + a)[0], null);
  // A block with bad base64 or a mismatched END is skipped.
  const broken = '-----BEGIN A-----\n!!!!\n-----END A-----\n';
  assert.deepEqual(pemDecodeAll(broken + b).map((x) => x.type), ['B']);
  assert.deepEqual(pemDecodeAll('-----BEGIN A-----\nAQ==\n-----END B-----\n' + b).map((x) => x.type), ['B']);
  // CRLF line endings and indentation inside the body are accepted.
  assert.deepEqual(pemDecode(a.replaceAll('\n', '\r\n'))[0]?.bytes, new Uint8Array([1]));
  assert.equal(pemDecode('nothing here')[0], null);
});
