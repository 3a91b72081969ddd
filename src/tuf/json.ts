/**
 * Reading generic JSON (the output of `parseJson`) the way Go's `encoding/json` fills notary's
 * structs: a missing field or `null` leaves the zero value, a value of the wrong JSON type is an
 * error. Every problem is reported as one DeserializationError naming the field path.
 * Internal to src/tuf.
 */
import { getGoField } from '../canonical/index.ts';
import { DeserializationError } from '../errors/index.ts';

export type JsonObject = { readonly [key: string]: unknown };

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(path: string, want: string, got: unknown): never {
  const kind = got === null ? 'null' : Array.isArray(got) ? 'array' : typeof got;
  throw new DeserializationError(`${path}: expected ${want}, got ${kind}`);
}

/** Field accessors over one JSON object; `path` prefixes error messages. */
export class FieldReader {
  readonly path: string;
  readonly obj: JsonObject;

  constructor(value: unknown, path: string) {
    if (!isJsonObject(value)) fail(path, 'object', value);
    this.obj = value;
    this.path = path;
  }

  /** The raw value of a struct field (Go's case-insensitive match, last wins), undefined when absent or null. */
  raw(name: string): unknown {
    const v = getGoField(this.obj, name);
    return v === null ? undefined : v;
  }

  has(name: string): boolean {
    return this.raw(name) !== undefined;
  }

  string(name: string): string {
    const v = this.raw(name);
    if (v === undefined) return '';
    if (typeof v !== 'string') fail(`${this.path}.${name}`, 'string', v);
    return v;
  }

  /** An integral number (Go int / int64); zero when absent. */
  int(name: string): number {
    const v = this.raw(name);
    if (v === undefined) return 0;
    if (typeof v !== 'number' || !Number.isInteger(v)) fail(`${this.path}.${name}`, 'integer', v);
    return v;
  }

  bool(name: string): boolean {
    const v = this.raw(name);
    if (v === undefined) return false;
    if (typeof v !== 'boolean') fail(`${this.path}.${name}`, 'boolean', v);
    return v;
  }

  /** A nested object reader, or undefined when absent/null. */
  object(name: string): FieldReader | undefined {
    const v = this.raw(name);
    return v === undefined ? undefined : new FieldReader(v, `${this.path}.${name}`);
  }

  /** Entries of a JSON object used as a Go map; empty when absent/null. */
  entries(name: string): [string, unknown][] {
    const v = this.raw(name);
    if (v === undefined) return [];
    if (!isJsonObject(v)) fail(`${this.path}.${name}`, 'object', v);
    return Object.entries(v).filter(([, e]) => e !== undefined);
  }

  /** Elements of a JSON array; undefined when absent/null (Go's nil slice). */
  array(name: string): unknown[] | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) fail(`${this.path}.${name}`, 'array', v);
    return v;
  }

  /** A `[]string`; undefined when absent/null; null elements become "" as in Go. */
  strings(name: string): string[] | undefined {
    const arr = this.array(name);
    if (arr === undefined) return undefined;
    return arr.map((e, i) => {
      if (e === null) return '';
      if (typeof e !== 'string') fail(`${this.path}.${name}[${i}]`, 'string', e);
      return e;
    });
  }
}
