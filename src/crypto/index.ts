/**
 * Public surface of src/crypto (spec §2, §3): key JSON and key IDs, signature verification with
 * notary's rules, signing with notary's internal private-key forms, and the x509 handling of
 * root and delegation keys. Imports only src/canonical and src/errors; all cryptography goes
 * through node:crypto, DER is read and written by the small codec in der.ts.
 *
 * ```ts
 * const key = generatePrivateKey('ecdsa');
 * const { method, sig } = signMessage(key, canonicalize(signed));
 * verifySignature(key.publicKey, method, canonicalize(signed), sig); // true
 * const rootKey = certificateToTufKey(generateRootCertificate(key, 'example.com/app', new Date()));
 * ```
 */
export type { KeyType, SignatureMethod, TufKey, PrivateKey, SignatureEntry, CryptoService } from './types.ts';
export { keyToJSON, keyFromJSON, tufKeyId, canonicalKeyId, firstCertificate } from './keys.ts';
export type { TufKeyJSON } from './keys.ts';
export { verifySignature } from './verify.ts';
export { generatePrivateKey, privateKeyFromRaw, privateKeyObject, signMessage } from './private-key.ts';
export { generateRootCertificate, ROOT_CERT_VALIDITY_DAYS } from './x509-build.ts';
export { issueCertificate, type IssueOptions } from './x509-issue.ts';
export { parseCertificate, parseCertificateChain } from './x509-parse.ts';
export type { ParsedCertificate } from './x509-parse.ts';
export {
  checkCertificateValidity,
  isNearExpiry,
  certificateToTufKey,
  certificatesToTufKey,
  verifyChainToRoots,
} from './x509-verify.ts';
export { pemDecode, pemDecodeAll, pemEncode } from './pem.ts';
export type { PemBlock } from './pem.ts';
