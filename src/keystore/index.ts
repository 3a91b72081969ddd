export { sealPrivateKey, unsealPrivateKey, KEYWRAP_ALG, ENCRYPTION_ALG, PBES2_COUNT } from './seal.ts';
export { LocalCryptoService } from './local-crypto-service.ts';
export type { LocalCryptoServiceOptions } from './local-crypto-service.ts';
