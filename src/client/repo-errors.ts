/**
 * Errors of the client write path, with notary's messages (the CLI prints them after
 * `* fatal: `). Bad data from the server keeps the src/tuf and src/errors classes; role-name
 * misuse uses src/tuf's `InvalidRoleError` (notary's ErrInvalidRole), as notary does.
 */
import { StateError, VouchError } from '../errors/index.ts';

/**
 * None of a role's keys is held locally (notary's ErrNoKeys):
 * `could not find necessary signing keys, at least one of these keys must be available: <ids>`.
 */
export class NoSigningKeysError extends VouchError {
  /** Canonical key IDs of the role's keys. */
  readonly keyIds: readonly string[];
  constructor(keyIds: readonly string[], options?: ErrorOptions) {
    super('KEY_NOT_FOUND', `could not find necessary signing keys, at least one of these keys must be available: ${keyIds.join(', ')}`, options);
    this.keyIds = keyIds;
  }
}

/** Fewer held keys than the role's threshold (notary's ErrInsufficientSignatures). */
export class InsufficientSignaturesError extends VouchError {
  readonly foundKeys: number;
  readonly neededKeys: number;
  /** Canonical IDs of the role keys that are not held. */
  readonly missingKeyIds: readonly string[];
  constructor(foundKeys: number, neededKeys: number, missingKeyIds: readonly string[], options?: ErrorOptions) {
    const candidates = missingKeyIds.length > 0 ? ` (${missingKeyIds.join(', ')})` : '';
    super(
      'KEY_NOT_FOUND',
      foundKeys === 0
        ? `signing keys not available: need ${neededKeys} keys from ${missingKeyIds.length} possible keys${candidates}`
        : `not enough signing keys: found ${foundKeys} of ${neededKeys} needed keys - ${missingKeyIds.length} other possible keys${candidates}`,
      options,
    );
    this.foundKeys = foundKeys;
    this.neededKeys = neededKeys;
    this.missingKeyIds = missingKeyIds;
  }
}

/** A staged target could not be added: its name is outside the role's paths (notary: `Could not add all targets`). */
export class TargetsNotAddedError extends StateError {
  constructor(options?: ErrorOptions) {
    super('Could not add all targets', options);
  }
}

/** A staged change notary cannot apply (unknown scope, type or action). */
export class UnsupportedChangeError extends StateError {}

/** `notary does not permit the server managing the <role> key` */
export class InvalidRemoteRoleError extends StateError {
  readonly role: string;
  constructor(role: string) {
    super(`notary does not permit the server managing the ${role} key`);
    this.role = role;
  }
}

/** `notary does not permit the client managing the <role> key` */
export class InvalidLocalRoleError extends StateError {
  readonly role: string;
  constructor(role: string) {
    super(`notary does not permit the client managing the ${role} key`);
    this.role = role;
  }
}
