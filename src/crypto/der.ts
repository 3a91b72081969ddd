/**
 * A minimal, strict DER reader and writer: just what certificates, SubjectPublicKeyInfo and
 * notary's key forms need. Only single-byte tags and definite, minimally encoded lengths are
 * accepted (Go's parsers are DER-strict too). Errors are plain `Error`s; callers wrap them into
 * the typed error of their context.
 */

export const Tag = {
  Boolean: 0x01,
  Integer: 0x02,
  BitString: 0x03,
  OctetString: 0x04,
  Null: 0x05,
  Oid: 0x06,
  Utf8String: 0x0c,
  Sequence: 0x30,
  Set: 0x31,
  NumericString: 0x12,
  PrintableString: 0x13,
  T61String: 0x14,
  Ia5String: 0x16,
  UtcTime: 0x17,
  GeneralizedTime: 0x18,
  BmpString: 0x1e,
} as const;

export interface DerNode {
  readonly tag: number;
  /** Content bytes (without tag and length). */
  readonly content: Uint8Array;
  /** The whole TLV. */
  readonly full: Uint8Array;
}

/** Read one TLV at `offset`; returns the node and the offset after it. */
export function readNode(buf: Uint8Array, offset: number): [DerNode, number] {
  const tag = buf[offset];
  if (tag === undefined) throw new Error('DER: unexpected end of data');
  if ((tag & 0x1f) === 0x1f) throw new Error('DER: multi-byte tags are not supported');
  let p = offset + 1;
  const first = buf[p++];
  if (first === undefined) throw new Error('DER: truncated length');
  let len: number;
  if (first < 0x80) len = first;
  else {
    const n = first & 0x7f;
    if (n === 0 || n > 4) throw new Error('DER: indefinite or oversized length');
    len = 0;
    for (let i = 0; i < n; i++) {
      const b = buf[p++];
      if (b === undefined) throw new Error('DER: truncated length');
      if (i === 0 && b === 0) throw new Error('DER: non-minimal length');
      len = len * 256 + b;
    }
    if (len < 0x80) throw new Error('DER: non-minimal length');
  }
  const end = p + len;
  if (end > buf.length) throw new Error('DER: content exceeds data');
  return [{ tag, content: buf.subarray(p, end), full: buf.subarray(offset, end) }, end];
}

/** Parse exactly one TLV filling all of `buf`. */
export function parseDer(buf: Uint8Array): DerNode {
  const [node, end] = readNode(buf, 0);
  if (end !== buf.length) throw new Error('DER: trailing data');
  return node;
}

/** The children of a constructed node. */
export function children(node: DerNode): DerNode[] {
  const out: DerNode[] = [];
  let p = 0;
  while (p < node.content.length) {
    const [child, next] = readNode(node.content, p);
    out.push(child);
    p = next;
  }
  return out;
}

export function expectTag(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (node === undefined) throw new Error(`DER: missing ${what}`);
  if (node.tag !== tag) throw new Error(`DER: ${what}: expected tag 0x${tag.toString(16)}, got 0x${node.tag.toString(16)}`);
  return node;
}

export function readOid(node: DerNode): string {
  const b = node.content;
  if (b.length === 0) throw new Error('DER: empty OID');
  const arcs: bigint[] = [];
  let v = 0n;
  let started = false;
  for (let i = 0; i < b.length; i++) {
    const c = b[i] ?? 0;
    if (!started && c === 0x80) throw new Error('DER: non-minimal OID arc');
    started = true;
    v = (v << 7n) | BigInt(c & 0x7f);
    if ((c & 0x80) === 0) {
      arcs.push(v);
      v = 0n;
      started = false;
    }
  }
  if (started) throw new Error('DER: truncated OID');
  const first = arcs[0] ?? 0n;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

/** An INTEGER as bigint (two's complement), checking minimal encoding. */
export function readInteger(node: DerNode): bigint {
  const b = node.content;
  if (b.length === 0) throw new Error('DER: empty INTEGER');
  const b0 = b[0] ?? 0;
  const b1 = b[1];
  if (b1 !== undefined && ((b0 === 0 && b1 < 0x80) || (b0 === 0xff && b1 >= 0x80))) {
    throw new Error('DER: non-minimal INTEGER');
  }
  let v = 0n;
  for (const c of b) v = (v << 8n) | BigInt(c);
  if (b0 & 0x80) v -= 1n << BigInt(8 * b.length);
  return v;
}

export function readBoolean(node: DerNode): boolean {
  if (node.content.length !== 1) throw new Error('DER: bad BOOLEAN');
  const v = node.content[0];
  if (v === 0xff) return true;
  if (v === 0x00) return false;
  throw new Error('DER: BOOLEAN not 0x00/0xff');
}

/** BIT STRING → [bytes, unused bits]. */
export function readBitString(node: DerNode): [Uint8Array, number] {
  const b = node.content;
  const unused = b[0];
  if (unused === undefined || unused > 7 || (b.length === 1 && unused !== 0)) throw new Error('DER: bad BIT STRING');
  const bytes = b.subarray(1);
  const last = bytes[bytes.length - 1];
  if (last !== undefined && (last & ((1 << unused) - 1)) !== 0) throw new Error('DER: BIT STRING padding bits set');
  return [bytes, unused];
}

// ---- writer ----

export function encodeTlv(tag: number, content: Uint8Array): Uint8Array {
  const len = content.length;
  let header: number[];
  if (len < 0x80) header = [tag, len];
  else {
    const bytes: number[] = [];
    for (let n = len; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
    header = [tag, 0x80 | bytes.length, ...bytes];
  }
  const out = new Uint8Array(header.length + len);
  out.set(header, 0);
  out.set(content, header.length);
  return out;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function encodeSequence(...parts: Uint8Array[]): Uint8Array {
  return encodeTlv(Tag.Sequence, concatBytes(parts));
}

export function encodeSet(...parts: Uint8Array[]): Uint8Array {
  return encodeTlv(Tag.Set, concatBytes(parts));
}

/** A non-negative INTEGER. */
export function encodeUnsignedInteger(v: bigint): Uint8Array {
  if (v < 0n) throw new RangeError('negative INTEGER');
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  let bytes = Buffer.from(hex, 'hex');
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return encodeTlv(Tag.Integer, new Uint8Array(bytes));
}

export function encodeOid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((a) => BigInt(a));
  const [a0 = 0n, a1 = 0n, ...rest] = arcs;
  const out: number[] = [];
  for (const arc of [a0 * 40n + a1, ...rest]) {
    const groups: number[] = [];
    let v = arc;
    do {
      groups.unshift(Number(v & 0x7fn));
      v >>= 7n;
    } while (v > 0n);
    for (let i = 0; i < groups.length - 1; i++) groups[i] = (groups[i] ?? 0) | 0x80;
    out.push(...groups);
  }
  return encodeTlv(Tag.Oid, Uint8Array.from(out));
}

export function encodeBoolean(v: boolean): Uint8Array {
  return encodeTlv(Tag.Boolean, Uint8Array.of(v ? 0xff : 0));
}

export function encodeOctetString(b: Uint8Array): Uint8Array {
  return encodeTlv(Tag.OctetString, b);
}

export function encodeBitString(b: Uint8Array, unusedBits = 0): Uint8Array {
  return encodeTlv(Tag.BitString, concatBytes([Uint8Array.of(unusedBits), b]));
}

/** Context-specific constructed tag `[n]` (EXPLICIT). */
export function encodeExplicit(n: number, inner: Uint8Array): Uint8Array {
  return encodeTlv(0xa0 | n, inner);
}

export const NULL_DER = Uint8Array.of(Tag.Null, 0);
