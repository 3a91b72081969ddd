/**
 * A verified or parsed metadata file: the envelope (exact bytes, generic `signed`, signatures)
 * paired with its typed model.
 */
import type { Envelope } from './envelope.ts';
import type { Root } from './root.ts';
import type { Snapshot, Timestamp } from './snapshot.ts';
import type { Targets } from './targets.ts';

export type RoleModel = Root | Targets | Snapshot | Timestamp;

export class Metadata<T extends RoleModel> {
  readonly envelope: Envelope;
  readonly signed: T;

  constructor(envelope: Envelope, signed: T) {
    this.envelope = envelope;
    this.signed = signed;
  }

  /** The exact file bytes. */
  get bytes(): Uint8Array {
    return this.envelope.bytes;
  }
}
