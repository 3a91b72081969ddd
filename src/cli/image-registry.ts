/**
 * What `vouch push`/`pull` share: reaching an image's registry the way docker does (Docker Hub
 * at `registry-1.docker.io`, TLS files from `<config dir>/tls/<host:port>/`, plain http allowed
 * for loopback registries, the credentials `docker login`/`vouch login` saved), whether content
 * trust is on (docker's `DOCKER_CONTENT_TRUST` reading, `--disable-content-trust`, and vouch's
 * `--sign`/`--verify`), and the names docker prints.
 *
 * Environment knobs (not docker's): `VOUCH_MAX_CONCURRENT` (blobs in flight) and
 * `VOUCH_UPLOAD_MODE` (`stream`, docker's default; `monolithic`; `chunked`).
 *
 * @example
 *   const client = await connectRegistry(inv.session, ref, ['pull']);
 *   if (contentTrust(inv, 'verify')) …
 */
import { RegistryClient, type UploadMode } from '../image/index.ts';
import type { Env } from './io.ts';
import type { TrustInvocation } from './trust-cli.ts';
import { dockerTlsOptions } from './trust-config.ts';
import { DOCKER_HUB_DOMAIN, isInsecureRegistry, type ImageRef } from './trust-ref.ts';
import type { TrustSession } from './trust-session.ts';

export const DOCKER_HUB_REGISTRY = 'registry-1.docker.io';
export const USER_AGENT = 'vouch/0.1.0 (docker-compatible)';

/** The host serving the registry API for `ref`. */
export function registryHost(ref: ImageRef): string {
  return ref.official ? DOCKER_HUB_REGISTRY : ref.domain;
}

/** docker's FamiliarName: `alpine` for `docker.io/library/alpine`, `user/app` for `docker.io/user/app`, else the full name. */
export function familiarName(ref: ImageRef): string {
  if (ref.domain !== DOCKER_HUB_DOMAIN) return ref.gun;
  return ref.path.startsWith('library/') && ref.path.split('/').length === 2 ? ref.path.slice('library/'.length) : ref.path;
}

/**
 * docker's content-trust switch: `DOCKER_CONTENT_TRUST` is on for any value but one Go's
 * ParseBool reads as false (`0`, `f`, `false`, …) or the empty string.
 */
export function contentTrustFromEnv(env: Env): boolean {
  const v = env['DOCKER_CONTENT_TRUST'];
  if (v === undefined || v === '') return false;
  return !['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v);
}

/**
 * Whether this run signs (push) or verifies (pull): `--disable-content-trust` off, `--sign` /
 * `--verify` on, else the environment.
 * @throws Error when both switches are given
 */
export function contentTrust(inv: TrustInvocation, enableFlag: 'sign' | 'verify'): boolean {
  const disable = inv.flags['disable-content-trust'] === true;
  const enable = inv.flags[enableFlag] === true;
  if (disable && enable) throw new Error(`conflicting options: --${enableFlag} and --disable-content-trust`);
  if (disable) return false;
  return enable || contentTrustFromEnv(inv.io.env);
}

/**
 * Blobs in flight: 8 for a push, 4 for a pull by default (measured against docker-registry on
 * loopback: uploads gain from the registry hashing and writing several at once, downloads lose
 * to disk contention past 4); `VOUCH_MAX_CONCURRENT` sets both.
 */
export function transferConcurrency(env: Env, direction: 'push' | 'pull'): number {
  const n = Number(env['VOUCH_MAX_CONCURRENT'] ?? '');
  if (Number.isInteger(n) && n > 0) return n;
  return direction === 'push' ? 8 : 4;
}

/** `VOUCH_UPLOAD_MODE` (stream, monolithic, chunked), for registries that need one. */
function uploadMode(env: Env): UploadMode | undefined {
  const mode = env['VOUCH_UPLOAD_MODE'];
  return mode === 'stream' || mode === 'monolithic' || mode === 'chunked' ? mode : undefined;
}

/**
 * A registry client for `ref`'s repository with docker's transport settings and credentials.
 * @throws RegistryError when the registry cannot be reached
 */
export async function connectRegistry(session: TrustSession, ref: ImageRef, actions: readonly string[]): Promise<RegistryClient> {
  const host = registryHost(ref);
  const insecure = await isInsecureRegistry(ref.domain);
  const tls = await dockerTlsOptions(session.configDir, host, insecure);
  const auth = await session.auth(ref);
  const mode = uploadMode(session.io.env);
  return RegistryClient.connect({
    host,
    repository: ref.path,
    actions,
    tls,
    insecure,
    ...(auth === undefined ? {} : { credentials: auth }),
    http: { userAgent: USER_AGENT, maxSockets: Math.max(transferConcurrency(session.io.env, 'push'), transferConcurrency(session.io.env, 'pull')) + 4 },
    ...(mode === undefined ? {} : { uploadMode: mode }),
  });
}
