/**
 * The error taxonomy of vouch (STYLE.md §4).
 *
 * Three families are kept apart:
 * - bad data from the other side: `RepositoryError` and its subclasses (`code` names the condition);
 * - transport failures: `DownloadError` (carries the HTTP status when there was one);
 * - misuse or wrong state inside vouch: `StateError`.
 * The HTTP mapping of codes lives in `src/server/errors.ts`, nowhere else.
 */

export type ErrorCode =
  // metadata / TUF
  | 'DESERIALIZATION'
  | 'BAD_SIGNATURE'
  | 'THRESHOLD'
  | 'EXPIRED'
  | 'BAD_VERSION'
  | 'BAD_HASH'
  | 'BAD_LENGTH'
  | 'BAD_ROOT'
  | 'BAD_TARGETS'
  | 'BAD_SNAPSHOT'
  | 'BAD_HIERARCHY'
  | 'VALIDATION'
  | 'BAD_CERTIFICATE'
  | 'UNKNOWN_KEY_TYPE'
  | 'INVALID_ROLE'
  | 'INVALID_GUN'
  // storage
  | 'NOT_FOUND'
  | 'VERSION_CONFLICT'
  | 'STORAGE'
  // keys
  | 'KEY_NOT_FOUND'
  | 'BAD_PASSPHRASE'
  // transport
  | 'DOWNLOAD'
  // auth
  | 'UNAUTHORIZED'
  // misuse
  | 'STATE'
  | 'CONFIG';

export class VouchError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Remote or uploaded content is bad. */
export class RepositoryError extends VouchError {}
/** Bytes could not be parsed into the expected model. */
export class DeserializationError extends RepositoryError {
  constructor(message: string, options?: ErrorOptions) {
    super('DESERIALIZATION', message, options);
  }
}
/** Signatures did not reach the threshold, or a signature was invalid. */
export class SignatureError extends RepositoryError {}
export class ExpiredMetadataError extends RepositoryError {
  constructor(message: string, options?: ErrorOptions) {
    super('EXPIRED', message, options);
  }
}
export class BadVersionError extends RepositoryError {
  constructor(message: string, options?: ErrorOptions) {
    super('BAD_VERSION', message, options);
  }
}
export class CertificateError extends RepositoryError {
  constructor(message: string, options?: ErrorOptions) {
    super('BAD_CERTIFICATE', message, options);
  }
}

/**
 * A publish was refused by push validation (spec §6.2). `name` on the wire is one of
 * ErrValidation, ErrBadHierarchy, ErrBadRoot, ErrBadTargets, ErrBadSnapshot.
 */
export type ValidationErrorName = 'ErrValidation' | 'ErrBadHierarchy' | 'ErrBadRoot' | 'ErrBadTargets' | 'ErrBadSnapshot';
export class UpdateValidationError extends RepositoryError {
  readonly wireName: ValidationErrorName;
  /** Only for ErrBadHierarchy: the missing role. */
  readonly missing?: string;
  constructor(wireName: ValidationErrorName, message: string, options?: ErrorOptions & { missing?: string }) {
    super('VALIDATION', message, options);
    this.wireName = wireName;
    if (options?.missing !== undefined) this.missing = options.missing;
  }
}

/** Storage: the requested thing does not exist. */
export class NotFoundError extends VouchError {
  constructor(message: string, options?: ErrorOptions) {
    super('NOT_FOUND', message, options);
  }
}
/** Storage: a version at or below a stored one was written (notary's ErrOldVersion). */
export class VersionConflictError extends VouchError {
  constructor(message: string, options?: ErrorOptions) {
    super('VERSION_CONFLICT', message, options);
  }
}
export class StorageError extends VouchError {
  constructor(message: string, options?: ErrorOptions) {
    super('STORAGE', message, options);
  }
}
export class KeyNotFoundError extends VouchError {
  constructor(message: string, options?: ErrorOptions) {
    super('KEY_NOT_FOUND', message, options);
  }
}
export class PassphraseError extends VouchError {
  constructor(message: string, options?: ErrorOptions) {
    super('BAD_PASSPHRASE', message, options);
  }
}
/** Transport failed; `status` is the HTTP status when a response arrived. */
export class DownloadError extends VouchError {
  readonly status: number | undefined;
  constructor(message: string, status?: number, options?: ErrorOptions) {
    super('DOWNLOAD', message, options);
    this.status = status;
  }
}
export class ConfigError extends VouchError {
  constructor(message: string, options?: ErrorOptions) {
    super('CONFIG', message, options);
  }
}
/** Misuse: called in the wrong order or state. */
export class StateError extends VouchError {
  constructor(message: string, options?: ErrorOptions) {
    super('STATE', message, options);
  }
}
