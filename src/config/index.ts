/**
 * Public surface of src/config: one schema per binary, validated at startup, deep-frozen.
 */
export {
  loadServerConfig,
  parseServerConfig,
  parseListenAddress,
  DEFAULT_MAX_UPLOAD_BYTES,
  DEFAULT_CURRENT_MAX_AGE,
  DEFAULT_CONSISTENT_MAX_AGE,
  MAX_CACHE_MAX_AGE,
  KEY_PASSPHRASE_ENV,
  SERVER_ENV_PREFIX,
} from './server-config.ts';
export type { ServerConfig, ServerTlsConfig, TokenAuthConfig, LogLevel, StorageBackend, KeyAlgorithm, LoadOptions } from './server-config.ts';
export { readConfigFile, lowercaseKeys, walkSchema, deepFreeze } from './load.ts';
export type { SchemaNode, LeafKind } from './load.ts';
