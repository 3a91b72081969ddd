/**
 * Go-compatible text encodings used on the wire by notary-server: `encoding/json`'s string and
 * value encoding (HTML-safe escaping) and `strconv.Quote`. Responses that notary builds with
 * `json.Marshal` or `fmt.Sprintf("%q")` must come out byte-identical, so these helpers exist
 * instead of `JSON.stringify`.
 *
 * Not handled: Go's replacement of invalid UTF-8 (JS strings are UTF-16; lone surrogates become
 * U+FFFD as Go would write them).
 *
 * Example: goJsonMarshal({ a: '<x>' }) === '{"a":"\u003cx\u003e"}'
 */

const HEX = '0123456789abcdef';

/** A string as Go's `encoding/json` writes it (HTML escaping on, as `json.Marshal` does). */
export function goJsonQuote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26) out += '\\u00' + HEX[c >> 4]! + HEX[c & 15]!;
    else if (c === 0x2028 || c === 0x2029) out += '\\u' + c.toString(16);
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && isLowSurrogate(s.charCodeAt(i + 1))) {
      out += s[i]! + s[i + 1]!;
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd';
    else out += s[i]!;
  }
  return out + '"';
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/**
 * A JSON value as Go's `json.Marshal` writes it for maps/structs with the same field order:
 * object keys in insertion order (callers build objects in Go's struct-field order), no
 * whitespace, HTML-safe strings. `undefined` object members are skipped (omitempty).
 */
export function goJsonMarshal(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return goJsonQuote(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`json: unsupported value: ${value}`);
    return JSON.stringify(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return '[' + value.map((v) => goJsonMarshal(v)).join(',') + ']';
  if (typeof value === 'object') {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === undefined) continue;
      parts.push(goJsonQuote(k) + ':' + goJsonMarshal(v));
    }
    return '{' + parts.join(',') + '}';
  }
  throw new TypeError(`json: unsupported type: ${typeof value}`);
}

/**
 * Go's `strconv.Quote` for the strings that reach it here (query parameters, realms): printable
 * characters kept, `"` and `\` escaped, `\a\b\f\n\r\t\v` short escapes, other control
 * characters as `\x..`, DEL and C1 controls as `\x..`/`\u....`.
 */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (c) {
      case 0x07: out += '\\a'; continue;
      case 0x08: out += '\\b'; continue;
      case 0x0c: out += '\\f'; continue;
      case 0x0a: out += '\\n'; continue;
      case 0x0d: out += '\\r'; continue;
      case 0x09: out += '\\t'; continue;
      case 0x0b: out += '\\v'; continue;
      case 0x22: out += '\\"'; continue;
      case 0x5c: out += '\\\\'; continue;
    }
    if (c < 0x20 || c === 0x7f) out += '\\x' + HEX[c >> 4]! + HEX[c & 15]!;
    else if (c >= 0x80 && c < 0xa0) out += '\\u00' + HEX[c >> 4]! + HEX[c & 15]!;
    else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd';
    else out += ch;
  }
  return out + '"';
}
