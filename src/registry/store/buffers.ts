/**
 * Keeping the registry's memory flat while gigabytes pass through it.
 *
 * - `BufferPool`: 1 MiB buffers reused for file reads (pull) and batched file writes (push), so
 *   moving a blob allocates nothing per chunk. At most `retain` idle buffers are kept.
 * - `copyFileRange`: send a file range to a writable with two pooled buffers (one being read
 *   while the other is written), waiting for each write's callback before reusing its buffer.
 * - `ScavengePacer`: node's HTTP parser copies every request-body chunk into a fresh Buffer
 *   (at most 64 KiB). Those die young, but V8 collects external memory only after about 64 MiB of
 *   it has piled up, and a fast upload then grows the resident set by well over 100 MiB. The
 *   pacer asks V8 for a minor GC (a scavenge, well under a millisecond on this heap) after every
 *   `everyBytes` of body, which frees them in time. It needs `gc`, which it obtains once through
 *   `--expose-gc` in a separate vm context (the main context's globals are untouched); where
 *   that is not possible it does nothing.
 */
import type { FileHandle } from 'node:fs/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Writable } from 'node:stream';

export const POOL_BUFFER_SIZE = 1 << 20;

export class BufferPool {
  readonly #free: Buffer[] = [];
  readonly #retain: number;
  readonly size: number;

  constructor(size = POOL_BUFFER_SIZE, retain = 16) {
    this.size = size;
    this.#retain = retain;
  }

  take(): Buffer {
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  /** Give a buffer back; only call once nothing (no pending I/O) refers to it. */
  give(buf: Buffer): void {
    if (buf.length === this.size && this.#free.length < this.#retain) this.#free.push(buf);
  }
}

export const sharedPool = new BufferPool();

/** Resolves when `out` has flushed `chunk` (its write callback), rejects if `out` closes first. */
function writeFlushed(out: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const onClose = (): void => reject(new Error('destination closed'));
    out.once('close', onClose);
    out.write(chunk, (err) => {
      out.removeListener('close', onClose);
      if (err) reject(err);
      else resolve();
    });
  });
}

/**
 * Copy bytes `start..end` (inclusive) of `fh` to `out`, reading the next buffer while the
 * previous one is being written. Does not end `out` and does not close `fh`.
 * @throws when the file is shorter than `end` or `out` fails or closes
 */
export async function copyFileRange(fh: FileHandle, start: number, end: number, out: Writable, pool: BufferPool = sharedPool): Promise<void> {
  const bufs = [pool.take(), pool.take()] as const;
  let pending: Promise<void> | null = null;
  let pos = start;
  let turn = 0;
  try {
    while (pos <= end) {
      const buf = bufs[turn] as Buffer;
      turn ^= 1;
      const want = Math.min(buf.length, end - pos + 1);
      const { bytesRead } = await fh.read(buf, 0, want, pos);
      if (bytesRead === 0) throw new Error('file ended before the range did');
      if (pending !== null) await pending;
      pending = writeFlushed(out, bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
    if (pending !== null) await pending;
  } catch (err) {
    // A write may still be in flight: leave both buffers to the garbage collector.
    if (pending !== null) await pending.catch(() => {});
    throw err;
  }
  pool.give(bufs[0]);
  pool.give(bufs[1]);
}

type GcFunction = (opts?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;
let gcFn: GcFunction | null | undefined;

function obtainGc(): GcFunction | null {
  if (gcFn !== undefined) return gcFn;
  try {
    setFlagsFromString('--expose-gc');
    const fn = runInNewContext('gc') as unknown;
    gcFn = typeof fn === 'function' ? (fn as GcFunction) : null;
  } catch {
    gcFn = null;
  }
  return gcFn;
}

/** Counts body bytes and asks for a scavenge every `everyBytes`. Not shared between processes. */
export class ScavengePacer {
  readonly #every: number;
  #since = 0;

  constructor(everyBytes = 16 << 20) {
    this.#every = everyBytes;
  }

  add(n: number): void {
    this.#since += n;
    if (this.#since < this.#every) return;
    this.#since = 0;
    obtainGc()?.({ type: 'minor', execution: 'sync' });
  }
}

/** One pacer for the process: the garbage is the process's, whichever upload made it. */
export const uploadPacer = new ScavengePacer();
