/**
 * The publish upload (spec §6.1): read the request body with a size limit, then split it as
 * Go's `mime/multipart` reader does, and name each part with Go's `mime.ParseMediaType` of its
 * Content-Disposition.
 *
 * Behaviour kept from Go: `multipart/form-data` and `multipart/mixed` are both accepted (Go's
 * `Request.MultipartReader` allows mixed); a preamble before the first boundary is skipped;
 * LF-only line endings are accepted when the first boundary line uses them; whitespace after a
 * boundary is allowed; an empty body part may follow its headers directly; the epilogue after
 * the closing boundary is ignored.
 *
 * Deliberate differences: the body is buffered (bounded by the limit) rather than streamed part
 * by part; a body that ends before the closing boundary is reported as `MultipartError` (Go's
 * handler dereferences a nil part and drops the connection); quoted-printable part encoding is
 * not decoded (no notary or docker client sends it).
 *
 * Example:
 *   const boundary = multipartBoundary(req.headers['content-type']);   // null → MALFORMED_UPLOAD
 *   const body = await readBodyLimited(req.raw, limit, contentLength);
 *   for (const part of splitMultipart(body, boundary)) partFileName(part)
 */

/** The body is not usable multipart. */
export class MultipartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * A part whose body ends without a closing boundary. Its headers were read, so the caller can
 * still check the part's filename first, as notary does before it decodes the part.
 */
export class TruncatedPartError extends MultipartError {
  readonly headers: ReadonlyMap<string, string>;
  constructor(headers: ReadonlyMap<string, string>) {
    super('multipart: unexpected EOF in part body');
    this.headers = headers;
  }
}

/** The body exceeds the configured limit. */
export class BodyTooLargeError extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`request body exceeds ${limit} bytes`);
    this.name = new.target.name;
    this.limit = limit;
  }
}

export interface MultipartPart {
  /** Header values by lowercased name (first occurrence, as Go's Header.Get). */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
}

/**
 * Read a body into memory, refusing more than `limit` bytes (checked against Content-Length up
 * front when given, and while reading).
 * @throws BodyTooLargeError
 */
export async function readBodyLimited(stream: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, limit: number, contentLength?: number): Promise<Buffer> {
  if (contentLength !== undefined && contentLength > limit) throw new BodyTooLargeError(limit);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.length;
    if (total > limit) throw new BodyTooLargeError(limit);
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
  }
  return Buffer.concat(chunks, total);
}

const TSPECIALS = '()<>@,;:\\"/[]?=';

function isTokenChar(c: string): boolean {
  const code = c.charCodeAt(0);
  return code > 0x20 && code < 0x7f && !TSPECIALS.includes(c);
}

function consumeToken(v: string): [string, string] {
  let i = 0;
  while (i < v.length && isTokenChar(v[i]!)) i++;
  return [v.slice(0, i), v.slice(i)];
}

function consumeValue(v: string): [string, string] {
  if (v === '') return ['', v];
  if (v[0] !== '"') return consumeToken(v);
  let out = '';
  for (let i = 1; i < v.length; i++) {
    const c = v[i]!;
    if (c === '"') return [out, v.slice(i + 1)];
    if (c === '\\' && i + 1 < v.length && TSPECIALS.includes(v[i + 1]!)) {
      out += v[i + 1]!;
      i++;
    } else if (c === '\r' || c === '\n') return ['', v];
    else out += c;
  }
  return ['', v];
}

function decode2231(value: string): string | null {
  const m = /^([^']*)'[^']*'(.*)$/.exec(value);
  if (m === null) return null;
  const charset = m[1]!.toLowerCase();
  if (charset !== 'utf-8' && charset !== 'us-ascii') return null;
  try {
    return decodeURIComponent(m[2]!);
  } catch {
    return null;
  }
}

/**
 * Go's `mime.ParseMediaType`: lowercased media type and parameters (RFC 2231 `name*=` values
 * and `name*0`, `name*1`… continuations decoded). Returns null where Go returns an error.
 */
export function parseMediaType(v: string): { mediaType: string; params: Map<string, string> } | null {
  const semi = v.indexOf(';');
  const mediaType = (semi < 0 ? v : v.slice(0, semi)).trim().toLowerCase();
  const [major, afterMajor] = consumeToken(mediaType);
  if (major === '') return null;
  if (afterMajor !== '') {
    if (!afterMajor.startsWith('/')) return null;
    const [minor, rest] = consumeToken(afterMajor.slice(1));
    if (minor === '' || rest !== '') return null;
  }
  const raw = new Map<string, string>();
  let rest = semi < 0 ? '' : v.slice(semi);
  for (;;) {
    rest = rest.trimStart();
    if (rest === '') break;
    if (!rest.startsWith(';')) return null;
    let r = rest.slice(1).trimStart();
    const [key, afterKey] = consumeToken(r);
    r = afterKey.trimStart();
    if (key === '' || !r.startsWith('=')) {
      if (rest.trim() === ';') break;
      return null;
    }
    const [value, afterValue] = consumeValue(r.slice(1).trimStart());
    if (value === '' && afterValue === r.slice(1).trimStart()) return null;
    const k = key.toLowerCase();
    if (raw.has(k)) return null;
    raw.set(k, value);
    rest = afterValue;
  }
  const params = new Map<string, string>();
  const continuations = new Map<string, Map<number, { value: string; encoded: boolean }>>();
  for (const [k, value] of raw) {
    const m = /^(.*?)\*(?:(\d+)(\*)?)?$/.exec(k);
    if (m === null) {
      params.set(k, value);
      continue;
    }
    const base = m[1]!;
    if (m[2] === undefined) {
      const d = decode2231(value);
      if (d !== null) params.set(base, d);
      continue;
    }
    let parts = continuations.get(base);
    if (parts === undefined) continuations.set(base, (parts = new Map()));
    parts.set(Number(m[2]), { value, encoded: m[3] === '*' });
  }
  for (const [base, parts] of continuations) {
    if (params.has(base)) continue;
    let joined = '';
    for (let n = 0; parts.has(n); n++) {
      const p = parts.get(n)!;
      if (!p.encoded) joined += p.value;
      else if (n === 0) {
        const d = decode2231(p.value);
        if (d === null) break;
        joined += d;
      } else {
        try {
          joined += decodeURIComponent(p.value);
        } catch {
          break;
        }
      }
    }
    if (parts.has(0)) params.set(base, joined);
  }
  return { mediaType, params };
}

/** The boundary of a multipart request body, or null (→ MALFORMED_UPLOAD). */
export function multipartBoundary(contentType: string | undefined): string | null {
  if (contentType === undefined || contentType === '') return null;
  const parsed = parseMediaType(contentType);
  if (parsed === null || (parsed.mediaType !== 'multipart/form-data' && parsed.mediaType !== 'multipart/mixed')) return null;
  const boundary = parsed.params.get('boundary');
  return boundary === undefined || boundary === '' ? null : boundary;
}

/** The part's filename as notary's `partFileName` reads it ("" when absent or unparsable). */
export function partFileName(part: MultipartPart): string {
  const cd = part.headers.get('content-disposition');
  if (cd === undefined) return '';
  return parseMediaType(cd)?.params.get('filename') ?? '';
}

function isLwsp(b: number | undefined): boolean {
  return b === 0x20 || b === 0x09;
}

/**
 * Split a complete multipart body into parts, lazily and in order (so callers can reject the
 * first bad part before looking further, as notary does).
 * @throws MultipartError when the body is not well-formed or ends before the closing boundary
 */
export function* splitMultipart(body: Buffer, boundary: string): Generator<MultipartPart> {
  const dash = Buffer.from(`--${boundary}`);
  let nl = Buffer.from('\r\n');
  let pos = 0;
  let partsRead = 0;

  /** One line including its `\n`, or the rest of the body. */
  const readLine = (): Buffer | null => {
    if (pos >= body.length) return null;
    const end = body.indexOf(0x0a, pos);
    const stop = end < 0 ? body.length : end + 1;
    const line = body.subarray(pos, stop);
    pos = stop;
    return line;
  };
  const afterLwsp = (line: Buffer, from: number): Buffer => {
    let i = from;
    while (isLwsp(line[i])) i++;
    return line.subarray(i);
  };
  const isDelimiter = (line: Buffer): boolean => {
    if (!line.subarray(0, dash.length).equals(dash)) return false;
    const rest = afterLwsp(line, dash.length);
    if (partsRead === 0 && rest.length === 1 && rest[0] === 0x0a) nl = Buffer.from('\n');
    return rest.equals(nl);
  };
  const isFinal = (line: Buffer): boolean => {
    if (!line.subarray(0, dash.length + 2).equals(Buffer.concat([dash, Buffer.from('--')]))) return false;
    const rest = afterLwsp(line, dash.length + 2);
    return rest.length === 0 || rest.equals(nl);
  };

  for (;;) {
    let expectNewPart = false;
    for (;;) {
      const line = readLine();
      if (line === null) throw new MultipartError('multipart: NextPart: EOF');
      if (isDelimiter(line)) break;
      if (isFinal(line)) return;
      if (expectNewPart) throw new MultipartError(`multipart: expecting a new Part; got line ${JSON.stringify(line.toString('latin1'))}`);
      if (partsRead === 0) continue;
      if (line.equals(nl)) {
        expectNewPart = true;
        continue;
      }
      throw new MultipartError(`multipart: unexpected line in Next(): ${JSON.stringify(line.toString('latin1'))}`);
    }
    partsRead++;
    const headers = readHeaders(readLine);
    // The body runs to the next "<nl>--boundary" followed by "--", LWSP or a newline; a body
    // may also be empty with the boundary right after the headers.
    const start = pos;
    let end = -1;
    if (body.subarray(start, start + dash.length).equals(dash) && boundaryFollows(body, start + dash.length)) {
      end = start;
    } else {
      const needle = Buffer.concat([nl, dash]);
      let from = start;
      for (;;) {
        const i = body.indexOf(needle, from);
        if (i < 0) break;
        if (boundaryFollows(body, i + needle.length)) {
          end = i;
          break;
        }
        from = i + 1;
      }
      if (end < 0) throw new TruncatedPartError(headers);
    }
    pos = end;
    yield { headers, body: body.subarray(start, end) };
  }
}

function boundaryFollows(body: Buffer, at: number): boolean {
  if (at >= body.length) return false;
  const c = body[at];
  if (c === 0x2d) return body[at + 1] === 0x2d;
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

/** textproto.ReadMIMEHeader: `Key: value` lines (with continuations) up to a blank line. */
function readHeaders(readLine: () => Buffer | null): Map<string, string> {
  const headers = new Map<string, string>();
  let continuing: string | undefined;
  let first = true;
  for (;;) {
    const raw = readLine();
    if (raw === null) throw new MultipartError('multipart: unexpected EOF in part headers');
    const line = raw.toString('utf8').replace(/\r?\n$/, '');
    if (line === '') return headers;
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (first) throw new MultipartError(`malformed MIME header initial line: ${line}`);
      if (continuing !== undefined) headers.set(continuing, `${headers.get(continuing)!} ${line.trim()}`);
      continue;
    }
    first = false;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new MultipartError(`malformed MIME header line: ${line}`);
    const key = line.slice(0, colon).trim().toLowerCase();
    if (headers.has(key)) {
      continuing = undefined;
    } else {
      headers.set(key, line.slice(colon + 1).trim());
      continuing = key;
    }
  }
}
