/**
 * URL path handling as notary-server's router (gorilla/mux on Go's net/http) does it:
 * - `decodeGoPath`: Go's `url.PathUnescape`-style decoding of the request path (`%2F` becomes
 *   `/`, so GUNs are matched on decoded text); a bad escape is an error (Go answers a plain
 *   `400 Bad Request` before any handler runs);
 * - `cleanGoPath`: Go's `path.Clean`; `muxCleanPath` keeps a trailing slash as mux does;
 * - `escapeGoPath`: how Go re-escapes a cleaned path for the `Location` of the 301 redirect.
 *
 * Example: muxCleanPath('/v2/foo//_trust/tuf/') === '/v2/foo/_trust/tuf/'
 */

/** Decode %XX escapes (bytes, then UTF-8). Returns null for a malformed escape. */
export function decodeGoPath(raw: string): string | null {
  if (!raw.includes('%')) return raw;
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25) {
      const hex = raw.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return null;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      const cp = raw.codePointAt(i)!;
      if (cp > 0xffff) i++;
      bytes.push(...new TextEncoder().encode(String.fromCodePoint(cp)));
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** Go's `path.Clean`. */
export function cleanGoPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(seg);
  }
  const joined = out.join('/');
  if (rooted) return '/' + joined;
  return joined === '' ? '.' : joined;
}

/** gorilla/mux's cleanPath: rooted `path.Clean` that keeps a trailing slash. */
export function muxCleanPath(p: string): string {
  if (p === '') return '/';
  if (!p.startsWith('/')) p = '/' + p;
  let np = cleanGoPath(p);
  if (p.endsWith('/') && np !== '/') np += '/';
  return np;
}

/** Go's `url.URL.EscapedPath` for a path without a valid RawPath (encodePath mode). */
export function escapeGoPath(p: string): string {
  let out = '';
  for (const b of new TextEncoder().encode(p)) {
    const ch = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~$&+,/:;=@]/.test(ch)) out += ch;
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}
