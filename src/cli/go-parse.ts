/**
 * Go's parsers that notary applies to command-line values, with their error texts:
 * `strconv.ParseInt(s, 0, 64)` (base prefixes `0x`, `0o`, `0b`, a leading `0` for octal,
 * underscores between digits) and `hex.DecodeString`.
 *
 * @example
 *   parseGoInt64('0x10') // 16
 *   decodeGoHex('zz')    // throws `encoding/hex: invalid byte: U+007A 'z'`
 */

const MAX_INT64 = (1n << 63n) - 1n;

function syntaxError(s: string): Error {
  return new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`);
}

/** Go's underscoreOK for base-prefixed literals: `_` only between digits (or after the prefix). */
function underscoresOk(body: string, prefixed: boolean): boolean {
  let prev = prefixed ? '0' : '!';
  for (const c of body) {
    if (c === '_') {
      if (prev !== '0') return false;
      prev = '_';
    } else {
      prev = '0';
    }
  }
  return prev !== '_';
}

/**
 * `strconv.ParseInt(s, 0, 64)`. Returns a number (exact up to 2^53; larger sizes lose precision,
 * which no target length reaches).
 * @throws Error with Go's text
 */
export function parseGoInt64(s: string): number {
  let body = s;
  let neg = false;
  if (body.startsWith('+') || body.startsWith('-')) {
    neg = body[0] === '-';
    body = body.slice(1);
  }
  let base = 10;
  let prefixed = false;
  if (/^0[xX]/.test(body)) {
    base = 16;
    body = body.slice(2);
    prefixed = true;
  } else if (/^0[oO]/.test(body)) {
    base = 8;
    body = body.slice(2);
    prefixed = true;
  } else if (/^0[bB]/.test(body)) {
    base = 2;
    body = body.slice(2);
    prefixed = true;
  } else if (body.length > 1 && body.startsWith('0')) {
    base = 8;
    body = body.slice(1);
    prefixed = true;
  }
  if (body === '' || !underscoresOk(body, prefixed)) throw syntaxError(s);
  const digits = body.replace(/_/g, '');
  if (digits === '') throw syntaxError(s);
  let v = 0n;
  for (const c of digits.toLowerCase()) {
    const d = Number.parseInt(c, 36);
    if (Number.isNaN(d) || d >= base) throw syntaxError(s);
    v = v * BigInt(base) + BigInt(d);
  }
  if (neg) v = -v;
  if (v > MAX_INT64 || v < -MAX_INT64 - 1n) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: value out of range`);
  return Number(v);
}

/** Go's `%#U`: `U+0078 'x'`. */
function goRune(c: string): string {
  const cp = c.codePointAt(0) ?? 0;
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')} '${c}'`;
}

/** `hex.DecodeString`. @throws Error with Go's text */
export function decodeGoHex(s: string): Uint8Array {
  for (const c of s) {
    if (!/[0-9a-fA-F]/.test(c)) throw new Error(`encoding/hex: invalid byte: ${goRune(c)}`);
  }
  if (s.length % 2 !== 0) throw new Error('encoding/hex: odd length hex string');
  return new Uint8Array(Buffer.from(s, 'hex'));
}
