/**
 * The hand-written codec against the reference encoder: every hex vector below was produced by
 * `protoc --encode` from notary's `proto/signer.proto` and grpc's `health/v1/health.proto`
 * (text-format input shown beside each), so encoding must reproduce them byte for byte and
 * decoding must read them back. Then the proto3 decoding rules (unknown fields, wrong wire
 * types, merging, last-wins, UTF-8) and malformed input.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as pb from './proto.ts';

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (...v: number[]): Uint8Array => Uint8Array.from(v);

describe('signer.proto messages: byte-exact with protoc', () => {
  it('CreateKeyRequest { algorithm: "ecdsa" gun: "example.com/app" role: "timestamp" }', () => {
    const v = '0a056563647361120f6578616d706c652e636f6d2f6170701a0974696d657374616d70';
    const m = { algorithm: 'ecdsa', gun: 'example.com/app', role: 'timestamp' };
    assert.equal(toHex(pb.encodeCreateKeyRequest(m)), v);
    assert.deepEqual(pb.decodeCreateKeyRequest(hex(v)), m);
  });

  it('CreateKeyRequest { role: "targets/rélease" } (UTF-8, empty fields omitted)', () => {
    const v = '1a10746172676574732f72c3a96c65617365';
    const m = { algorithm: '', gun: '', role: 'targets/rélease' };
    assert.equal(toHex(pb.encodeCreateKeyRequest(m)), v);
    assert.deepEqual(pb.decodeCreateKeyRequest(hex(v)), m);
  });

  it('KeyID { ID: "abc123" }', () => {
    assert.equal(toHex(pb.encodeKeyId({ id: 'abc123' })), '0a06616263313233');
    assert.deepEqual(pb.decodeKeyId(hex('0a06616263313233')), { id: 'abc123' });
  });

  it('PublicKey { keyInfo { keyID { ID: "k1" } algorithm { algorithm: "ecdsa" } } publicKey: "\\x01\\x02\\x03" }', () => {
    const v = '0a0f0a040a026b3112070a0565636473611203010203';
    const m = { keyInfo: { keyId: 'k1', algorithm: 'ecdsa' }, publicKey: bytes(1, 2, 3) };
    assert.equal(toHex(pb.encodePublicKey(m)), v);
    assert.deepEqual(pb.decodePublicKey(hex(v)), m);
  });

  it('GetKeyInfoResponse { keyInfo {…ed25519} publicKey: "\\xff" role: "snapshot" }', () => {
    const v = '0a110a040a026b3112090a07656432353531391201ff1a08736e617073686f74';
    const m = { keyInfo: { keyId: 'k1', algorithm: 'ed25519' }, publicKey: bytes(0xff), role: 'snapshot' };
    assert.equal(toHex(pb.encodeGetKeyInfoResponse(m)), v);
    assert.deepEqual(pb.decodeGetKeyInfoResponse(hex(v)), m);
  });

  it('SignatureRequest { keyID { ID: "k1" } content: "{\\"a\\":1}" }', () => {
    const v = '0a040a026b3112077b2261223a317d';
    const m = { keyId: 'k1', content: new TextEncoder().encode('{"a":1}') };
    assert.equal(toHex(pb.encodeSignatureRequest(m)), v);
    assert.deepEqual(pb.decodeSignatureRequest(hex(v)), m);
  });

  it('Signature { keyInfo {…} algorithm { algorithm: "ecdsa" } content: "\\x00\\x01" }', () => {
    const v = '0a0f0a040a026b3112070a05656364736112070a0565636473611a020001';
    const m = { keyInfo: { keyId: 'k1', algorithm: 'ecdsa' }, algorithm: 'ecdsa', content: bytes(0, 1) };
    assert.equal(toHex(pb.encodeSignature(m)), v);
    assert.deepEqual(pb.decodeSignature(hex(v)), m);
  });

  it('Signature with empty nested messages keeps them (keyInfo { keyID {} algorithm {} } algorithm {})', () => {
    const v = '0a040a0012001200';
    const m = { keyInfo: { keyId: '', algorithm: '' }, algorithm: '', content: new Uint8Array(0) };
    assert.equal(toHex(pb.encodeSignature(m)), v);
    assert.deepEqual(pb.decodeSignature(hex(v)), m);
  });

  it('Void is empty', () => {
    assert.equal(pb.encodeVoid().length, 0);
    assert.deepEqual(pb.decodeVoid(new Uint8Array(0)), {});
  });

  it('grpc.health.v1: HealthCheckRequest { service: "grpc.health.v1.Health.Signer" }, HealthCheckResponse { status: SERVING }', () => {
    const req = '0a1c677270632e6865616c74682e76312e4865616c74682e5369676e6572';
    assert.equal(toHex(pb.encodeHealthCheckRequest({ service: 'grpc.health.v1.Health.Signer' })), req);
    assert.deepEqual(pb.decodeHealthCheckRequest(hex(req)), { service: 'grpc.health.v1.Health.Signer' });
    assert.equal(toHex(pb.encodeHealthCheckResponse({ status: pb.ServingStatus.Serving })), '0801');
    assert.equal(toHex(pb.encodeHealthCheckResponse({ status: pb.ServingStatus.ServiceUnknown })), '0803');
    assert.equal(toHex(pb.encodeHealthCheckResponse({ status: pb.ServingStatus.Unknown })), '');
    assert.deepEqual(pb.decodeHealthCheckResponse(hex('0801')), { status: 1 });
    assert.deepEqual(pb.decodeHealthCheckResponse(new Uint8Array(0)), { status: 0 });
  });
});

describe('proto3 decoding rules', () => {
  it('skips unknown fields of every wire type', () => {
    // field 9 varint 150, field 10 fixed64, field 11 fixed32, field 12 bytes, then ID "x"
    const buf = hex('489601' + '510102030405060708' + '5d01020304' + '6202ffff' + '0a0178');
    assert.deepEqual(pb.decodeKeyId(buf), { id: 'x' });
  });

  it('skips a known field sent with another wire type', () => {
    // field 1 as a varint is not the string ID
    assert.deepEqual(pb.decodeKeyId(hex('0805' + '0a0179')), { id: 'y' });
    assert.deepEqual(pb.decodeKeyId(hex('0805')), { id: '' });
  });

  it('a repeated scalar keeps the last value; repeated nested messages merge', () => {
    assert.deepEqual(pb.decodeKeyId(hex('0a0161' + '0a0162')), { id: 'b' });
    // keyInfo sent twice: first with keyID "k1", then with algorithm "ecdsa"
    const merged = hex('0a060a040a026b31' + '0a0912070a056563647361');
    assert.deepEqual(pb.decodePublicKey(merged).keyInfo, { keyId: 'k1', algorithm: 'ecdsa' });
  });

  it('missing nested messages read as empty', () => {
    assert.deepEqual(pb.decodeSignatureRequest(hex('12017a')), { keyId: '', content: bytes(0x7a) });
    assert.deepEqual(pb.decodeGetKeyInfoResponse(new Uint8Array(0)), { keyInfo: { keyId: '', algorithm: '' }, publicKey: new Uint8Array(0), role: '' });
  });

  it('decoded bytes do not alias the input buffer', () => {
    const buf = hex('0a040a026b3112077b2261223a317d');
    const m = pb.decodeSignatureRequest(buf);
    buf.fill(0);
    assert.equal(new TextDecoder().decode(m.content), '{"a":1}');
  });

  it('refuses malformed input', () => {
    const bad: [string, RegExp][] = [
      ['0a05616263', /runs past the end/], // length 5, 3 bytes
      ['0a', /truncated varint/],
      ['80', /truncated varint/],
      ['0affffffffffffffffffff01', /varint longer than 10 bytes/],
      ['0b', /unsupported wire type 3/],
      ['0c', /unsupported wire type 4/],
      ['02', /invalid field number 0/],
      ['4d0102', /truncated fixed-width/],
      ['0a02c328', /invalid UTF-8/],
    ];
    for (const [h, re] of bad) {
      assert.throws(() => pb.decodeKeyId(hex(h)), (e: unknown) => e instanceof pb.ProtoDecodeError && re.test(e.message), h);
    }
    assert.throws(() => pb.decodeSignatureRequest(hex('0a030a02c328')), pb.ProtoDecodeError, 'invalid UTF-8 inside a nested message');
  });

  it('round-trips long strings and bytes (multi-byte lengths)', () => {
    const content = new Uint8Array(70_000).map((_, i) => i % 251);
    const m = { keyId: 'a'.repeat(300), content };
    assert.deepEqual(pb.decodeSignatureRequest(pb.encodeSignatureRequest(m)), m);
  });
});
