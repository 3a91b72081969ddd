/**
 * Just enough tar for `docker save` archives: an index of a tar file's entries (so each one can
 * be streamed later from its offset, without unpacking), and headers for writing one.
 *
 * Reading (`indexTar`): ustar and GNU headers, the ustar `prefix` field, GNU long names (`L`),
 * PAX extended headers (`x`: `path`, `linkpath`, `size`), base-256 sizes; regular files,
 * directories and symbolic/hard links (resolved by `TarIndex.resolve`). Only headers are read —
 * a 1 GiB archive costs one 512-byte read per entry. Compressed tars are not supported
 * (`docker save` never compresses; `vouch push` says so when it sees gzip).
 *
 * Writing (`tarHeader`, `tarPadding`, `TAR_END`): one ustar header per entry (PAX records for a
 * name that does not fit or a size of 8 GiB or more), so an archive can be laid out up front and
 * its entries written at known offsets (src/image/docker-archive.ts does, in parallel).
 *
 * @example
 *   const idx = await indexTar('image.tar');
 *   const e = idx.resolve('manifest.json');   // { offset, size, … }
 */
import { open, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import { ImageFormatError } from './errors.ts';

export const BLOCK = 512;
/** Two zero blocks end an archive. */
export const TAR_END = Buffer.alloc(2 * BLOCK);
const MAX_OCTAL_SIZE = 0o77777777777; // 11 octal digits
const MAX_ENTRIES = 100_000;

export type TarEntryType = 'file' | 'dir' | 'symlink' | 'link' | 'other';

export interface TarEntry {
  /** Normalised path: no leading `./` or `/`, no trailing `/`. */
  readonly name: string;
  readonly type: TarEntryType;
  /** Where the entry's data starts in the file. */
  readonly offset: number;
  readonly size: number;
  /** Link target for `symlink` and `link`. */
  readonly linkName: string;
}

/** Normalise an archive path the way docker's loader compares them. */
export function normalizeTarPath(p: string): string {
  const n = posix.normalize(p.replace(/^\/+/, '')).replace(/\/+$/, '');
  return n === '.' ? '' : n.replace(/^\.\//, '');
}

export class TarIndex {
  readonly file: string;
  readonly entries: ReadonlyMap<string, TarEntry>;

  constructor(file: string, entries: ReadonlyMap<string, TarEntry>) {
    this.file = file;
    this.entries = entries;
  }

  /**
   * The regular file at `path`, following symbolic and hard links (at most 16).
   * @throws ImageFormatError when there is no such file
   */
  resolve(path: string): TarEntry {
    let name = normalizeTarPath(path);
    for (let hops = 0; hops < 16; hops++) {
      const e = this.entries.get(name);
      if (e === undefined) throw new ImageFormatError(`${this.file}: no ${JSON.stringify(path)} in the archive`);
      if (e.type === 'file') return e;
      if (e.type === 'symlink') name = normalizeTarPath(posix.join(posix.dirname(e.name), e.linkName));
      else if (e.type === 'link') name = normalizeTarPath(e.linkName);
      else throw new ImageFormatError(`${this.file}: ${JSON.stringify(path)} is not a file`);
    }
    throw new ImageFormatError(`${this.file}: too many links for ${JSON.stringify(path)}`);
  }

  has(path: string): boolean {
    try {
      this.resolve(path);
      return true;
    } catch {
      return false;
    }
  }
}

function cString(buf: Buffer, start: number, len: number): string {
  const field = buf.subarray(start, start + len);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? len : nul).toString('utf8');
}

/** An octal or base-256 numeric field. */
function numeric(buf: Buffer, start: number, len: number, what: string): number {
  const field = buf.subarray(start, start + len);
  if (((field[0] as number) & 0x80) !== 0) {
    let n = (field[0] as number) & 0x7f;
    for (let i = 1; i < len; i++) n = n * 256 + (field[i] as number);
    if (!Number.isSafeInteger(n)) throw new ImageFormatError(`tar header: ${what} too large`);
    return n;
  }
  const text = cString(buf, start, len).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new ImageFormatError(`tar header: bad ${what} ${JSON.stringify(text)}`);
  return parseInt(text, 8);
}

function checksumOk(h: Buffer): boolean {
  let stored: number;
  try {
    stored = numeric(h, 148, 8, 'checksum');
  } catch {
    return false;
  }
  let unsigned = 0;
  for (let i = 0; i < BLOCK; i++) unsigned += i >= 148 && i < 156 ? 0x20 : (h[i] as number);
  return stored === unsigned;
}

/** PAX records `len key=value\n`. */
function parsePax(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(data.subarray(i, sp).toString('ascii'), 10);
    if (!Number.isInteger(len) || len <= 0 || i + len > data.length) throw new ImageFormatError('tar: bad PAX record');
    const rec = data.subarray(sp + 1, i + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    i += len;
  }
  return out;
}

async function readAt(fh: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === length ? buf : buf.subarray(0, got);
}

/**
 * Read every header of the tar file at `file`.
 * @throws ImageFormatError for a file that is not an (uncompressed) tar, or a truncated one
 */
export async function indexTar(file: string): Promise<TarIndex> {
  const fh = await open(file, 'r');
  try {
    const total = (await fh.stat()).size;
    const entries = new Map<string, TarEntry>();
    let offset = 0;
    let longName: string | undefined;
    let longLink: string | undefined;
    let pax = new Map<string, string>();
    for (let n = 0; ; n++) {
      if (n > MAX_ENTRIES) throw new ImageFormatError(`${file}: more than ${MAX_ENTRIES} tar entries`);
      const h = await readAt(fh, offset, BLOCK);
      if (h.length < BLOCK) {
        if (n === 0 && h.length >= 2 && h[0] === 0x1f && h[1] === 0x8b) throw new ImageFormatError(`${file} is gzip-compressed; decompress it first (docker save writes plain tar)`);
        if (h.length === 0 && n > 0) break; // no end-of-archive blocks: tolerated, as GNU tar does
        throw new ImageFormatError(`${file}: truncated tar archive`);
      }
      if (h.every((b) => b === 0)) break;
      if (!checksumOk(h)) {
        if (n === 0 && h[0] === 0x1f && h[1] === 0x8b) throw new ImageFormatError(`${file} is gzip-compressed; decompress it first (docker save writes plain tar)`);
        throw new ImageFormatError(`${file}: ${n === 0 ? 'not a tar archive' : `bad tar header checksum at offset ${offset}`}`);
      }
      const typeflag = String.fromCharCode(h[156] as number);
      let size = numeric(h, 124, 12, 'size');
      const dataOffset = offset + BLOCK;
      const next = dataOffset + Math.ceil(size / BLOCK) * BLOCK;
      if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
        if (size > 1 << 20) throw new ImageFormatError(`${file}: oversized tar extension header`);
        const data = await readAt(fh, dataOffset, size);
        if (typeflag === 'x') pax = parsePax(data);
        else if (typeflag === 'L') longName = cString(data, 0, data.length);
        else if (typeflag === 'K') longLink = cString(data, 0, data.length);
        offset = next;
        continue;
      }
      const magic = cString(h, 257, 6);
      const prefix = magic.startsWith('ustar') ? cString(h, 345, 155) : '';
      let name = pax.get('path') ?? longName ?? (prefix !== '' ? `${prefix}/${cString(h, 0, 100)}` : cString(h, 0, 100));
      const linkName = pax.get('linkpath') ?? longLink ?? cString(h, 157, 100);
      const paxSize = pax.get('size');
      if (paxSize !== undefined) size = Number(paxSize);
      const dataEnd = dataOffset + (typeflag === '0' || typeflag === '\0' || typeflag === '7' ? size : 0);
      if (dataEnd > total) throw new ImageFormatError(`${file}: truncated tar archive (entry ${JSON.stringify(name)})`);
      const type: TarEntryType =
        typeflag === '0' || typeflag === '\0' || typeflag === '7' ? 'file' : typeflag === '5' ? 'dir' : typeflag === '2' ? 'symlink' : typeflag === '1' ? 'link' : 'other';
      name = normalizeTarPath(name);
      entries.set(name, { name, type, offset: dataOffset, size: type === 'file' ? size : 0, linkName });
      offset = paxSize !== undefined ? dataOffset + Math.ceil(size / BLOCK) * BLOCK : next;
      longName = undefined;
      longLink = undefined;
      pax = new Map();
    }
    return new TarIndex(file, entries);
  } finally {
    await fh.close();
  }
}

// ------------------------------------------------------------------ writing

function putString(h: Buffer, s: string, start: number, len: number): void {
  h.write(s, start, len, 'utf8');
}

function putOctal(h: Buffer, n: number, start: number, len: number): void {
  h.write(n.toString(8).padStart(len - 1, '0') + '\0', start, len, 'ascii');
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

export interface TarHeaderInput {
  readonly name: string;
  readonly size: number;
  readonly type?: 'file' | 'dir';
  /** Default 0o644 for files, 0o755 for directories. */
  readonly mode?: number;
  /** Seconds since the epoch; default 0 (reproducible archives). */
  readonly mtime?: number;
}

function ustar(name: string, size: number, type: string, mode: number, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  putString(h, name, 0, 100);
  putOctal(h, mode, 100, 8);
  putOctal(h, 0, 108, 8);
  putOctal(h, 0, 116, 8);
  putOctal(h, size, 124, 12);
  putOctal(h, mtime, 136, 12);
  h.write(type, 156, 1, 'ascii');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return h;
}

/**
 * The header block(s) for one entry: a ustar header, preceded by a PAX header when the name is
 * longer than 100 bytes or the size does not fit 11 octal digits.
 */
export function tarHeader(e: TarHeaderInput): Buffer {
  const type = e.type ?? 'file';
  const name = type === 'dir' && !e.name.endsWith('/') ? `${e.name}/` : e.name;
  const mode = e.mode ?? (type === 'dir' ? 0o755 : 0o644);
  const mtime = e.mtime ?? 0;
  const records: string[] = [];
  if (Buffer.byteLength(name) > 100) records.push(paxRecord('path', name));
  if (e.size > MAX_OCTAL_SIZE) records.push(paxRecord('size', String(e.size)));
  const main = ustar(Buffer.byteLength(name) > 100 ? name.slice(0, 99) : name, e.size > MAX_OCTAL_SIZE ? 0 : e.size, type === 'dir' ? '5' : '0', mode, mtime);
  if (records.length === 0) return main;
  const data = Buffer.from(records.join(''), 'utf8');
  return Buffer.concat([ustar('PaxHeaders/entry', data.length, 'x', 0o644, mtime), data, tarPadding(data.length), main]);
}

/** Zero bytes that round `size` up to a whole block. */
export function tarPadding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** Bytes an entry takes in the archive: header(s), data, padding. */
export function tarEntrySpan(e: TarHeaderInput): number {
  return tarHeader(e).length + e.size + tarPadding(e.size).length;
}
