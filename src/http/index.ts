/**
 * Public surface of src/http: what the trust server and its clients share about the wire —
 * the route table and URL builders, the error envelope, and the Go text formats notary uses
 * (JSON escaping, `%q` quoting, RFC1123/RFC3339Nano times, mux path cleaning).
 */
export { TRUST_ROUTES, TRUST_API_ROUTES, matchTrustRoute, trustPaths } from './trust-routes.ts';
export type { TrustRoute, TrustOperation, CachePolicy, RouteParams, RouteMatch } from './trust-routes.ts';
export { encodeErrorEnvelope, parseErrorEnvelope, JSON_CONTENT_TYPE, SNIFFED_TEXT_CONTENT_TYPE } from './error-envelope.ts';
export type { ErrorEntry } from './error-envelope.ts';
export { goJsonQuote, goJsonMarshal, goQuote } from './go-json.ts';
export { formatRfc1123Local, formatRfc3339NanoLocal, localZoneAbbreviation, GO_ZERO_TIME_RFC1123 } from './go-time.ts';
export { decodeGoPath, cleanGoPath, muxCleanPath, escapeGoPath } from './go-path.ts';

// The trust-server client (spec §5.3 client mapping, §7.4, §9.5): fetcher with size limits,
// docker token auth, the notary-server RemoteStore and the ping that decides offline mode.
export {
  MetaNotFoundError,
  ServerUnavailableError,
  InvalidOperationError,
  RemoteValidationError,
  MaliciousServerError,
  NetworkError,
  OfflineError,
  TokenError,
  errorForStatus,
} from './client-errors.ts';
export { NodeFetcher, ERROR_BODY_LIMIT, FETCHER_DEFAULTS } from './fetcher.ts';
export type { Fetcher, FetchRequest, FetchResponse, NodeFetcherOptions } from './fetcher.ts';
export {
  AuthorizingFetcher,
  TokenAuthenticator,
  ACCESS_ACTIONS,
  credentialsFromEnv,
  parseNotaryAuth,
  parseAuthChallenges,
} from './token-auth.ts';
export type { AccessLevel, AuthChallenge, Credentials, CredentialsProvider } from './token-auth.ts';
export {
  HttpRemoteStore,
  OfflineRemoteStore,
  connectTrustServer,
  loadTlsOptions,
  MAX_DOWNLOAD_SIZE,
  MAX_KEY_SIZE,
  PING_TIMEOUT_MS,
} from './remote-store.ts';
export type { ClientTlsFiles, ConnectOptions, LocatedRemoteStore, TrustServerConnection } from './remote-store.ts';
