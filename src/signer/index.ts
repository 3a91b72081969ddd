/**
 * Public surface of src/signer: notary-signer's gRPC API served by vouch (`SignerKeyService`
 * behind `startSignerServer`) and used by the trust server (`RemoteCryptoService`, spec §8).
 * Only src/bin picks the key store and wires config to these.
 */
export { SignerKeyService, SigningFailedError, SIGNER_ALGORITHMS, isSignerAlgorithm } from './key-service.ts';
export type { SignerKeyServiceOptions, SignerAlgorithm, HeldKey, SignResult } from './key-service.ts';
export { startSignerServer, signerHandlers } from './signer-server.ts';
export type { SignerServerOptions, SignerTlsMaterial, SignerLogger, RunningSigner } from './signer-server.ts';
export { RemoteCryptoService, RemoteSignerError } from './remote-crypto-service.ts';
export type { RemoteCryptoServiceOptions } from './remote-crypto-service.ts';
export { HEALTH_KEY_MANAGEMENT, HEALTH_SIGNER, HEALTH_OVERALL } from './services.ts';
export { ProtoDecodeError, ServingStatus } from './proto.ts';
