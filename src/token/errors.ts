/**
 * The token service's error conditions. The HTTP handler (handler.ts) maps them, and only them:
 * - `InvalidCredentialsError` → 401 with `{"details": …}` (what docker's login turns into
 *   "unauthorized: …") and a Basic challenge;
 * - `TokenRequestError` → 400 with an OAuth2 `error` code.
 * Anything else is a server fault (500).
 */
import { VouchError } from '../errors/index.ts';

/** Unknown user, wrong password, or an unknown/expired/revoked refresh token. */
export class InvalidCredentialsError extends VouchError {
  constructor(message = 'incorrect username or password', options?: ErrorOptions) {
    super('UNAUTHORIZED', message, options);
  }
}

/**
 * A malformed token request. `code` is VALIDATION (the closest code src/errors has for "the
 * request is invalid"); `oauthError` is what goes on the wire.
 */
export class TokenRequestError extends VouchError {
  /** The OAuth2 error code sent back (`invalid_request`, `unsupported_grant_type`, …). */
  readonly oauthError: string;
  constructor(message: string, oauthError = 'invalid_request', options?: ErrorOptions) {
    super('VALIDATION', message, options);
    this.oauthError = oauthError;
  }
}
