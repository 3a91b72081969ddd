/**
 * One run of a `vouch trust` command: the docker CLI's view of the world (spec §12.1) built
 * from src/client, src/http and src/keystore:
 *
 * - trust dir `<docker config dir>/trust` (`$DOCKER_CONFIG` relocates it; `-d` overrides it);
 * - the trust server of an image reference (`DOCKER_CONTENT_TRUST_SERVER`, else the registry),
 *   reached with docker's TLS files and the registry's credentials from `config.json`; a ping
 *   that fails is not fatal (docker only logs it), later requests report the failure;
 * - passphrases from `DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE` /
 *   `DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE`, else docker's prompts on a terminal;
 * - trust on first use, no pinning (docker passes an empty pin config);
 * - `notaryError`: docker's wording of notary errors (`Error: remote trust data does not exist
 *   for R: …`).
 *
 * Not safe for concurrent use; one per command run.
 */
import { Repository, type TrustedRepo } from '../client/index.ts';
import { FileMetadataCache } from '../client/cache.ts';
import { Updater } from '../client/updater.ts';
import { NoSigningKeysError, InsufficientSignaturesError } from '../client/repo-errors.ts';
import { RepositoryNotExistError } from '../client/updater-errors.ts';
import { BadVersionError, ExpiredMetadataError, KeyNotFoundError } from '../errors/index.ts';
import {
  connectTrustServer,
  HttpRemoteStore,
  MetaNotFoundError,
  NetworkError,
  NodeFetcher,
  AuthorizingFetcher,
  ACCESS_ACTIONS,
  TokenAuthenticator,
  type AccessLevel,
  type Credentials,
  type LocatedRemoteStore,
} from '../http/index.ts';
import { createPassphraseRetriever, DOCKER_ALIAS_MAP, FileKeyStore, type PassphraseRetriever } from '../keystore/index.ts';
import { RootRotationError, RootValidationError, ThresholdError } from '../tuf/index.ts';
import type { CliIo } from './io.ts';
import { RefreshTokenFetcher } from './trust-auth.ts';
import { dockerConfigDir, dockerTlsOptions, dockerTrustDir, registryAuth, type RegistryAuth } from './trust-config.ts';
import { authKeyFor, isInsecureRegistry, trustServerFor, type ImageRef } from './trust-ref.ts';

export interface TrustSessionOptions {
  /** `-d`: a trust dir instead of `<docker config dir>/trust`. */
  readonly trustDir?: string;
}

/** A connection to the trust server for one GUN. */
export interface TrustRemote {
  readonly ref: ImageRef;
  readonly serverUrl: string;
  readonly remote: LocatedRemoteStore;
}

export class TrustSession {
  readonly io: CliIo;
  readonly configDir: string;
  readonly trustDir: string;
  #keys: FileKeyStore | undefined;
  readonly #auth = new Map<string, Promise<RegistryAuth | undefined>>();

  constructor(io: CliIo, o: TrustSessionOptions = {}) {
    this.io = io;
    this.configDir = dockerConfigDir(io.env, io.cwd);
    this.trustDir = o.trustDir ?? dockerTrustDir(this.configDir);
  }

  /** docker's passphrase retriever (env variables, else prompts on a terminal). */
  retriever(): PassphraseRetriever {
    return createPassphraseRetriever({ env: this.io.env, input: this.io.stdin, output: this.io.stdout, isTTY: this.io.isTTY, aliasMap: DOCKER_ALIAS_MAP });
  }

  async keyStore(): Promise<FileKeyStore> {
    this.#keys ??= await FileKeyStore.open(this.trustDir, { retriever: this.retriever() });
    return this.#keys;
  }

  /** The registry credentials docker would use for `ref` (config.json, helpers). */
  auth(ref: ImageRef): Promise<RegistryAuth | undefined> {
    const key = authKeyFor(ref);
    let p = this.#auth.get(key);
    if (p === undefined) {
      p = registryAuth(this.configDir, key);
      this.#auth.set(key, p);
    }
    return p;
  }

  /**
   * The trust server for `ref` with a `pull` or `push,pull` token scope.
   * @throws Error for a bad DOCKER_CONTENT_TRUST_SERVER or unusable TLS files
   */
  async connect(ref: ImageRef, access: AccessLevel): Promise<TrustRemote> {
    const serverUrl = trustServerFor(ref, this.io.env);
    const host = new URL(serverUrl).host;
    const insecure = await isInsecureRegistry(ref.domain);
    const auth = await this.auth(ref);
    const node = new NodeFetcher(await dockerTlsOptions(this.configDir, host, insecure));
    // an identity token (OAuth2 refresh token) from `docker login` answers Bearer challenges below the usual authenticator
    const fetcher = auth !== undefined && auth.identityToken !== '' ? new RefreshTokenFetcher(node, { refreshToken: auth.identityToken, scope: `repository:${ref.gun}:${ACCESS_ACTIONS[access].join(',')}` }) : node;
    const credentials = (): Credentials | undefined => (auth === undefined || auth.username === '' || auth.identityToken !== '' ? undefined : { username: auth.username, password: auth.password });
    const conn = await connectTrustServer({ serverUrl, gun: ref.gun, access, fetcher, credentials });
    let remote = conn.remote;
    if (!conn.online) {
      // docker logs a failed ping at debug level and goes on: requests then fail with the real cause
      const authn = new TokenAuthenticator({ fetcher, gun: ref.gun, access, credentials });
      remote = new HttpRemoteStore({ serverUrl: serverUrl.replace(/\/+$/, ''), gun: ref.gun, fetcher: new AuthorizingFetcher(fetcher, authn) });
    }
    return { ref, serverUrl, remote };
  }

  updater(gun: string, remote: LocatedRemoteStore): Updater {
    return new Updater({ gun, remote, cache: new FileMetadataCache(this.trustDir, gun), now: this.io.now, location: remote.location });
  }

  /** The verified repository as docker reads it (not for write). */
  trusted(conn: TrustRemote): Promise<TrustedRepo> {
    return this.updater(conn.ref.gun, conn.remote).update();
  }

  async repository(conn: TrustRemote): Promise<Repository> {
    const updater = this.updater(conn.ref.gun, conn.remote);
    return new Repository({
      gun: conn.ref.gun,
      trustDir: this.trustDir,
      remote: conn.remote,
      keys: await this.keyStore(),
      cache: new FileMetadataCache(this.trustDir, conn.ref.gun),
      update: (forWrite) => updater.update({ forWrite }),
      now: this.io.now,
    });
  }
}

/** The message docker prints for an error (notary's own text where the library kept it). */
export function messageOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const notary = (err as { notaryMessage?: unknown }).notaryMessage;
  return typeof notary === 'string' ? notary : err.message;
}

/** docker's trust.NotaryError: notary's errors reworded for a repository. */
export function notaryError(repoName: string, err: unknown): Error {
  const m = messageOf(err);
  const wrap = (text: string): Error => new Error(text, { cause: err });
  if (err instanceof ExpiredMetadataError) return wrap(`Error: remote repository ${repoName} out-of-date: ${m}`);
  if (err instanceof KeyNotFoundError) return wrap(`Error: signing keys for remote repository ${repoName} not found: ${m}`);
  if (err instanceof NetworkError) return wrap(`Error: error contacting notary server: ${m}`);
  if (err instanceof RepositoryNotExistError) return wrap(`Error: remote trust data does not exist for ${repoName}: ${m}`);
  if (err instanceof MetaNotFoundError) return wrap(`Error: trust data missing for remote repository ${repoName} or remote repository not found: ${m}`);
  if (err instanceof RootRotationError || err instanceof RootValidationError) {
    return wrap(`Warning: potential malicious behavior - trust data mismatch for remote repository ${repoName}: ${m}`);
  }
  if (err instanceof NoSigningKeysError) return wrap(`Error: could not find signing keys for remote repository ${repoName}, or could not decrypt signing key: ${m}`);
  if (err instanceof BadVersionError) return wrap(`Warning: potential malicious behavior - trust data version is lower than expected for remote repository ${repoName}: ${m}`);
  if (err instanceof ThresholdError) return wrap(`Warning: potential malicious behavior - trust data has insufficient signatures for remote repository ${repoName}: ${m}`);
  if (err instanceof InsufficientSignaturesError) {
    return wrap(`Error: could not produce valid signature for ${repoName}.  If Yubikey was used, was touch input provided?: ${m}`);
  }
  return err instanceof Error ? err : new Error(m);
}
