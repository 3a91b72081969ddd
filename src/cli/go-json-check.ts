/**
 * The syntax errors of Go's encoding/json (its scanner's texts), for messages notary builds from
 * them: a `--custom` file that is not JSON (`json: error calling MarshalJSON for type
 * *json.RawMessage: invalid character 'b' looking for beginning of object key string`) and a
 * config file that does not parse (`While parsing config: …`).
 *
 * A byte-level state machine over the input, as Go's scanner: it only validates, it builds
 * nothing. Returns null for valid JSON.
 *
 * @example
 *   goJsonSyntaxError(Buffer.from('{bad'))  // "invalid character 'b' looking for beginning of object key string"
 *   goJsonSyntaxError(Buffer.from(''))      // 'unexpected end of JSON input'
 */

type Frame = 'objectKey' | 'objectValue' | 'array';

/** Go's quoteChar: `'x'`, `'\''`, `'"'`, control characters escaped as strconv.Quote does. */
function quoteChar(c: number): string {
  if (c === 0x27) return `'\\''`;
  if (c === 0x22) return `'"'`;
  const ch = String.fromCodePoint(c);
  const short: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 0x5c: '\\\\' };
  if (short[c] !== undefined) return `'${short[c]}'`;
  if (c < 0x20 || c === 0x7f) return `'\\x${c.toString(16).padStart(2, '0')}'`;
  if (c >= 0x80 && c < 0xa0) return `'\\u00${c.toString(16).padStart(2, '0')}'`;
  return `'${ch}'`;
}

class SyntaxError extends Error {}

function fail(c: number, context: string): never {
  throw new SyntaxError(`invalid character ${quoteChar(c)} ${context}`);
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

/** Go's error text for `data`, or null when it is one valid JSON value. */
export function goJsonSyntaxError(data: Uint8Array): string | null {
  const stack: Frame[] = [];
  let i = 0;
  const n = data.length;
  // where white space may come, the end of input is "unexpected end"
  const at = (): number => {
    if (i >= n) throw new SyntaxError('unexpected end of JSON input');
    return data[i] as number;
  };
  // inside a token Go feeds a space at the end of input, so the error names that space
  const tok = (): number => (i >= n ? 0x20 : (data[i] as number));
  const skipSpace = (): void => {
    while (i < n && isSpace(data[i] as number)) i++;
  };
  const literal = (word: string): void => {
    for (let k = 1; k < word.length; k++) {
      i++;
      const c = tok();
      if (c !== word.charCodeAt(k)) fail(c, `in literal ${word} (expecting '${word[k]}')`);
    }
    i++;
  };
  const number = (): void => {
    if (tok() === 0x2d) {
      i++;
      if (!isDigit(tok())) fail(tok(), 'in numeric literal');
    }
    if (tok() === 0x30) i++;
    else while (i < n && isDigit(data[i] as number)) i++;
    if (i < n && data[i] === 0x2e) {
      i++;
      if (!isDigit(tok())) fail(tok(), 'after decimal point in numeric literal');
      while (i < n && isDigit(data[i] as number)) i++;
    }
    if (i < n && (data[i] === 0x65 || data[i] === 0x45)) {
      i++;
      if (tok() === 0x2b || tok() === 0x2d) i++;
      if (!isDigit(tok())) fail(tok(), 'in exponent of numeric literal');
      while (i < n && isDigit(data[i] as number)) i++;
    }
  };
  const string = (): void => {
    i++; // opening quote
    for (;;) {
      const c = at();
      if (c === 0x22) {
        i++;
        return;
      }
      if (c === 0x5c) {
        i++;
        const e = tok();
        if (e === 0x75) {
          for (let k = 0; k < 4; k++) {
            i++;
            if (!isHex(tok())) fail(tok(), 'in \\u hexadecimal character escape');
          }
        } else if (![0x62, 0x66, 0x6e, 0x72, 0x74, 0x5c, 0x2f, 0x22].includes(e)) fail(e, 'in string escape code');
        i++;
        continue;
      }
      if (c < 0x20) fail(c, 'in string literal');
      i++;
    }
  };
  /** A value starting at i (spaces skipped); containers push a frame and return. */
  const beginValue = (): void => {
    skipSpace();
    const c = at();
    if (c === 0x7b) {
      i++;
      skipSpace();
      if (at() === 0x7d) {
        i++;
        endValue();
        return;
      }
      stack.push('objectKey');
      beginKey();
      return;
    }
    if (c === 0x5b) {
      i++;
      skipSpace();
      if (at() === 0x5d) {
        i++;
        endValue();
        return;
      }
      stack.push('array');
      beginValue();
      return;
    }
    if (c === 0x22) string();
    else if (c === 0x2d || isDigit(c)) number();
    else if (c === 0x74) literal('true');
    else if (c === 0x66) literal('false');
    else if (c === 0x6e) literal('null');
    else fail(c, 'looking for beginning of value');
    endValue();
  };
  const beginKey = (): void => {
    skipSpace();
    const c = at();
    if (c !== 0x22) fail(c, 'looking for beginning of object key string');
    string();
    endValue();
  };
  // after a value: what the innermost container expects next (loop, not recursion, for depth)
  let pending: (() => void) | null = null;
  const endValue = (): void => {
    pending = () => {
      skipSpace();
      const top = stack[stack.length - 1];
      if (top === undefined) {
        if (i < n) fail(data[i] as number, 'after top-level value');
        return;
      }
      const c = at();
      if (top === 'objectKey') {
        if (c !== 0x3a) fail(c, 'after object key');
        i++;
        stack[stack.length - 1] = 'objectValue';
        beginValue();
      } else if (top === 'objectValue') {
        if (c === 0x2c) {
          i++;
          stack[stack.length - 1] = 'objectKey';
          beginKey();
        } else if (c === 0x7d) {
          i++;
          stack.pop();
          endValue();
        } else fail(c, 'after object key:value pair');
      } else if (c === 0x2c) {
        i++;
        beginValue();
      } else if (c === 0x5d) {
        i++;
        stack.pop();
        endValue();
      } else fail(c, 'after array element');
    };
  };
  try {
    beginValue();
    while (pending !== null) {
      const step: () => void = pending;
      pending = null;
      step();
    }
    return null;
  } catch (err) {
    if (err instanceof SyntaxError) return err.message;
    throw err;
  }
}
