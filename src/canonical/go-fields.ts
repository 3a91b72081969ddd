/**
 * Field lookup with Go's encoding/json struct matching.
 *
 * When Go decodes an object into a struct, a key matches a field by exact name or, failing
 * that, case-insensitively (with Unicode simple folding, so `K` KELVIN SIGN matches `k` and
 * `ſ` LONG S matches `s`); when several keys match one field, the last one wins. A TS reader
 * that wants to accept exactly what notary accepts looks fields up through here.
 */

/** Go-style field lookup; `name` is the struct tag (ASCII). Returns undefined when absent. */
export function getGoField(obj: Readonly<Record<string, unknown>>, name: string): unknown {
  let found: unknown = undefined;
  for (const key of Object.keys(obj)) {
    if (key === name || foldEquals(key, name)) found = obj[key];
  }
  return found;
}

/** True when Go would match JSON key `key` to a struct field tagged `name` (ASCII). */
export function foldEquals(key: string, name: string): boolean {
  if (key.length !== name.length) return false;
  for (let i = 0; i < key.length; i++) {
    let c = key.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    else if (c === 0x212a) c = 0x6b; // KELVIN SIGN → k
    else if (c === 0x017f) c = 0x73; // LATIN SMALL LETTER LONG S → s
    const n = name.charCodeAt(i);
    const nl = n >= 0x41 && n <= 0x5a ? n + 0x20 : n;
    if (c !== nl) return false;
  }
  return true;
}
