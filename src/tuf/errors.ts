/**
 * Error classes of the TUF core. All of them are `RepositoryError`s (bad data from the other
 * side); messages are notary's texts (spec §2.3, §3.3, §4, §10.2) so that the server and CLI can
 * surface them verbatim.
 *
 * Not here: push-validation wrapping (`UpdateValidationError` from src/errors, applied in
 * update.ts) and misuse of the builder (`StateError` from src/errors).
 */
import { DeserializationError, RepositoryError, SignatureError } from '../errors/index.ts';

/** `<role> type metadata invalid: <msg>` (notary's ErrInvalidMetadata): well-formed JSON, bad structure. */
export class InvalidMetadataError extends DeserializationError {
  readonly role: string;
  constructor(role: string, msg: string, options?: ErrorOptions) {
    super(`${role} type metadata invalid: ${msg}`, options);
    this.role = role;
  }
}

/** `tuf: invalid role <name>.` optionally followed by a reason (notary's ErrInvalidRole). */
export class InvalidRoleError extends RepositoryError {
  readonly role: string;
  constructor(role: string, reason = '', options?: ErrorOptions) {
    super('INVALID_ROLE', reason === '' ? `tuf: invalid role ${role}.` : `tuf: invalid role ${role}. ${reason}`, options);
    this.role = role;
  }
}

/** Fewer distinct valid signatures than the role's threshold. */
export class ThresholdError extends SignatureError {
  readonly role: string;
  constructor(role: string, message?: string, options?: ErrorOptions) {
    super('THRESHOLD', message ?? (role === '' ? 'valid signatures did not meet threshold' : `valid signatures did not meet threshold for ${role}`), options);
    this.role = role;
  }
}

/** A signature's keyid is listed for the role but the key re-hashes to another ID. */
export class InvalidKeyIdError extends SignatureError {
  constructor(options?: ErrorOptions) {
    super('BAD_SIGNATURE', 'key ID is not valid for key content', options);
  }
}

/** The envelope carries no signatures at all. */
export class NoSignaturesError extends SignatureError {
  constructor(options?: ErrorOptions) {
    super('BAD_SIGNATURE', 'tuf: data has no signatures', options);
  }
}

/** `<alg> checksum for <role> did not match: expected <hex>` */
export class ChecksumMismatchError extends RepositoryError {
  readonly role: string;
  constructor(alg: string, role: string, expectedHex: string, options?: ErrorOptions) {
    super('BAD_HASH', `${alg} checksum for ${role} did not match: expected ${expectedHex}`, options);
    this.role = role;
  }
}

/** `no checksums for supported algorithms were provided for <role>` */
export class MissingMetaError extends RepositoryError {
  readonly role: string;
  constructor(role: string, options?: ErrorOptions) {
    super('BAD_HASH', `no checksums for supported algorithms were provided for ${role}`, options);
    this.role = role;
  }
}

/** `could not validate the path to a trusted root: <reason>` (notary's ErrValidationFail). */
export class RootValidationError extends RepositoryError {
  readonly reason: string;
  constructor(reason: string, options?: ErrorOptions) {
    super('BAD_ROOT', `could not validate the path to a trusted root: ${reason}`, options);
    this.reason = reason;
  }
}

/** `could not rotate trust to a new trusted root: <reason>` (notary's ErrRootRotationFail). */
export class RootRotationError extends RepositoryError {
  readonly reason: string;
  constructor(reason: string, options?: ErrorOptions) {
    super('BAD_ROOT', `could not rotate trust to a new trusted root: ${reason}`, options);
    this.reason = reason;
  }
}

/**
 * Metadata already in storage could not be loaded during push validation. notary returns such
 * errors unwrapped, so the server answers INVALID_UPDATE without a detail object.
 */
export class StoredMetadataError extends RepositoryError {
  readonly role: string;
  constructor(role: string, cause: unknown) {
    super('VALIDATION', cause instanceof Error ? cause.message : String(cause), { cause });
    this.role = role;
  }
}
