/**
 * SHA-256 (or SHA-512) of a byte range of a file, computed on worker threads, so a pull checks
 * every byte it wrote without spending its main thread on hashing: that thread is then free for
 * the sockets and file writes of the other blobs in flight, and the hashing of one blob runs
 * beside the download of the next (a pull's CPU time was mostly hashing, on one thread).
 *
 * The workers (two, or one on a one-CPU machine) start on first use and never keep the process
 * alive. A job reads the range with its own file descriptor, 1 MiB at a time.
 *
 * Not here: comparing with the expected digest (transfer.ts decides what a mismatch means).
 *
 * @example
 *   const hex = await hashPool().hashFile('/tmp/blob.partial', 0, size, 'sha256');
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** The worker's code, plain CommonJS (an `eval` worker needs no file and no type stripping). */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const buf = Buffer.allocUnsafe(1 << 20);
parentPort.on('message', ({ id, path, start, length, alg }) => {
  let fd;
  try {
    fd = openSync(path, 'r');
    const h = createHash(alg);
    let pos = start;
    let left = length;
    while (left > 0) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, left), pos);
      if (n === 0) throw new Error('the file ended ' + left + ' bytes early');
      h.update(buf.subarray(0, n));
      pos += n;
      left -= n;
    }
    parentPort.postMessage({ id, hex: h.digest('hex') });
  } catch (e) {
    parentPort.postMessage({ id, error: String(e && e.message || e) });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
});
`;

interface Job {
  readonly resolve: (hex: string) => void;
  readonly reject: (err: Error) => void;
}

class PoolWorker {
  readonly worker: Worker;
  readonly jobs = new Map<number, Job>();

  constructor(onSettled: () => void) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true });
    this.worker.on('message', (m: { id: number; hex?: string; error?: string }) => {
      const job = this.jobs.get(m.id);
      this.jobs.delete(m.id);
      if (m.hex !== undefined) job?.resolve(m.hex);
      else job?.reject(new Error(m.error ?? 'hashing failed'));
      onSettled();
    });
    this.worker.on('error', (err) => this.#failAll(err, onSettled));
    this.worker.on('exit', (code) => this.#failAll(new Error(`hash worker exited with code ${code}`), onSettled));
    // after the listeners (adding a 'message' listener refs the worker's port again), and for
    // good: the pool's own timer keeps the process alive while a job is pending
    this.worker.unref();
  }

  #failAll(err: Error, onSettled: () => void): void {
    for (const job of this.jobs.values()) job.reject(err);
    this.jobs.clear();
    onSettled();
  }
}

export class HashPool {
  readonly #workers: PoolWorker[] = [];
  readonly #size: number;
  #next = 0;
  /** A ref'd timer while jobs are pending keeps the process alive until they answer. */
  #keepAlive: NodeJS.Timeout | undefined;

  constructor(size = Math.max(1, Math.min(2, availableParallelism()))) {
    this.#size = size;
  }

  #settled = (): void => {
    if (this.#keepAlive !== undefined && this.#workers.every((w) => w.jobs.size === 0)) {
      clearInterval(this.#keepAlive);
      this.#keepAlive = undefined;
    }
  };

  /** Hex digest of `length` bytes of `path` from `start`. */
  hashFile(path: string, start: number, length: number, alg: 'sha256' | 'sha512'): Promise<string> {
    if (this.#workers.length < this.#size) this.#workers.push(new PoolWorker(this.#settled));
    const w = this.#workers.reduce((a, b) => (b.jobs.size < a.jobs.size ? b : a));
    const id = this.#next++;
    this.#keepAlive ??= setInterval(() => undefined, 1 << 30);
    return new Promise((resolve, reject) => {
      w.jobs.set(id, { resolve, reject });
      w.worker.postMessage({ id, path, start, length, alg });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.splice(0).map((w) => w.worker.terminate()));
  }
}

let shared: HashPool | undefined;

/** The process's pool. */
export function hashPool(): HashPool {
  shared ??= new HashPool();
  return shared;
}
