/**
 * The protobuf messages of notary-signer's gRPC API (`proto/signer.proto`, package `proto`,
 * spec §8.1) and of `grpc.health.v1` Check, encoded and decoded by hand.
 *
 * Why by hand: the schema is frozen, small and flat (strings, bytes, one enum, nested
 * messages), so a ~200-line codec gives exact TypeScript types without a code generator or a
 * runtime `.proto` loader, and keeps decoding of untrusted bytes under our control.
 *
 * Wire rules followed (proto3, as protobuf-go encodes and decodes):
 * - fields are written in field-number order; empty strings/bytes and zero enums are omitted;
 *   a nested message is written when present (even when empty);
 * - on decode, unknown fields — and known fields with an unexpected wire type — are skipped;
 *   a repeated scalar field keeps its last value; repeated occurrences of a nested message merge;
 *   missing fields read as their zero value (nested messages as empty messages);
 * - `string` fields must be valid UTF-8 (protobuf-go refuses otherwise).
 * Malformed input throws `ProtoDecodeError`.
 *
 * Not here: service/method paths and grpc-js glue (see services.ts).
 *
 * @example
 *   const bytes = encodeSignatureRequest({ keyId: 'ab12…', content });
 *   decodeSignatureRequest(bytes).keyId; // 'ab12…'
 */

/** Raised for bytes that are not a well-formed message of the expected type. */
export class ProtoDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export interface CreateKeyRequest {
  readonly algorithm: string;
  readonly gun: string;
  readonly role: string;
}
/** `KeyID { string ID = 1; }` */
export interface KeyIdMessage {
  readonly id: string;
}
/** `KeyInfo { KeyID keyID = 1; Algorithm algorithm = 2; }`, flattened: the key id and the key type. */
export interface KeyInfo {
  readonly keyId: string;
  readonly algorithm: string;
}
/** `PublicKey { KeyInfo keyInfo = 1; bytes publicKey = 2; }` */
export interface PublicKeyMessage {
  readonly keyInfo: KeyInfo;
  readonly publicKey: Uint8Array;
}
/** `GetKeyInfoResponse { KeyInfo keyInfo = 1; bytes publicKey = 2; string role = 3; }` */
export interface GetKeyInfoResponse {
  readonly keyInfo: KeyInfo;
  readonly publicKey: Uint8Array;
  readonly role: string;
}
/** `SignatureRequest { KeyID keyID = 1; bytes content = 2; }` */
export interface SignatureRequest {
  readonly keyId: string;
  readonly content: Uint8Array;
}
/** `Signature { KeyInfo keyInfo = 1; Algorithm algorithm = 2; bytes content = 3; }` */
export interface SignatureMessage {
  readonly keyInfo: KeyInfo;
  /** The signature method (`ecdsa`, `eddsa`, …). */
  readonly algorithm: string;
  readonly content: Uint8Array;
}
/** `grpc.health.v1.HealthCheckRequest { string service = 1; }` */
export interface HealthCheckRequest {
  readonly service: string;
}
/** `grpc.health.v1.HealthCheckResponse { ServingStatus status = 1; }` */
export interface HealthCheckResponse {
  readonly status: ServingStatus;
}
export const ServingStatus = { Unknown: 0, Serving: 1, NotServing: 2, ServiceUnknown: 3 } as const;
export type ServingStatus = number;

// ---------------------------------------------------------------- writer

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

class Writer {
  readonly #parts: Uint8Array[] = [];
  #size = 0;

  #push(b: Uint8Array): void {
    this.#parts.push(b);
    this.#size += b.length;
  }

  #varint(n: number): void {
    const out: number[] = [];
    let v = n;
    while (v > 0x7f) {
      out.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    out.push(v);
    this.#push(Uint8Array.from(out));
  }

  bytes(field: number, value: Uint8Array, always = false): this {
    if (value.length === 0 && !always) return this;
    this.#varint((field << 3) | 2);
    this.#varint(value.length);
    this.#push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  message(field: number, value: Uint8Array | undefined): this {
    return value === undefined ? this : this.bytes(field, value, true);
  }

  enumValue(field: number, value: number): this {
    if (value === 0) return this;
    this.#varint(field << 3);
    this.#varint(value);
    return this;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.#size);
    let at = 0;
    for (const p of this.#parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

// ---------------------------------------------------------------- reader

interface Field {
  readonly no: number;
  readonly wire: number;
  /** Payload for wire type 2. */
  readonly data: Uint8Array;
  /** Value for wire type 0. */
  readonly value: number;
}

function readVarint(buf: Uint8Array, at: number): [number, number] {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (at >= buf.length) throw new ProtoDecodeError('truncated varint');
    const b = buf[at++]!;
    result += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return [result, at];
    mul *= 0x80;
  }
  throw new ProtoDecodeError('varint longer than 10 bytes');
}

function* fields(buf: Uint8Array): Generator<Field> {
  let at = 0;
  while (at < buf.length) {
    const [tag, next] = readVarint(buf, at);
    at = next;
    const no = Math.floor(tag / 8);
    const wire = tag % 8;
    if (no < 1) throw new ProtoDecodeError(`invalid field number ${no}`);
    switch (wire) {
      case 0: {
        const [value, n] = readVarint(buf, at);
        at = n;
        yield { no, wire, data: new Uint8Array(0), value };
        break;
      }
      case 1:
      case 5: {
        const len = wire === 1 ? 8 : 4;
        if (at + len > buf.length) throw new ProtoDecodeError('truncated fixed-width field');
        at += len;
        break;
      }
      case 2: {
        const [len, n] = readVarint(buf, at);
        if (n + len > buf.length) throw new ProtoDecodeError(`field ${no}: length ${len} runs past the end of the message`);
        yield { no, wire, data: buf.subarray(n, n + len), value: 0 };
        at = n + len;
        break;
      }
      default:
        throw new ProtoDecodeError(`field ${no}: unsupported wire type ${wire}`);
    }
  }
}

/** Field number → decoded handler; wire type 2 for strings/bytes/messages, 0 for enums. */
type Spec = Readonly<Record<number, { readonly wire: 0 | 2; readonly set: (f: Field) => void }>>;

function decodeWith(buf: Uint8Array, spec: Spec): void {
  for (const f of fields(buf)) {
    const s = spec[f.no];
    if (s !== undefined && s.wire === f.wire) s.set(f);
  }
}

function text(f: Field): string {
  try {
    return strictUtf8.decode(f.data);
  } catch {
    throw new ProtoDecodeError(`field ${f.no}: string field contains invalid UTF-8`);
  }
}

/** Collects repeated occurrences of a nested message: concatenated bytes decode as their merge. */
class Nested {
  #parts: Uint8Array[] = [];
  add(f: Field): void {
    this.#parts.push(f.data);
  }
  bytes(): Uint8Array {
    return Buffer.concat(this.#parts);
  }
}

// ---------------------------------------------------------------- messages

function encodeKeyIdBytes(id: string): Uint8Array {
  return new Writer().string(1, id).finish();
}
function decodeKeyIdBytes(buf: Uint8Array): string {
  let id = '';
  decodeWith(buf, { 1: { wire: 2, set: (f) => (id = text(f)) } });
  return id;
}
function encodeAlgorithmBytes(algorithm: string): Uint8Array {
  return new Writer().string(1, algorithm).finish();
}
const decodeAlgorithmBytes = decodeKeyIdBytes; // same shape: `string x = 1`

function encodeKeyInfoBytes(info: KeyInfo): Uint8Array {
  return new Writer().message(1, encodeKeyIdBytes(info.keyId)).message(2, encodeAlgorithmBytes(info.algorithm)).finish();
}
function decodeKeyInfoBytes(buf: Uint8Array): KeyInfo {
  const id = new Nested();
  const alg = new Nested();
  decodeWith(buf, { 1: { wire: 2, set: (f) => id.add(f) }, 2: { wire: 2, set: (f) => alg.add(f) } });
  return { keyId: decodeKeyIdBytes(id.bytes()), algorithm: decodeAlgorithmBytes(alg.bytes()) };
}

export function encodeCreateKeyRequest(m: CreateKeyRequest): Uint8Array {
  return new Writer().string(1, m.algorithm).string(2, m.gun).string(3, m.role).finish();
}
export function decodeCreateKeyRequest(buf: Uint8Array): CreateKeyRequest {
  let algorithm = '';
  let gun = '';
  let role = '';
  decodeWith(buf, {
    1: { wire: 2, set: (f) => (algorithm = text(f)) },
    2: { wire: 2, set: (f) => (gun = text(f)) },
    3: { wire: 2, set: (f) => (role = text(f)) },
  });
  return { algorithm, gun, role };
}

export function encodeKeyId(m: KeyIdMessage): Uint8Array {
  return encodeKeyIdBytes(m.id);
}
export function decodeKeyId(buf: Uint8Array): KeyIdMessage {
  return { id: decodeKeyIdBytes(buf) };
}

export function encodePublicKey(m: PublicKeyMessage): Uint8Array {
  return new Writer().message(1, encodeKeyInfoBytes(m.keyInfo)).bytes(2, m.publicKey).finish();
}
export function decodePublicKey(buf: Uint8Array): PublicKeyMessage {
  const info = new Nested();
  let publicKey = new Uint8Array(0);
  decodeWith(buf, { 1: { wire: 2, set: (f) => info.add(f) }, 2: { wire: 2, set: (f) => (publicKey = f.data.slice()) } });
  return { keyInfo: decodeKeyInfoBytes(info.bytes()), publicKey };
}

export function encodeGetKeyInfoResponse(m: GetKeyInfoResponse): Uint8Array {
  return new Writer().message(1, encodeKeyInfoBytes(m.keyInfo)).bytes(2, m.publicKey).string(3, m.role).finish();
}
export function decodeGetKeyInfoResponse(buf: Uint8Array): GetKeyInfoResponse {
  const info = new Nested();
  let publicKey = new Uint8Array(0);
  let role = '';
  decodeWith(buf, {
    1: { wire: 2, set: (f) => info.add(f) },
    2: { wire: 2, set: (f) => (publicKey = f.data.slice()) },
    3: { wire: 2, set: (f) => (role = text(f)) },
  });
  return { keyInfo: decodeKeyInfoBytes(info.bytes()), publicKey, role };
}

export function encodeSignatureRequest(m: SignatureRequest): Uint8Array {
  return new Writer().message(1, encodeKeyIdBytes(m.keyId)).bytes(2, m.content).finish();
}
export function decodeSignatureRequest(buf: Uint8Array): SignatureRequest {
  const id = new Nested();
  let content = new Uint8Array(0);
  decodeWith(buf, { 1: { wire: 2, set: (f) => id.add(f) }, 2: { wire: 2, set: (f) => (content = f.data.slice()) } });
  return { keyId: decodeKeyIdBytes(id.bytes()), content };
}

export function encodeSignature(m: SignatureMessage): Uint8Array {
  return new Writer()
    .message(1, encodeKeyInfoBytes(m.keyInfo))
    .message(2, encodeAlgorithmBytes(m.algorithm))
    .bytes(3, m.content)
    .finish();
}
export function decodeSignature(buf: Uint8Array): SignatureMessage {
  const info = new Nested();
  const alg = new Nested();
  let content = new Uint8Array(0);
  decodeWith(buf, {
    1: { wire: 2, set: (f) => info.add(f) },
    2: { wire: 2, set: (f) => alg.add(f) },
    3: { wire: 2, set: (f) => (content = f.data.slice()) },
  });
  return { keyInfo: decodeKeyInfoBytes(info.bytes()), algorithm: decodeAlgorithmBytes(alg.bytes()), content };
}

/** `Void {}`: any well-formed message decodes to it. */
export function encodeVoid(): Uint8Array {
  return new Uint8Array(0);
}
export function decodeVoid(buf: Uint8Array): Record<string, never> {
  decodeWith(buf, {});
  return {};
}

export function encodeHealthCheckRequest(m: HealthCheckRequest): Uint8Array {
  return new Writer().string(1, m.service).finish();
}
export function decodeHealthCheckRequest(buf: Uint8Array): HealthCheckRequest {
  return { service: decodeKeyIdBytes(buf) };
}
export function encodeHealthCheckResponse(m: HealthCheckResponse): Uint8Array {
  return new Writer().enumValue(1, m.status).finish();
}
export function decodeHealthCheckResponse(buf: Uint8Array): HealthCheckResponse {
  let status = 0;
  decodeWith(buf, { 1: { wire: 0, set: (f) => (status = f.value) } });
  return { status };
}
