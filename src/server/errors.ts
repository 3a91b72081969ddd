/**
 * The trust server's error codes and the one table that maps vouch's typed errors to them.
 *
 * Codes, HTTP statuses and messages are notary's (`server/errors`, distribution's errcode;
 * spec §5.3), plus one of vouch's own:
 *
 * | code | status | when |
 * |---|---|---|
 * | METADATA_NOT_FOUND | 404 | storage has no such metadata (detail `{}`), or no route matched (no detail) |
 * | INVALID_UPDATE | 400 | push validation refused the upload (detail `{"Name","Error":{…}}`) |
 * | VERSION | 400 | a version at or below a stored one (detail `{}`) |
 * | MALFORMED_JSON | 400 | an uploaded part is not `{"signed":{…},"signatures":[…]}`, is cut short, or the body exceeds `server.max_upload_bytes` (notary has no limit and answers this for any body it cannot decode) |
 * | MALFORMED_UPLOAD | 400 | the publish body is not multipart, or the multipart body is broken/truncated |
 * | NO_FILENAME | 400 | a part without a filename |
 * | INVALID_ROLE | 400 | a part whose filename is not a role name (detail: the role) |
 * | INVALID_GUN | 400 | publish to a GUN outside `repositories.gun_prefixes` |
 * | INVALID_PARAMETERS | 400 | bad changefeed `records`/`change_id` |
 * | GENERIC_NOT_FOUND | 404 | (registered for completeness) |
 * | NO_STORAGE, UPDATING, NO_CRYPTOSERVICE, NO_KEYALGORITHM | 500 | misconfiguration / storage failure |
 * | UNAUTHORIZED | 401 | token auth refused (detail: required accesses) |
 * | UNKNOWN | 500 | anything else (detail `{}`: Go marshals error values as empty objects) |
 *
 * Handlers throw typed errors; `toApiError` is the only place that decides the answer.
 */
import { AuthChallengeError, accessDetail } from '../auth/index.ts';
import {
  DeserializationError,
  KeyNotFoundError,
  NotFoundError,
  StorageError,
  UpdateValidationError,
  VersionConflictError,
} from '../errors/index.ts';
import { encodeErrorEnvelope, JSON_CONTENT_TYPE } from '../http/index.ts';

export const API_ERROR_CODES = {
  METADATA_NOT_FOUND: { status: 404, message: 'You have requested metadata that does not exist.' },
  INVALID_UPDATE: { status: 400, message: 'Update sent by the client is invalid.' },
  VERSION: { status: 400, message: 'A newer version of metadata is already available.' },
  MALFORMED_JSON: { status: 400, message: 'JSON sent by the client could not be parsed by the server' },
  MALFORMED_UPLOAD: { status: 400, message: 'The body of your request is malformed.' },
  NO_FILENAME: { status: 400, message: 'No file/role name provided.' },
  INVALID_ROLE: { status: 400, message: 'The role you are attempting to operate on is invalid.' },
  INVALID_GUN: { status: 400, message: 'The server does not support actions on images of this name.' },
  INVALID_PARAMETERS: { status: 400, message: 'The parameters provided are not valid.' },
  GENERIC_NOT_FOUND: { status: 404, message: 'You have requested a resource that does not exist.' },
  NO_STORAGE: { status: 500, message: 'The server is misconfigured and has no storage.' },
  UPDATING: { status: 500, message: 'An error has occurred while updating the TUF repository.' },
  NO_CRYPTOSERVICE: { status: 500, message: 'The server does not have a signing service configured.' },
  NO_KEYALGORITHM: { status: 500, message: 'The server does not have a key algorithm configured.' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  UNKNOWN: { status: 500, message: 'unknown error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ApiErrorCode = keyof typeof API_ERROR_CODES;

/** An answer already decided: a registered code, an optional detail, optional extra headers. */
export class ApiError extends Error {
  readonly apiCode: ApiErrorCode;
  /** undefined: no `detail` member in the body. */
  readonly detail: unknown;
  readonly headers: Readonly<Record<string, string>>;
  /** Close the connection after answering (the request body was not read to its end). */
  readonly closeConnection: boolean;
  constructor(apiCode: ApiErrorCode, detail?: unknown, options?: ErrorOptions & { headers?: Record<string, string>; close?: boolean }) {
    super(`${apiCode}: ${API_ERROR_CODES[apiCode].message}`, options);
    this.name = new.target.name;
    this.apiCode = apiCode;
    this.detail = detail;
    this.headers = options?.headers ?? {};
    this.closeConnection = options?.close ?? false;
  }
  get status(): number {
    return API_ERROR_CODES[this.apiCode].status;
  }
}

/** The `detail` of INVALID_UPDATE: notary's `validation.SerializableError`. */
function validationDetail(err: UpdateValidationError): unknown {
  const inner = err.wireName === 'ErrBadHierarchy' ? { Missing: err.missing ?? '', Msg: err.message } : { Msg: err.message };
  return { Name: err.wireName, Error: inner };
}

/** The mapping table: first matching class wins. */
const TABLE: readonly [abstract new (...args: never[]) => Error, (err: never) => ApiError][] = [
  [ApiError, (e: ApiError) => e],
  [AuthChallengeError, (e: AuthChallengeError) => new ApiError('UNAUTHORIZED', accessDetail(e.access), { cause: e, headers: { 'www-authenticate': e.challenge } })],
  [DeserializationError, (e: DeserializationError) => new ApiError('MALFORMED_JSON', undefined, { cause: e })],
  [UpdateValidationError, (e: UpdateValidationError) => new ApiError('INVALID_UPDATE', validationDetail(e), { cause: e })],
  [VersionConflictError, (e: VersionConflictError) => new ApiError('VERSION', {}, { cause: e })],
  [NotFoundError, (e: NotFoundError) => new ApiError('METADATA_NOT_FOUND', {}, { cause: e })],
  [KeyNotFoundError, (e: KeyNotFoundError) => new ApiError('METADATA_NOT_FOUND', {}, { cause: e })],
  [StorageError, (e: StorageError) => new ApiError('UNKNOWN', {}, { cause: e })],
];

/** Decide the answer for any thrown value. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof Error) {
    for (const [cls, map] of TABLE) {
      if (err instanceof cls) return (map as (e: Error) => ApiError)(err);
    }
  }
  return new ApiError('UNKNOWN', {}, { cause: err });
}

export interface SerializedError {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** The wire form: status, `application/json; charset=utf-8`, envelope + `\n`. */
export function serializeApiError(err: ApiError): SerializedError {
  const { message } = API_ERROR_CODES[err.apiCode];
  return {
    status: err.status,
    headers: { ...err.headers, 'content-type': JSON_CONTENT_TYPE },
    body: encodeErrorEnvelope([{ code: err.apiCode, message, detail: err.detail }]),
  };
}
