/**
 * Public surface of src/auth: access control for the trust server (and later the registry and
 * token service). `AccessController` decides; routes only name the accesses they need.
 */
export {
  AuthChallengeError,
  repositoryAccess,
  catalogAccess,
  scopeParam,
  grantsCover,
  accessDetail,
} from './access.ts';
export type { Access, ResourceActions, AuthRequest, Grant, ChallengeReason, AccessController } from './access.ts';
export { TokenAccessController, TOKEN_LEEWAY_SECONDS } from './token.ts';
export type { TokenControllerOptions, TokenAuthSettings } from './token.ts';
export { loadRootCertBundle, parseCertBundle, verifyChain, libtrustKeyId } from './x509-chain.ts';
