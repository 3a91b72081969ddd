/**
 * The registry's error codes: one table of code → HTTP status and default message
 * (distribution's `errcode.Register`, OCI Distribution Spec v1.1 "Error Codes"), the
 * `RegistryApiError` that handlers and the store throw, and the envelope writer.
 *
 * | code                   | status | when                                                          |
 * |------------------------|--------|---------------------------------------------------------------|
 * | BLOB_UNKNOWN           | 404    | blob not in the repository (GET/HEAD/DELETE, mount source)    |
 * | BLOB_UPLOAD_INVALID    | 400    | bad upload request; 416 when a chunk is out of order          |
 * | BLOB_UPLOAD_UNKNOWN    | 404    | no such upload session in this repository                     |
 * | DIGEST_INVALID         | 400    | malformed/unsupported digest, or bytes that do not match it   |
 * | MANIFEST_BLOB_UNKNOWN  | 400    | a manifest refers to a blob or manifest the repository lacks  |
 * | MANIFEST_INVALID       | 400    | unparsable manifest, type mismatch; 413 when over the limit   |
 * | MANIFEST_UNKNOWN       | 404    | no such manifest or tag                                       |
 * | NAME_INVALID           | 400    | repository name outside the grammar                           |
 * | NAME_UNKNOWN           | 404    | repository not known (tag listing)                            |
 * | SIZE_INVALID           | 400    | Content-Length does not match Content-Range or the bytes      |
 * | UNAUTHORIZED           | 401    | the AccessController refused (with Www-Authenticate)          |
 * | DENIED                 | 403    | the TrustPolicy refused                                       |
 * | UNSUPPORTED            | 405    | method not supported on this route                            |
 * | TOOMANYREQUESTS        | 429    | a concurrent request holds the upload session                 |
 *
 * The wire spelling of the last code is the spec's and distribution's `TOOMANYREQUESTS`.
 * An unexpected failure is `UNKNOWN`/500 and its message is not sent.
 */
import type { ServerResponse } from 'node:http';
// Direct module imports, not the folders' index.ts: those also load the trust client (fetcher,
// token auth), about 30 MiB of resident memory a registry process does not need.
import { encodeErrorEnvelope, JSON_CONTENT_TYPE } from '../http/error-envelope.ts';
import { VouchError, type ErrorCode } from '../errors/index.ts';

export const OciErrorCode = {
  BlobUnknown: 'BLOB_UNKNOWN',
  BlobUploadInvalid: 'BLOB_UPLOAD_INVALID',
  BlobUploadUnknown: 'BLOB_UPLOAD_UNKNOWN',
  DigestInvalid: 'DIGEST_INVALID',
  ManifestBlobUnknown: 'MANIFEST_BLOB_UNKNOWN',
  ManifestInvalid: 'MANIFEST_INVALID',
  ManifestUnknown: 'MANIFEST_UNKNOWN',
  NameInvalid: 'NAME_INVALID',
  NameUnknown: 'NAME_UNKNOWN',
  SizeInvalid: 'SIZE_INVALID',
  Unauthorized: 'UNAUTHORIZED',
  Denied: 'DENIED',
  Unsupported: 'UNSUPPORTED',
  TooManyRequests: 'TOOMANYREQUESTS',
  Unknown: 'UNKNOWN',
} as const;
export type OciErrorCode = (typeof OciErrorCode)[keyof typeof OciErrorCode];

interface CodeInfo {
  readonly status: number;
  readonly message: string;
  /** The vouch-wide family (src/errors) the condition belongs to. */
  readonly family: ErrorCode;
}

/** The one table: default status and message per code. */
export const OCI_ERRORS: Readonly<Record<OciErrorCode, CodeInfo>> = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry', family: 'NOT_FOUND' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid', family: 'VALIDATION' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry', family: 'NOT_FOUND' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content', family: 'BAD_HASH' },
  MANIFEST_BLOB_UNKNOWN: { status: 400, message: 'manifest references a manifest or blob unknown to registry', family: 'VALIDATION' },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid', family: 'VALIDATION' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown to registry', family: 'NOT_FOUND' },
  NAME_INVALID: { status: 400, message: 'invalid repository name', family: 'VALIDATION' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry', family: 'NOT_FOUND' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length', family: 'BAD_LENGTH' },
  UNAUTHORIZED: { status: 401, message: 'authentication required', family: 'UNAUTHORIZED' },
  DENIED: { status: 403, message: 'requested access to the resource is denied', family: 'UNAUTHORIZED' },
  UNSUPPORTED: { status: 405, message: 'the operation is unsupported', family: 'STATE' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests', family: 'STATE' },
  UNKNOWN: { status: 500, message: 'unknown error', family: 'STORAGE' },
};

export interface RegistryErrorOptions extends ErrorOptions {
  /** Overrides the table's status (416 for an out-of-order chunk, 413 for an oversized manifest). */
  readonly status?: number;
  /** The envelope's `detail`. */
  readonly detail?: unknown;
  /** Extra response headers (e.g. `Range` on a 416, `Retry-After` on a 429). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** A failure with a registered OCI code; `message` is sent to the client. */
export class RegistryApiError extends VouchError {
  readonly oci: OciErrorCode;
  readonly status: number;
  readonly detail: unknown;
  readonly headers: Readonly<Record<string, string>>;
  constructor(oci: OciErrorCode, message?: string, options: RegistryErrorOptions = {}) {
    const info = OCI_ERRORS[oci];
    super(info.family, message ?? info.message, options);
    this.oci = oci;
    this.status = options.status ?? info.status;
    this.detail = options.detail;
    this.headers = options.headers ?? {};
  }
}

export function registryError(oci: OciErrorCode, message?: string, options?: RegistryErrorOptions): RegistryApiError {
  return new RegistryApiError(oci, message, options);
}

/**
 * Write the envelope for `err` (anything thrown). Unknown errors become a 500 whose message is
 * not revealed. A HEAD response gets the status and headers only.
 */
export function sendError(res: ServerResponse, err: unknown, head: boolean): void {
  const e = err instanceof RegistryApiError ? err : new RegistryApiError('UNKNOWN', OCI_ERRORS.UNKNOWN.message, { cause: err });
  const body = encodeErrorEnvelope([{ code: e.oci, message: e.message, ...(e.detail === undefined ? {} : { detail: e.detail }) }]);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const [k, v] of Object.entries(e.headers)) res.setHeader(k, v);
  res.setHeader('Content-Type', JSON_CONTENT_TYPE);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.statusCode = e.status;
  res.end(head ? undefined : body);
}
