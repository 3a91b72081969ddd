/**
 * The audit log of `vouch serve`: every content-trust decision as one JSON line appended to
 * `<data dir>/audit.log` (fields: time, user, action, repository, reference, digest, decision,
 * reason, namespace; see src/policy/audit.ts). Lines are written in decision order through one
 * append stream; a write failure is reported to `onError` and never fails the request.
 *
 * Not here: rotation (use logrotate with `copytruncate`, or move the file and restart).
 *
 * Example:
 *   const log = new FileAuditSink('/var/lib/vouch/audit.log');
 *   log.record(entry);  await log.close();
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { AuditEntry, AuditSink } from '../policy/index.ts';

export class FileAuditSink implements AuditSink {
  readonly file: string;
  readonly #out: WriteStream;
  #closed: Promise<void> | undefined;

  constructor(file: string, opts: { onError?: (err: Error) => void } = {}) {
    this.file = file;
    this.#out = createWriteStream(file, { flags: 'a', mode: 0o600 });
    this.#out.on('error', (err) => opts.onError?.(err));
  }

  record(entry: AuditEntry): void {
    if (this.#closed !== undefined) return;
    this.#out.write(`${JSON.stringify(entry)}\n`);
  }

  /** Flush what was written and close the file. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= new Promise((resolve) => this.#out.end(() => resolve()));
    return this.#closed;
  }
}
