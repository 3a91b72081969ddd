/**
 * PEM decoding and encoding with the behaviour of Go's encoding/pem, which notary uses for
 * certificate chains in `*-x509` keys and for `PUBLIC KEY` blocks.
 *
 * Decoding follows `pem.Decode`: a block starts at the beginning of the data or after a newline,
 * may carry `Key: value` headers, must end with the matching END line, and a block that looks
 * like PEM but is broken is skipped (the search restarts after its BEGIN line). Text is handled
 * as latin1 so every byte maps to one character.
 */
import { fromBase64 } from '../canonical/index.ts';

export interface PemBlock {
  readonly type: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly bytes: Uint8Array;
}

const BEGIN = '-----BEGIN ';
const END = '\n-----END ';
const EOL = '-----';

function getLine(data: string): [string, string] {
  const i = data.indexOf('\n');
  const line = i < 0 ? data : data.slice(0, i);
  const rest = i < 0 ? '' : data.slice(i + 1);
  return [line.replace(/[ \t\r]+$/, ''), rest];
}

/** Go's `pem.Decode`: the first block and the rest, or null when there is none. */
export function pemDecode(data: string): [PemBlock | null, string] {
  let rest: string;
  if (data.startsWith(BEGIN)) rest = data.slice(BEGIN.length);
  else {
    const i = data.indexOf('\n' + BEGIN);
    if (i < 0) return [null, data];
    rest = data.slice(i + 1 + BEGIN.length);
  }
  const [typeLineFull, afterType] = getLine(rest);
  if (!typeLineFull.endsWith(EOL)) return retry(data, afterType);
  const type = typeLineFull.slice(0, -EOL.length);
  rest = afterType;

  const headers: Record<string, string> = {};
  for (;;) {
    if (rest.length === 0) return [null, data];
    const [line, next] = getLine(rest);
    const colon = line.indexOf(':');
    if (colon < 0) break;
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
    rest = next;
  }

  let endIndex: number;
  let endTrailerIndex: number;
  if (Object.keys(headers).length === 0 && rest.startsWith(END.slice(1))) {
    endIndex = 0;
    endTrailerIndex = END.length - 1;
  } else {
    endIndex = rest.indexOf(END);
    endTrailerIndex = endIndex + END.length;
  }
  if (endIndex < 0) return retry(data, rest);
  const endTrailerAll = rest.slice(endTrailerIndex);
  const trailerLen = type.length + EOL.length;
  if (endTrailerAll.length < trailerLen) return retry(data, rest);
  if (endTrailerAll.slice(0, trailerLen) !== type + EOL) return retry(data, rest);
  if (getLine(endTrailerAll.slice(trailerLen))[0].length !== 0) return retry(data, rest);

  let bytes: Uint8Array;
  try {
    bytes = fromBase64(rest.slice(0, endIndex).replace(/[ \t]/g, ''));
  } catch {
    return retry(data, rest);
  }
  const [, after] = getLine(rest.slice(endIndex + END.length - 1));
  return [{ type, headers, bytes }, after];
}

function retry(data: string, rest: string): [PemBlock | null, string] {
  const [block, next] = pemDecode(rest);
  return block === null ? [null, data] : [block, next];
}

/** Every block in order, as repeated `pem.Decode` calls find them. */
export function pemDecodeAll(data: string): PemBlock[] {
  const out: PemBlock[] = [];
  let rest = data;
  for (;;) {
    const [block, next] = pemDecode(rest);
    if (block === null) return out;
    out.push(block);
    rest = next;
  }
}

/** Go's `pem.EncodeToMemory` without headers: 64-column base64, trailing newline. */
export function pemEncode(type: string, bytes: Uint8Array): string {
  const b64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let body = '';
  for (let i = 0; i < b64.length; i += 64) body += b64.slice(i, i + 64) + '\n';
  return `-----BEGIN ${type}-----\n${body}-----END ${type}-----\n`;
}

/** Bytes (a TUF key's `public`) as the latin1 text PEM functions take. */
export function bytesToText(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}
