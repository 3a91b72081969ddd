/**
 * snapshot.json and timestamp.json `signed` parts (spec §4.4, §4.5). Both are a common header
 * plus a `meta` map of file metas keyed by role name. `fromSigned` adds notary's structure
 * checks: snapshot meta must have `root` and `targets` with a sha256; timestamp meta must have
 * `snapshot` with a sha256; supported digests must have the right size.
 *
 * @example
 *   const sn = Snapshot.fromSigned(env.signed);
 *   sn.meta.get('targets/releases')?.hashes.get('sha256')
 */
import { parseCommon, type SignedCommon } from './common.ts';
import { InvalidMetadataError } from './errors.ts';
import { fileMetaToJSON, hashStructureProblem, parseFiles, type FileMeta } from './file-meta.ts';
import { FieldReader } from './json.ts';
import type { GoTime } from './time.ts';

export interface MetaFileOptions {
  readonly version: number;
  readonly expires: GoTime;
  readonly meta: ReadonlyMap<string, FileMeta>;
  readonly type?: string;
}

function checkMetaEntry(container: string, meta: ReadonlyMap<string, FileMeta>, file: string): void {
  const hashes = meta.get(file)?.hashes;
  if (hashes?.get('sha256') === undefined) {
    throw new InvalidMetadataError(container, `missing ${file} sha256 checksum information`);
  }
  const problem = hashStructureProblem(hashes);
  if (problem !== null) throw new InvalidMetadataError(container, `invalid ${file} checksum information, ${problem}`);
}

function metaToJSON(meta: ReadonlyMap<string, FileMeta>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, m] of meta) out[name] = fileMetaToJSON(m);
  return out;
}

export class Snapshot implements SignedCommon {
  readonly type: string;
  readonly version: number;
  readonly expires: GoTime;
  readonly meta: ReadonlyMap<string, FileMeta>;

  constructor(o: MetaFileOptions) {
    this.type = o.type ?? 'Snapshot';
    this.version = o.version;
    this.expires = o.expires;
    this.meta = o.meta;
  }

  /** Read and validate. @throws DeserializationError, InvalidMetadataError */
  static fromSigned(value: unknown): Snapshot {
    const s = Snapshot.read(value);
    s.checkStructure();
    return s;
  }

  /** Read without the structure check. @throws DeserializationError */
  static read(value: unknown): Snapshot {
    const r = new FieldReader(value, 'snapshot');
    return new Snapshot({ ...parseCommon(r), meta: parseFiles(r, 'meta') });
  }

  /** notary's IsValidSnapshotStructure. @throws InvalidMetadataError */
  checkStructure(): void {
    if (this.type !== 'Snapshot') throw new InvalidMetadataError('snapshot', `expected type Snapshot, not ${this.type}`);
    if (this.version < 1) throw new InvalidMetadataError('snapshot', 'version cannot be less than one');
    checkMetaEntry('snapshot', this.meta, 'root');
    checkMetaEntry('snapshot', this.meta, 'targets');
  }

  toJSON(): Record<string, unknown> {
    return { _type: this.type, expires: this.expires.text, meta: metaToJSON(this.meta), version: this.version };
  }
}

export class Timestamp implements SignedCommon {
  readonly type: string;
  readonly version: number;
  readonly expires: GoTime;
  readonly meta: ReadonlyMap<string, FileMeta>;

  constructor(o: MetaFileOptions) {
    this.type = o.type ?? 'Timestamp';
    this.version = o.version;
    this.expires = o.expires;
    this.meta = o.meta;
  }

  /** Read and validate. @throws DeserializationError, InvalidMetadataError */
  static fromSigned(value: unknown): Timestamp {
    const t = Timestamp.read(value);
    t.checkStructure();
    return t;
  }

  /** Read without the structure check. @throws DeserializationError */
  static read(value: unknown): Timestamp {
    const r = new FieldReader(value, 'timestamp');
    return new Timestamp({ ...parseCommon(r), meta: parseFiles(r, 'meta') });
  }

  /** notary's IsValidTimestampStructure. @throws InvalidMetadataError */
  checkStructure(): void {
    if (this.type !== 'Timestamp') throw new InvalidMetadataError('timestamp', `expected type Timestamp, not ${this.type}`);
    if (this.version < 1) throw new InvalidMetadataError('timestamp', 'version cannot be less than one');
    checkMetaEntry('timestamp', this.meta, 'snapshot');
  }

  /** The snapshot's file meta (always present once validated). */
  get snapshotMeta(): FileMeta | undefined {
    return this.meta.get('snapshot');
  }

  toJSON(): Record<string, unknown> {
    return { _type: this.type, expires: this.expires.text, meta: metaToJSON(this.meta), version: this.version };
  }
}
