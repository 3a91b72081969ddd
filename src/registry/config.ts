/**
 * Options of `createRegistryApp`, their defaults and limits (STYLE.md §6: every safety limit is
 * a named field with a default). Resolved once, then frozen.
 *
 * Example:
 *   const app = createRegistryApp({ storageDir: '/var/lib/vouch/registry', auth, policy });
 */
import type { AccessController } from '../auth/access.ts';
import { ConfigError } from '../errors/index.ts';
import type { TrustPolicy } from './policy.ts';
import type { RegistryStore } from './store/types.ts';

export interface RegistryLimits {
  /** Largest manifest accepted by PUT (413 above it). Spec: at least 4 MB should work. */
  readonly maxManifestBytes: number;
  /** Largest blob an upload may grow to. */
  readonly maxBlobBytes: number;
  /** Largest `n` honoured by tag listing and catalog (larger values are clamped). */
  readonly maxPageSize: number;
  /** Tags accepted in one `PUT /manifests/<digest>?tag=…` (414 above it). */
  readonly maxTagsPerPush: number;
}

export const DEFAULT_LIMITS: RegistryLimits = Object.freeze({
  maxManifestBytes: 4 * 1024 * 1024,
  maxBlobBytes: 64 * 1024 * 1024 * 1024,
  maxPageSize: 10_000,
  maxTagsPerPush: 64,
});

export interface RegistryOptions {
  /** Root of the filesystem storage (ignored when `store` is given). */
  readonly storageDir?: string;
  /** A store to use instead of the filesystem one (tests use the memory store). */
  readonly store?: RegistryStore;
  /** Flush bytes before they become visible (filesystem store; default true). */
  readonly sync?: boolean;
  /** Token (or other) access control; none means every request is allowed. */
  readonly auth?: AccessController;
  /** Content-trust enforcement; default allows everything. */
  readonly policy?: TrustPolicy;
  /** Whether DELETE of manifests, tags and blobs is allowed (default true). */
  readonly deleteEnabled?: boolean;
  readonly limits?: Partial<RegistryLimits>;
}

export function resolveLimits(partial: Partial<RegistryLimits> = {}): RegistryLimits {
  const known = new Set(Object.keys(DEFAULT_LIMITS));
  for (const k of Object.keys(partial)) if (!known.has(k)) throw new ConfigError(`registry limits: unknown key ${JSON.stringify(k)}`);
  const out = { ...DEFAULT_LIMITS, ...partial };
  for (const [k, v] of Object.entries(out)) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw new ConfigError(`registry limits: ${k} must be a positive integer`);
  }
  return Object.freeze(out);
}
