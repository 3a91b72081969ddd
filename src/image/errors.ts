/**
 * What image transfer can go wrong with, in the families of src/errors (STYLE.md §4):
 *
 * - bad data: `ImageFormatError` (a layout, archive or manifest that does not parse or is
 *   incomplete), `DigestMismatchError` and `SizeMismatchError` (bytes that are not what their
 *   descriptor promised: the registry's, the archive's or the layout's);
 * - transport: `RegistryError`, a registry answer that is not the one asked for, with the
 *   HTTP status and the distribution error code of the `{"errors":[…]}` body when there was one.
 *
 * Messages name the thing (blob or manifest, digest, repository) and what was expected.
 */
import { DownloadError, RepositoryError } from '../errors/index.ts';

/** An OCI layout, a docker archive or a manifest that cannot be used as an image. */
export class ImageFormatError extends RepositoryError {
  constructor(message: string, options?: ErrorOptions) {
    super('DESERIALIZATION', message, options);
  }
}

/** Bytes that hash to another digest than the one they were fetched or stored by. */
export class DigestMismatchError extends RepositoryError {
  readonly expected: string;
  readonly actual: string;
  constructor(what: string, expected: string, actual: string, options?: ErrorOptions) {
    super('BAD_HASH', `${what}: expected digest ${expected}, the bytes hash to ${actual}`, options);
    this.expected = expected;
    this.actual = actual;
  }
}

/** More or fewer bytes than the descriptor's size. */
export class SizeMismatchError extends RepositoryError {
  constructor(what: string, expected: number, actual: number, options?: ErrorOptions) {
    super('BAD_LENGTH', `${what}: expected ${expected} bytes, got ${actual}${actual > expected ? ' or more' : ''}`, options);
  }
}

/** A registry request that failed: `status` is the HTTP status, `registryCode` distribution's error code ('' when none). */
export class RegistryError extends DownloadError {
  readonly registryCode: string;
  constructor(message: string, status?: number, registryCode = '', options?: ErrorOptions) {
    super(message, status, options);
    this.registryCode = registryCode;
  }
}

/** The registry has no such manifest or blob (404, `MANIFEST_UNKNOWN`, `BLOB_UNKNOWN`, `NAME_UNKNOWN`). */
export class RegistryNotFoundError extends RegistryError {}

/** 401/403 after authenticating as well as we could. */
export class RegistryAuthError extends RegistryError {}
