/**
 * Public surface of src/client: the notary client rebuilt over src/tuf, src/crypto,
 * src/keystore and src/http.
 *
 * Write path (spec §9.4, §10.4, §11): the changelist (files byte-compatible with notary's),
 * applying staged changes, signing, the publish algorithm and `Repository` (init, publish,
 * key rotation, delete).
 */
export type { MetadataCache, RemoteStore, ResolvedTarget, TrustPinConfig, TrustedRepo } from './types.ts';

export {
  ChangeAction,
  ChangeType,
  FileChangelist,
  MemoryChangelist,
  changelistDir,
  decodeChange,
  encodeChange,
  type Change,
  type Changelist,
  type FileChangelistOptions,
} from './changelist.ts';
export {
  decodeDelegationData,
  decodeRootRoleData,
  decodeTargetData,
  encodeDelegationData,
  encodeRootRoleData,
  encodeTargetData,
  type DelegationData,
  type RootRoleData,
  type TargetData,
  type TargetInput,
} from './changelist-data.ts';
export {
  MIN_THRESHOLD,
  delegationAddChanges,
  delegationClearPathsChange,
  delegationDeleteChange,
  delegationKeysChange,
  delegationPathsChange,
  delegationPurgeChange,
  delegationRemoveChanges,
  delegationRemoveKeysChange,
  delegationRemovePathsChange,
  isWildDelegation,
  rootRoleChange,
  targetAddChanges,
  targetRemoveChanges,
  witnessChange,
  type NamedTarget,
} from './changelist-changes.ts';
export { addTargets, applyChanges, fileMetaEquals, removeTargets, replaceBaseKeys, witnessTargets, type ApplyOptions } from './changelist-apply.ts';
export { deleteDelegation, purgeDelegationKeys, removeUnusedKeys, updateDelegationKeys, updateDelegationPaths, type Warn } from './delegation-ops.ts';
export { legacyRootKeys, publishChanges, signForPublish, type PublishInput, type PublishResult } from './publish.ts';
export {
  InsufficientSignaturesError,
  InvalidLocalRoleError,
  InvalidRemoteRoleError,
  NoSigningKeysError,
  TargetsNotAddedError,
  UnsupportedChangeError,
} from './repo-errors.ts';
export { initializeRepo, type InitializeContext, type InitializeOptions, type InitializeResult } from './repo-init.ts';
export { MAX_METADATA_BYTES, editableFromTrusted, invalidRoleLoader, isRepositoryMissing, loadFromCache, type CacheLoadOptions } from './repo-load.ts';
export {
  EditableRepo,
  type DelegationEntry,
  type EditableRepoParts,
  type RoleEntry,
  type RootDraft,
  type TargetsDraft,
  type WalkStep,
  type DraftVisitor,
} from './repo-state.ts';
export { Repository, type PublishOutcome, type RepositoryOptions, type RotateKeyOptions } from './repo.ts';
export { sameRole, signRoot, signSnapshot, signTargets } from './sign-roles.ts';
export { KeyRing, signPayload, signWithRoles } from './sign.ts';

// Read path (spec §10): the trusted set (rules, no I/O), the updater, the metadata cache,
// target walks and trust pinning.
export { TrustedSet, TooManyRootRotationsError, MAX_DOWNLOAD_SIZE, MAX_TIMESTAMP_SIZE, isNearExpiry, nearExpiryWarnings, type TrustedSetOptions } from './trusted-set.ts';
export { Updater, UPDATER_DEFAULTS, loadTrustedRepo, type UpdaterConfig, type UpdaterOptions, type UpdateOptions } from './updater.ts';
export { RepositoryNotExistError } from './updater-errors.ts';
export { FileMetadataCache, MemoryMetadataCache, InvalidNameError, gunDir, metadataDir } from './cache.ts';
export {
  DOCKER_TARGET_ROLES,
  NoSuchTargetError,
  dockerDigest,
  getDockerTarget,
  getTargetByName,
  listDockerTargets,
  listTargets,
  walkTargets,
  type WalkRole,
} from './walk.ts';
export {
  describeRootKeys,
  pinnedCaFile,
  pinnedCertIds,
  pinningRuleFor,
  resolveTrustPinning,
  withCertPin,
  type FirstContactInfo,
  type PinningRule,
  type TrustedRootKey,
} from './pinning.ts';
