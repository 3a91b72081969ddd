/**
 * The signed envelope `{"signed":{…},"signatures":[{"keyid","method","sig"}]}` (spec §1.2).
 *
 * `Envelope.parse` keeps the exact received bytes (hash those) and the generic parsed `signed`
 * value (verify signatures over `canonicalize(signed)`, as notary does; unknown fields survive).
 * `assembleSigned` writes the file layout for metadata we create.
 *
 * @example
 *   const env = Envelope.parse(bytes, 'targets');
 *   verifySignatures(env, role);          // over env.canonicalSigned()
 *   const out = assembleSigned(canonical, [await signer.sign(keyId, canonical)]);
 */
import { canonicalize, encodeEnvelope, parseJson } from '../canonical/index.ts';
import type { SignatureEntry } from '../crypto/types.ts';
import { DeserializationError } from '../errors/index.ts';
import { decodeBase64Field } from './file-meta.ts';
import { FieldReader, isJsonObject, type JsonObject } from './json.ts';
import { parseGoTime } from './time.ts';

export class Envelope {
  /** The exact bytes received (what storage serves and what meta hashes cover). */
  readonly bytes: Uint8Array;
  /** The generic parsed `signed` object. */
  readonly signed: JsonObject;
  /** Signatures in file order; `method` lower-cased as notary does. */
  readonly signatures: readonly SignatureEntry[];
  #canonical: Uint8Array | undefined;

  constructor(bytes: Uint8Array, signed: JsonObject, signatures: readonly SignatureEntry[]) {
    this.bytes = bytes;
    this.signed = signed;
    this.signatures = signatures;
  }

  /**
   * Parse an envelope. `what` names the role in error messages.
   * @throws DeserializationError when the bytes are not JSON or the envelope shape is wrong
   */
  static parse(bytes: Uint8Array, what: string): Envelope {
    const value = parseJson(bytes, what);
    const r = new FieldReader(value, what);
    const signed = r.raw('signed');
    if (!isJsonObject(signed)) throw new DeserializationError(`${what}: "signed" must be an object`);
    const sigs = (r.array('signatures') ?? []).map((s, i) => parseSignature(s, `${what}.signatures[${i}]`));
    return new Envelope(bytes, signed, sigs);
  }

  /** canonicalize(signed): the bytes signatures are verified over (computed once). */
  canonicalSigned(): Uint8Array {
    this.#canonical ??= canonicalize(this.signed);
    return this.#canonical;
  }
}

function parseSignature(value: unknown, path: string): SignatureEntry {
  if (value === null) return { keyid: '', method: '', sig: new Uint8Array(0) }; // Go's zero Signature
  const r = new FieldReader(value, path);
  return { keyid: r.string('keyid'), method: r.string('method').toLowerCase(), sig: decodeBase64Field(r.raw('sig'), `${path}.sig`) };
}

/**
 * The file bytes for a `signed` payload we created: `{"signed":<canonical>,"signatures":[…]}`
 * with Go's envelope layout and HTML escaping (spec §1.2).
 */
export function assembleSigned(signedCanonical: Uint8Array, signatures: readonly SignatureEntry[]): Uint8Array {
  return encodeEnvelope(signedCanonical, signatures);
}

/**
 * `_type`, `version` and `expires` of an upload, read the way notary's publish handler does
 * before validation (its SignedMeta: common header plus signatures; a failure there is
 * MALFORMED_JSON, spec §6.1).
 * @throws DeserializationError
 */
export function readSignedCommon(bytes: Uint8Array, what: string): { readonly type: string; readonly version: number; readonly expires: string } {
  const r = new FieldReader(parseJson(bytes, what), what);
  (r.array('signatures') ?? []).forEach((sig, i) => parseSignature(sig, `${what}.signatures[${i}]`));
  const s = r.object('signed') ?? new FieldReader({}, `${what}.signed`);
  const expires = s.string('expires');
  if (expires !== '') parseGoTime(expires);
  return { type: s.string('_type'), version: s.int('version'), expires };
}
