/**
 * The audit log of `vouch serve`: every content-trust decision as one JSON line appended to
 * `<data dir>/audit.log` (fields: time, user, action, repository, reference, digest, decision,
 * reason, namespace; see src/policy/audit.ts).
 *
 * Rotation by size, with no configuration needed: before a line would take the file past
 * `maxBytes` (default 32 MiB), `audit.log` becomes `audit.log.1`, `audit.log.1` becomes
 * `audit.log.2` … up to `audit.log.<keep>` (default 8; the oldest is dropped) and a new
 * `audit.log` is started. So at most (keep + 1) × maxBytes are kept. A line longer than
 * `maxBytes` is written whole, alone in its file.
 *
 * Lines are written in decision order by one writer: `record` queues the line and returns; the
 * writer appends whole lines (several per write when they come in bursts) and rotates between
 * two writes, never inside a line. A failed rename is reported to `onError` and the lines go on
 * to the current file (rotation is tried again after another `maxBytes`); a failed write or open
 * is reported and the lines it carried are dropped; nothing fails the request. A file truncated behind our back (logrotate's
 * `copytruncate`) is noticed at the next rotation check, which measures the file.
 *
 * Concurrency: one FileAuditSink per file, in one process.
 *
 * Example:
 *   const log = new FileAuditSink('/var/lib/vouch/audit.log');
 *   log.record(entry);  await log.close();
 */
import { open, rename, type FileHandle } from 'node:fs/promises';
import type { AuditEntry, AuditSink } from '../policy/index.ts';

export const DEFAULT_AUDIT_MAX_BYTES = 32 * 1024 * 1024;
export const DEFAULT_AUDIT_KEEP = 8;

export interface FileAuditSinkOptions {
  /** Told about failed writes and renames. */
  readonly onError?: (err: Error) => void;
  /** Rotate before a line would take the file past this many bytes (default 32 MiB). */
  readonly maxBytes?: number;
  /** Rotated files kept: `<file>.1` (newest) … `<file>.<keep>` (default 8). */
  readonly keep?: number;
}

export class FileAuditSink implements AuditSink {
  readonly file: string;
  readonly #maxBytes: number;
  readonly #keep: number;
  readonly #onError: (err: Error) => void;
  /** Lines waiting for the writer, in order. */
  #pending: Buffer[] = [];
  #handle: FileHandle | undefined;
  /** Bytes in the current file, as far as we know. */
  #size = 0;
  #writing: Promise<void> | undefined;
  #closing = false;
  #closed: Promise<void> | undefined;

  constructor(file: string, opts: FileAuditSinkOptions = {}) {
    const maxBytes = opts.maxBytes ?? DEFAULT_AUDIT_MAX_BYTES;
    const keep = opts.keep ?? DEFAULT_AUDIT_KEEP;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`);
    if (!Number.isSafeInteger(keep) || keep < 1) throw new RangeError(`keep must be a positive integer, got ${keep}`);
    this.file = file;
    this.#maxBytes = maxBytes;
    this.#keep = keep;
    this.#onError = opts.onError ?? (() => {});
  }

  /**
   * Open the file now (creating it, 0600), so that it exists from the start and a log that
   * cannot be written is reported when the server starts rather than at the first decision.
   */
  async open(): Promise<void> {
    await this.#current();
  }

  record(entry: AuditEntry): void {
    if (this.#closing) return;
    this.#pending.push(Buffer.from(`${JSON.stringify(entry)}\n`, 'utf8'));
    this.#writing ??= this.#drain()
      .catch((err: Error) => this.#onError(err))
      .finally(() => (this.#writing = undefined));
  }

  /** Write what was recorded and close the file. Idempotent. */
  close(): Promise<void> {
    this.#closing = true;
    this.#closed ??= (async () => {
      while (this.#writing !== undefined) await this.#writing;
      await this.#reset();
    })();
    return this.#closed;
  }

  /** The writer: one at a time, until nothing is pending. */
  async #drain(): Promise<void> {
    while (this.#pending.length > 0) {
      let handle: FileHandle;
      try {
        handle = await this.#current();
        if (this.#size > 0 && this.#size + this.#pending[0]!.length > this.#maxBytes && (await this.#rotate())) handle = await this.#current();
      } catch (err) {
        // the file cannot be opened: what is queued is lost, the next line tries again
        this.#pending = [];
        this.#onError(err as Error);
        return;
      }
      // as many lines as fit (at least one), written together
      let n = 0;
      let bytes = 0;
      while (n < this.#pending.length && (n === 0 || this.#size + bytes + this.#pending[n]!.length <= this.#maxBytes)) bytes += this.#pending[n++]!.length;
      const batch = this.#pending.splice(0, n);
      try {
        await handle.write(batch.length === 1 ? batch[0]! : Buffer.concat(batch, bytes));
        this.#size += bytes;
      } catch (err) {
        this.#onError(err as Error);
        await this.#reset();
      }
    }
  }

  /** The open file (opened, and measured, when there is none). */
  async #current(): Promise<FileHandle> {
    if (this.#handle === undefined) {
      const handle = await open(this.file, 'a', 0o600);
      try {
        this.#size = (await handle.stat()).size;
      } catch (err) {
        await handle.close().catch(() => {});
        throw err;
      }
      this.#handle = handle;
    }
    return this.#handle;
  }

  /** Forget the open file (after a failure); the next write opens it again. */
  async #reset(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close().catch(() => {});
  }

  /**
   * Shift `<file>.i` to `<file>.i+1` (the last is replaced) and the file to `<file>.1`; true when
   * done. The file is measured first: someone may have truncated it (logrotate copytruncate).
   */
  async #rotate(): Promise<boolean> {
    try {
      const size = (await this.#handle!.stat()).size;
      if (size === 0 || size + this.#pending[0]!.length <= this.#maxBytes) {
        this.#size = size;
        return false;
      }
      for (let i = this.#keep - 1; i >= 1; i--) {
        await rename(`${this.file}.${i}`, `${this.file}.${i + 1}`).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        });
      }
      await rename(this.file, `${this.file}.1`);
    } catch (err) {
      // go on in the current file; rotation is tried again once another maxBytes are written
      this.#onError(err as Error);
      this.#size = 0;
      return false;
    }
    await this.#reset();
    return true;
  }
}
