export { sealPrivateKey, unsealPrivateKey, KEYWRAP_ALG, ENCRYPTION_ALG, PBES2_COUNT } from './seal.ts';
export { LocalCryptoService } from './local-crypto-service.ts';
export { UnsealedKeys } from './unsealed-keys.ts';
export type { UnsealedKeysOptions } from './unsealed-keys.ts';
export type { LocalCryptoServiceOptions } from './local-crypto-service.ts';
export type { ClientKeyStore, KeyInfo, PassphraseRetriever } from './client-types.ts';
export { FileKeyStore, decryptKeyFile, DEFAULT_MAX_PASSPHRASE_ATTEMPTS, PRIVATE_SUBDIR } from './client-file-store.ts';
export type { FileKeyStoreOptions, StoredKey, DecryptOptions } from './client-file-store.ts';
export { importKeys, exportKeys, loadKeyFile, DEFAULT_IMPORT_ROLE } from './client-key-transfer.ts';
export type { ImportOptions, ImportResult, ExportFilter, LoadKeyOptions } from './client-key-transfer.ts';
export { migrateLegacyKeyLayout } from './client-migrate.ts';
export type { MigrationReport } from './client-migrate.ts';
export {
  encodePrivateKeyPem,
  decodePrivateKeyPem,
  readPrivateKeyAttributes,
  encodePublicKeyPem,
  decodePublicKeyPem,
  encodePemBlock,
  roleKeepsGun,
} from './key-file.ts';
export type { PrivateKeyPemOptions, PrivateKeyAttributes, DecodedPrivateKeyPem } from './key-file.ts';
export { WRONG_PASSPHRASE_MESSAGE } from './key-file-pkcs8.ts';
export { createPassphraseRetriever } from './passphrase.ts';
export type { PassphraseRetrieverOptions } from './passphrase.ts';
export { envPassphraseRetriever, envPassphrase, passphraseEnvNames } from './passphrase-env.ts';
export type { PassphraseEnv } from './passphrase-env.ts';
export { terminalPassphraseRetriever, DOCKER_ALIAS_MAP, ROOT_KEY_GENERATION_WARNING } from './passphrase-terminal.ts';
export type { TerminalPassphraseOptions } from './passphrase-terminal.ts';
