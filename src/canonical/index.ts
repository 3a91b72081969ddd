/**
 * Public surface of src/canonical: notary's JSON dialect (spec §1) and the byte encodings
 * around it. A leaf module: it imports only src/errors.
 */
export { parseJson, canonicalize, htmlEscape, encodeEnvelope, goJsonString, compareCodePoints } from './json.ts';
export type { EnvelopeSignature } from './json.ts';
export { toBase64, fromBase64, sha256, sha512, sha256Hex, toHex } from './encoding.ts';
export { getGoField, foldEquals } from './go-fields.ts';
export { decodeUtf8GoStyle, encodeUtf8 } from './utf8.ts';
