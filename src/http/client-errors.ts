/**
 * What the trust-server *client* makes of HTTP responses (spec §5.3 "client-side mapping",
 * notary's storage/httpstore.go and storage/errors.go). Every class is either a `NotFoundError`
 * (404: the resource does not exist) or a `DownloadError` (the transport or the server failed;
 * `status` set when a response arrived), so callers decide what they tolerate by class:
 * the updater falls back to its cached timestamp on `MetaNotFoundError`,
 * `ServerUnavailableError`, `OfflineError` and `NetworkError`, and aborts on the others.
 *
 * Messages are notary's texts, so the CLI can print them as notary does.
 *
 * Not here: the server's own error table (src/server/errors.ts).
 */
import { DownloadError, NotFoundError } from '../errors/index.ts';
import type { ValidationErrorName } from '../errors/index.ts';

/** 404: `<resource> trust data unavailable.  Has a notary repository been initialized?` (two spaces). */
export class MetaNotFoundError extends NotFoundError {
  /** What was asked for: `root`, `2.root`, `snapshot.<hex>`, `timestamp key`… */
  readonly resource: string;
  constructor(resource: string, options?: ErrorOptions) {
    super(`${resource} trust data unavailable.  Has a notary repository been initialized?`, options);
    this.resource = resource;
  }
}

/**
 * Any status other than 200/400/404: `unable to reach trust server at this time: <code>.`, or for
 * 401 `you are not authorized to perform this operation: server returned 401.`
 */
export class ServerUnavailableError extends DownloadError {
  constructor(status: number, options?: ErrorOptions) {
    super(
      status === 401
        ? 'you are not authorized to perform this operation: server returned 401.'
        : `unable to reach trust server at this time: ${status}.`,
      status,
      options,
    );
  }
}

/** 400 without a validation detail: `trust server rejected operation.` */
export class InvalidOperationError extends DownloadError {
  constructor(msg = '', options?: ErrorOptions) {
    super(msg === '' ? 'trust server rejected operation.' : `trust server rejected operation: ${msg}`, 400, options);
  }
}

const VALIDATION_PREFIX: Readonly<Record<ValidationErrorName, string>> = {
  ErrValidation: 'An error occurred during validation: ',
  ErrBadHierarchy: 'Metadata hierarchy is incomplete: ',
  ErrBadRoot: 'The root metadata is invalid: ',
  ErrBadTargets: 'The targets metadata is invalid: ',
  ErrBadSnapshot: 'The snapshot metadata is invalid: ',
};

/**
 * 400 whose body carries exactly one error with a `{"Name","Error":{"Msg"…}}` detail: the
 * server's push-validation error re-hydrated (`The targets metadata is invalid: …`).
 */
export class RemoteValidationError extends DownloadError {
  readonly wireName: ValidationErrorName;
  /** The `Msg` of the detail. */
  readonly msg: string;
  /** `Missing` of an ErrBadHierarchy detail. */
  readonly missing: string | undefined;
  constructor(wireName: ValidationErrorName, msg: string, missing?: string, options?: ErrorOptions) {
    super(VALIDATION_PREFIX[wireName] + msg, 400, options);
    this.wireName = wireName;
    this.msg = msg;
    this.missing = missing;
  }
}

/**
 * The server sent more than we asked for (Content-Length or body above the limit):
 * `trust server returned a bad response.` (notary's ErrMaliciousServer).
 */
export class MaliciousServerError extends DownloadError {
  readonly resource: string;
  readonly limit: number;
  constructor(resource: string, limit: number, options?: ErrorOptions) {
    super('trust server returned a bad response.', 200, options);
    this.resource = resource;
    this.limit = limit;
  }
}

/** Connection refused/reset, TLS failure, timeout: no (complete) response. */
export class NetworkError extends DownloadError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, undefined, options);
  }
}

/** The ping failed, so the client works from its cache: `client is offline`. */
export class OfflineError extends DownloadError {
  constructor(options?: ErrorOptions) {
    super('client is offline', undefined, options);
  }
}

/** The token endpoint refused us or answered nonsense (distribution's token handler errors). */
export class TokenError extends DownloadError {
  constructor(message: string, status?: number, options?: ErrorOptions) {
    super(message, status, options);
  }
}

function isValidationName(name: unknown): name is ValidationErrorName {
  return typeof name === 'string' && Object.hasOwn(VALIDATION_PREFIX, name);
}

/**
 * notary's tryUnmarshalError for a 400 body (already cut at 1 KiB): exactly one error whose
 * `detail` is a known validation object → RemoteValidationError, else InvalidOperationError.
 */
export function errorFor400(body: Uint8Array): DownloadError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return new InvalidOperationError();
  }
  const errors = typeof parsed === 'object' && parsed !== null ? (parsed as { errors?: unknown }).errors : undefined;
  if (!Array.isArray(errors) || errors.length !== 1) return new InvalidOperationError();
  const detail = (errors[0] as { detail?: unknown } | null)?.detail;
  if (typeof detail !== 'object' || detail === null) return new InvalidOperationError();
  const { Name: name, Error: inner } = detail as { Name?: unknown; Error?: unknown };
  if (!isValidationName(name) || typeof inner !== 'object' || inner === null) return new InvalidOperationError();
  const { Msg: msg, Missing: missing } = inner as { Msg?: unknown; Missing?: unknown };
  return new RemoteValidationError(name, typeof msg === 'string' ? msg : '', typeof missing === 'string' ? missing : undefined);
}

/**
 * notary's translateStatusToError for a non-200 status. `resource` names what was requested
 * (used in the 404 text).
 */
export function errorForStatus(status: number, resource: string, body: Uint8Array): NotFoundError | DownloadError {
  if (status === 404) return new MetaNotFoundError(resource);
  if (status === 400) return errorFor400(body);
  return new ServerUnavailableError(status);
}
