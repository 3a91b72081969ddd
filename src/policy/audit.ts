/**
 * What the content-trust policy records for every decision it makes, and where it sends it.
 * One entry per decision; `vouch serve` writes them as JSON lines (src/serve/audit-log.ts).
 *
 * Example line:
 *   {"time":"2025-01-02T03:04:05.000Z","user":"alice","action":"pull","repository":"team/app",
 *    "reference":"v1","digest":"sha256:…","decision":"deny","reason":"tag \"v1\" is not signed in …"}
 */

export type AuditAction = 'pull' | 'head' | 'delete';

export interface AuditEntry {
  /** ISO 8601, UTC. */
  readonly time: string;
  /** The token's subject; '' for anonymous. */
  readonly user: string;
  readonly action: AuditAction;
  readonly repository: string;
  /** As requested: a tag or a digest. */
  readonly reference: string;
  /** The manifest digest the reference resolved to. */
  readonly digest: string;
  readonly decision: 'allow' | 'deny';
  readonly reason: string;
  /** The namespace whose setting applied. */
  readonly namespace: string;
}

/** Receives audit entries; must not throw (failures are the sink's to report). */
export interface AuditSink {
  record(entry: AuditEntry): void;
}

/** Keeps entries in memory (tests). */
export class MemoryAuditSink implements AuditSink {
  readonly entries: AuditEntry[] = [];
  record(entry: AuditEntry): void {
    this.entries.push(entry);
  }
}
