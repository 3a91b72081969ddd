/**
 * src/tuf: notary's TUF dialect as a pure library (STYLE.md §5). Bytes and a reference time in,
 * models or typed errors out; no fs, network, clock or logging. Signing happens outside: this
 * module builds payloads and their canonical bytes, callers sign and `assembleSigned`.
 *
 * - models: Envelope, Metadata, Root, Targets, Snapshot, Timestamp, file meta
 * - rules: verifySignatures/Version/Expiry, validateRoot, RepoBuilder, validateUpdate
 * - server generation: buildSnapshot, buildTimestamp, §6.4 checks
 */
export { RepoBuilder, type LoadOptions, type RepoBuilderOptions } from './builder.ts';
export type { BaseRole, DelegationRole, RoleSpec, SignedCommon } from './common.ts';
export { Envelope, assembleSigned, readSignedCommon } from './envelope.ts';
export {
  ChecksumMismatchError,
  InvalidKeyIdError,
  InvalidMetadataError,
  InvalidRoleError,
  MissingMetaError,
  NoSignaturesError,
  RootRotationError,
  RootValidationError,
  StoredMetadataError,
  ThresholdError,
} from './errors.ts';
export { checkHashes, fileMetaFor, hashesMatch, type FileMeta, type Hashes } from './file-meta.ts';
export { buildSnapshot, buildTimestamp, type Built } from './generate.ts';
export type { JsonObject } from './json.ts';
export { Metadata, type RoleModel } from './metadata.ts';
export {
  BASE_ROLES,
  TUF_TYPES,
  TopLevelRole,
  compareRoleDepth,
  expectedType,
  gunHasAllowedPrefix,
  isBaseRole,
  isDelegationName,
  isDirectChild,
  isTargetsRole,
  isValidGun,
  isValidRoleName,
  parentRole,
} from './roles.ts';
export { certBundleToKey, matchCommonNameToGun, validateRoot, type TrustPinning } from './root-validation.ts';
export { Root, type RootOptions } from './root.ts';
export {
  isSnapshotExpired,
  isTimestampExpired,
  loadCurrentRoot,
  needsNewTimestamp,
  readStoredSnapshot,
  readStoredTimestamp,
  snapshotChecksumHex,
  snapshotMatchesTimestamp,
  verifySnapshotForTimestamp,
} from './server-checks.ts';
export { Snapshot, Timestamp, type MetaFileOptions } from './snapshot.ts';
export { Targets, type DelegationSpec, type Delegations, type TargetsOptions } from './targets.ts';
export { DEFAULT_EXPIRY_MS, defaultExpiry, formatExpiredAt, formatGoTime, goTimeFromDate, goTimeToDate, isExpiredAt, parseGoTime, type GoTime } from './time.ts';
export {
  parsePreviousTimestamp,
  snapshotKeyMissingError,
  timestampKeyMissingError,
  validateUpdate,
  type SnapshotPlan,
  type UpdateInput,
  type UpdatePlan,
  type ValidatedUpdate,
} from './update.ts';
export { hasValidSignatures, isExpired, validSignerIds, verifyExpiry, verifySignatures, verifyVersion } from './verify.ts';
