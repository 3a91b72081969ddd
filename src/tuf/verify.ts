/**
 * Signature, version and expiry checks (spec §2.3, §10.2 step 6), with notary's messages.
 *
 * Signatures are verified over `canonicalize(parsed signed)`, never over the received bytes or a
 * rebuilt model. Threshold counts distinct key IDs of the role with a valid signature. A
 * signature whose keyid is in the role but whose key re-hashes to another ID aborts the check.
 *
 * @example
 *   verifySignatures(env, root.baseRole('targets'));
 *   verifyVersion(targets, 1);
 *   verifyExpiry(targets, 'targets', now);
 */
import { tufKeyId, verifySignature } from '../crypto/index.ts';
import { BadVersionError, ExpiredMetadataError } from '../errors/index.ts';
import type { BaseRole, SignedCommon } from './common.ts';
import type { Envelope } from './envelope.ts';
import { InvalidKeyIdError, NoSignaturesError, ThresholdError } from './errors.ts';
import { formatExpiredAt, isExpiredAt } from './time.ts';

/**
 * Key IDs of `role` that carry a valid signature in `env` (never throws for a bad signature;
 * an unsupported method or malformed signature just does not count).
 * @throws InvalidKeyIdError when a listed key does not hash to its claimed ID
 */
export function validSignerIds(env: Envelope, role: BaseRole): Set<string> {
  const msg = env.canonicalSigned();
  const valid = new Set<string>();
  for (const sig of env.signatures) {
    const key = role.keys.get(sig.keyid);
    if (key === undefined) continue;
    if (tufKeyId(key) !== sig.keyid) throw new InvalidKeyIdError();
    let ok = false;
    try {
      ok = verifySignature(key, sig.method, msg, sig.sig);
    } catch {
      ok = false; // one bad candidate never fails the whole check, nor passes it
    }
    if (ok) valid.add(sig.keyid);
  }
  return valid;
}

/**
 * notary's VerifySignatures: at least `role.threshold` distinct keys of the role signed.
 * @throws NoSignaturesError, ThresholdError, InvalidKeyIdError
 */
export function verifySignatures(env: Envelope, role: BaseRole): void {
  if (env.signatures.length === 0) throw new NoSignaturesError();
  if (role.threshold < 1) throw new ThresholdError('');
  if (validSignerIds(env, role).size < role.threshold) throw new ThresholdError(role.name);
}

/** True when `verifySignatures` would pass. */
export function hasValidSignatures(env: Envelope, role: BaseRole): boolean {
  try {
    verifySignatures(env, role);
    return true;
  } catch {
    return false;
  }
}

/** `version <n> is lower than current version <m>`. @throws BadVersionError */
export function verifyVersion(signed: SignedCommon, minVersion: number): void {
  if (signed.version < minVersion) {
    throw new BadVersionError(`version ${signed.version} is lower than current version ${minVersion}`);
  }
}

/** `<role> expired at <Mon Jan 2 15:04:05 MST 2006>`. @throws ExpiredMetadataError */
export function verifyExpiry(signed: SignedCommon, role: string, now: Date): void {
  if (isExpiredAt(signed.expires, now)) {
    throw new ExpiredMetadataError(`${role} expired at ${formatExpiredAt(signed.expires)}`);
  }
}

/** True when `expires` is before `now`. */
export function isExpired(signed: SignedCommon, now: Date): boolean {
  return isExpiredAt(signed.expires, now);
}
