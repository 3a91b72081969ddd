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
