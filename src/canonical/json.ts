/**
 * Notary's JSON dialect: parsing as Go's encoding/json does, the canonical encoder of
 * docker/go (`MarshalCanonical`, spec §1.1) and the envelope layout Go's ordinary encoder writes
 * (§1.2).
 *
 * Not here: the metadata model (src/tuf) and what gets signed (callers sign `canonicalize(x)`).
 *
 * ```ts
 * const value = parseJson(bytes, 'root');
 * const msg = canonicalize((value as { signed: unknown }).signed);  // bytes the signatures cover
 * const file = encodeEnvelope(msg, [{ keyid, method: 'ecdsa', sig }]);
 * ```
 */
import { DeserializationError } from '../errors/index.ts';
import { toBase64 } from './encoding.ts';
import { decodeUtf8GoStyle, encodeUtf8 } from './utf8.ts';

/** Go's encoding/json refuses documents nested deeper than this. */
const MAX_DEPTH = 10000;

/**
 * Decode UTF-8 (invalid bytes → U+FFFD as Go does, a BOM is an error) and parse JSON.
 * Numbers become doubles, as Go's `interface{}` decoding makes them float64.
 * @throws DeserializationError naming `what` when the bytes are not one JSON value
 */
export function parseJson(bytes: Uint8Array, what: string): unknown {
  const text = decodeUtf8GoStyle(bytes);
  try {
    checkDepth(text);
    return JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new DeserializationError(`${what}: invalid JSON: ${reason}`, { cause: err });
  }
}

function checkDepth(text: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_DEPTH) throw new Error(`exceeded max depth ${MAX_DEPTH}`);
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}

/**
 * docker/go `MarshalCanonical` of a generic JSON value (spec §1.1): no whitespace, object keys
 * sorted by their UTF-8 bytes, strings with only `"` and `\` escaped (everything else raw,
 * control characters included), integral numbers only.
 *
 * Object properties whose value is `undefined` are left out (convenient for optional fields);
 * `bigint` is written as an integer.
 * @throws DeserializationError for a non-integral, NaN or infinite number
 * @throws TypeError for values that are not JSON (functions, class instances, top-level undefined)
 */
export function canonicalize(value: unknown): Uint8Array {
  const out: string[] = [];
  writeCanonical(value, out, 0);
  return encodeUtf8(out.join(''));
}

function writeCanonical(v: unknown, out: string[], depth: number): void {
  if (depth > MAX_DEPTH) throw new DeserializationError(`canonical JSON: exceeded max depth ${MAX_DEPTH}`);
  switch (typeof v) {
    case 'string':
      out.push(canonicalString(v));
      return;
    case 'number':
      out.push(canonicalNumber(v));
      return;
    case 'bigint':
      out.push(v.toString());
      return;
    case 'boolean':
      out.push(v ? 'true' : 'false');
      return;
    case 'object':
      break;
    default:
      throw new TypeError(`canonical JSON: unsupported value of type ${typeof v}`);
  }
  if (v === null) {
    out.push('null');
    return;
  }
  if (Array.isArray(v)) {
    out.push('[');
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out.push(',');
      const item: unknown = v[i];
      if (item === undefined) throw new TypeError('canonical JSON: undefined array element');
      writeCanonical(item, out, depth + 1);
    }
    out.push(']');
    return;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) {
    throw new TypeError(`canonical JSON: unsupported object ${Object.prototype.toString.call(v)}`);
  }
  const record = v as Record<string, unknown>;
  const names = Object.keys(record);
  if (names.some((k) => SURROGATE.test(k))) {
    writeCanonicalSurrogateKeys(record, names, out, depth);
    return;
  }
  // Without surrogates, UTF-16 order (the default sort) is code point order. This is the hot
  // path of verifying a large targets file: no Map, no comparator, no closure per key.
  names.sort();
  out.push('{');
  let first = true;
  for (const key of names) {
    const value = record[key];
    if (value === undefined) continue;
    out.push(first ? canonicalString(key) + ':' : ',' + canonicalString(key) + ':');
    first = false;
    writeCanonical(value, out, depth + 1);
  }
  out.push('}');
}

const SURROGATE = /[\uD800-\uDFFF]/;

/** An object with a key holding a surrogate: keys as Go holds them, then code point order. */
function writeCanonicalSurrogateKeys(record: Record<string, unknown>, names: readonly string[], out: string[], depth: number): void {
  // Keys as Go would hold them: lone surrogates decode to U+FFFD; a later key that collides
  // after that replacement overwrites an earlier one, as in a Go map.
  const byKey = new Map<string, unknown>();
  for (const key of names) {
    const value = record[key];
    if (value === undefined) continue;
    byKey.set(key.toWellFormed(), value);
  }
  const keys = [...byKey.keys()].sort(compareCodePoints);
  out.push('{');
  keys.forEach((key, i) => {
    if (i > 0) out.push(',');
    out.push(canonicalString(key), ':');
    writeCanonical(byKey.get(key), out, depth + 1);
  });
  out.push('}');
}

const NEEDS_ESCAPE = /["\\]/;

function canonicalString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? '"' + s.replace(/["\\]/g, (c) => '\\' + c) + '"' : '"' + s + '"';
}

const TWO_63 = 2 ** 63;

function canonicalNumber(n: number): string {
  if (!Number.isFinite(n) || !Number.isInteger(n)) {
    throw new DeserializationError(`json: unsupported value: ${String(n)}`);
  }
  // Go writes int64(f); on amd64 an out-of-range conversion yields the minimum int64.
  if (n >= TWO_63 || n < -TWO_63) return '-9223372036854775808';
  return Number.isSafeInteger(n) ? String(n) : BigInt(n).toString(); // String(-0) is '0' too
}

/**
 * Order of strings by Unicode code point, which equals the byte order of their UTF-8 forms
 * (Go's `<` on strings). JavaScript's default sort compares UTF-16 code units instead, which
 * puts U+E000…U+FFFF after supplementary characters.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    const sa = ca >= 0xd800 && ca <= 0xdfff;
    const sb = cb >= 0xd800 && cb <= 0xdfff;
    if (sa !== sb) return sa ? 1 : -1; // a surrogate (≥ U+10000) sorts after any BMP unit
    return ca - cb;
  }
  return a.length - b.length;
}

/**
 * Go encoding/json's escaping of embedded raw JSON: `<` `>` `&` become `\u003c` `\u003e`
 * `\u0026`, U+2028 and U+2029 become `\u2028` `\u2029`. Returns the input when nothing changes.
 */
export function htmlEscape(jsonText: Uint8Array): Uint8Array {
  let extra = 0;
  for (let i = 0; i < jsonText.length; i++) {
    const c = jsonText[i];
    if (c === 0x3c || c === 0x3e || c === 0x26) extra += 5;
    else if (c === 0xe2 && isLineSep(jsonText, i)) extra += 3;
  }
  if (extra === 0) return jsonText;
  const out = new Uint8Array(jsonText.length + extra);
  let o = 0;
  for (let i = 0; i < jsonText.length; i++) {
    const c = jsonText[i] ?? 0;
    if (c === 0x3c || c === 0x3e || c === 0x26) {
      o = writeAscii(out, o, c === 0x3c ? '\\u003c' : c === 0x3e ? '\\u003e' : '\\u0026');
    } else if (c === 0xe2 && isLineSep(jsonText, i)) {
      o = writeAscii(out, o, jsonText[i + 2] === 0xa8 ? '\\u2028' : '\\u2029');
      i += 2;
    } else {
      out[o++] = c;
    }
  }
  return out;
}

function isLineSep(b: Uint8Array, i: number): boolean {
  const c2 = b[i + 2];
  return b[i + 1] === 0x80 && (c2 === 0xa8 || c2 === 0xa9);
}

function writeAscii(out: Uint8Array, o: number, s: string): number {
  for (let k = 0; k < s.length; k++) out[o++] = s.charCodeAt(k);
  return o;
}

/** A signature as the envelope writes it (structurally the crypto module's `SignatureEntry`). */
export interface EnvelopeSignature {
  readonly keyid: string;
  readonly method: string;
  readonly sig: Uint8Array;
}

const HEX = '0123456789abcdef';

/**
 * A string as Go's (non-canonical) encoding/json writes it: `"` `\` escaped, `\n` `\r` `\t`
 * short escapes, other control characters and `<` `>` `&` as `\u00XX`, U+2028/2029 escaped,
 * invalid UTF-16 (lone surrogates) as `\ufffd`.
 */
export function goJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) out += '\\' + s[i];
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26) out += '\\u00' + HEX[c >> 4] + HEX[c & 15];
    else if (c === 0x2028 || c === 0x2029) out += '\\u' + c.toString(16);
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && isLow(s.charCodeAt(i + 1))) {
      out += s[i]! + s[i + 1]!;
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd';
    else out += s[i];
  }
  return out + '"';
}

function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/**
 * The metadata file layout (spec §1.2), byte-identical to Go's `json.Marshal` of notary's
 * `Signed` struct: `{"signed":<compacted, HTML-escaped signed>,"signatures":[{"keyid":…,
 * "method":…,"sig":<base64>}]}`. `signatures: null` writes `null` as Go does for a nil slice.
 * @throws DeserializationError when `signed` holds a raw control character inside a string:
 *   Go's encoder refuses such a document (spec §13.3), so it can never be published
 */
export function encodeEnvelope(signedCanonical: Uint8Array, signatures: readonly EnvelopeSignature[] | null): Uint8Array {
  const signed = htmlEscape(compact(signedCanonical));
  const sigs =
    signatures === null
      ? 'null'
      : '[' +
        signatures
          .map((s) => `{"keyid":${goJsonString(s.keyid)},"method":${goJsonString(s.method)},"sig":"${toBase64(s.sig)}"}`)
          .join(',') +
        ']';
  const head = encodeUtf8('{"signed":');
  const tail = encodeUtf8(`,"signatures":${sigs}}`);
  const out = new Uint8Array(head.length + signed.length + tail.length);
  out.set(head, 0);
  out.set(signed, head.length);
  out.set(tail, head.length + signed.length);
  return out;
}

/**
 * Go's `compact` as applied to embedded raw JSON: drops insignificant whitespace and refuses
 * control characters inside strings. Canonical input has no whitespace, so usually a no-op.
 */
function compact(b: Uint8Array): Uint8Array {
  let inString = false;
  let needsCopy = false;
  for (let i = 0; i < b.length; i++) {
    const c = b[i] ?? 0;
    if (inString) {
      if (c < 0x20) throw new DeserializationError('json: invalid control character in string of signed data');
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) needsCopy = true;
  }
  if (!needsCopy) return b;
  const out: number[] = [];
  inString = false;
  for (let i = 0; i < b.length; i++) {
    const c = b[i] ?? 0;
    if (inString) {
      out.push(c);
      if (c === 0x5c) out.push(b[++i] ?? 0);
      else if (c === 0x22) inString = false;
    } else if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
    else {
      if (c === 0x22) inString = true;
      out.push(c);
    }
  }
  return Uint8Array.from(out);
}
