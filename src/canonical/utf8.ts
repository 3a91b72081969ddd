/**
 * UTF-8 decoding as Go's encoding/json does it.
 *
 * Go's JSON decoder accepts invalid UTF-8 inside strings and replaces every byte that does not
 * start a valid sequence with U+FFFD, one replacement per byte (`utf8.DecodeRune` returning size
 * 1). The WHATWG decoder behind `TextDecoder` replaces a maximal invalid subpart with a single
 * U+FFFD instead, so the two disagree on inputs like `F0 90 80 41`. Valid input (the normal case)
 * takes the fast path through `TextDecoder`.
 */

const fatalDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decode bytes to a string, replacing invalid sequences byte by byte as Go does. */
export function decodeUtf8GoStyle(bytes: Uint8Array): string {
  try {
    return fatalDecoder.decode(bytes);
  } catch {
    return slowDecode(bytes);
  }
}

function slowDecode(b: Uint8Array): string {
  const parts: string[] = [];
  let i = 0;
  while (i < b.length) {
    const [cp, size] = decodeRune(b, i);
    parts.push(String.fromCodePoint(cp));
    i += size;
  }
  return parts.join('');
}

/** Go's utf8.DecodeRune: returns [U+FFFD, 1] for anything that is not a valid, shortest encoding. */
function decodeRune(b: Uint8Array, i: number): [number, number] {
  const c0 = b[i] ?? 0;
  if (c0 < 0x80) return [c0, 1];
  const bad: [number, number] = [0xfffd, 1];
  const cont = (j: number, lo = 0x80, hi = 0xbf): number | undefined => {
    const c = b[i + j];
    return c !== undefined && c >= lo && c <= hi ? c & 0x3f : undefined;
  };
  if (c0 >= 0xc2 && c0 <= 0xdf) {
    const c1 = cont(1);
    return c1 === undefined ? bad : [((c0 & 0x1f) << 6) | c1, 2];
  }
  if (c0 >= 0xe0 && c0 <= 0xef) {
    const c1 = cont(1, c0 === 0xe0 ? 0xa0 : 0x80, c0 === 0xed ? 0x9f : 0xbf);
    const c2 = c1 === undefined ? undefined : cont(2);
    return c1 === undefined || c2 === undefined ? bad : [((c0 & 0x0f) << 12) | (c1 << 6) | c2, 3];
  }
  if (c0 >= 0xf0 && c0 <= 0xf4) {
    const c1 = cont(1, c0 === 0xf0 ? 0x90 : 0x80, c0 === 0xf4 ? 0x8f : 0xbf);
    const c2 = c1 === undefined ? undefined : cont(2);
    const c3 = c2 === undefined ? undefined : cont(3);
    if (c1 === undefined || c2 === undefined || c3 === undefined) return bad;
    return [((c0 & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3, 4];
  }
  return bad;
}

const encoder = new TextEncoder();

/** UTF-8 encode; lone surrogates become U+FFFD (what Go's decoder turns them into anyway). */
export function encodeUtf8(s: string): Uint8Array {
  return encoder.encode(s);
}
