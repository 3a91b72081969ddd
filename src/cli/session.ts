/**
 * One run of a notary command: the config (flags + file), the log, and the client objects built
 * from them the way notary's `ConfigureRepo` / `getTransport` build them:
 *
 * - `remote(gun, access)`: ping the server (spec §7.4) with the TLS files of the config and
 *   `NOTARY_AUTH` credentials; when the ping fails, log notary's two lines
 *   (`could not reach <url>: …` at error, `continuing in offline mode` at info) and work
 *   offline, so remote calls fail with `client is offline`;
 * - `repository(gun, access)`: a `Repository` over the file key store, the GUN's metadata cache
 *   and changelist, and an `Updater` whose first contact with a GUN is reported on standard error
 *   (root key ID, certificate fingerprint, and the `vouch trust pin` command that pins it);
 *   `access: 'offline'` builds it without touching the network (notary's offline commands);
 * - passphrases come from `NOTARY_*` / `DOCKER_CONTENT_TRUST_*` variables or, on a terminal,
 *   from notary's prompts on standard output; with neither, the retriever refuses at once.
 *
 * Not safe for concurrent use; one per command run.
 */
import { join } from 'node:path';
import type { Readable } from 'node:stream';
// The read path only, statically: `Repository` (the write path) and the key store are loaded by
// the commands that use them, so that `vouch list` does not load signing, changelists or keys.
import { FileMetadataCache } from '../client/cache.ts';
import { resolveTrustPinning, type FirstContactInfo } from '../client/pinning.ts';
import type { Repository, TrustedRepo } from '../client/index.ts';
import { Updater } from '../client/updater.ts';
import { connectTrustServer, OfflineRemoteStore, parseNotaryAuth, type AccessLevel, type Credentials, type LocatedRemoteStore } from '../http/index.ts';
import type { FileKeyStore, PassphraseRetriever } from '../keystore/index.ts';
import { createPassphraseRetriever } from '../keystore/passphrase.ts';
import type { Invocation } from './command.ts';
import { loadClientConfig, type ClientConfig } from './config.ts';
import { lineByLine, readHiddenLine, readLine, type CliIo } from './io.ts';
import { CliLogger } from './log.ts';

export type Access = AccessLevel | 'offline';

/** notary waits this long for a username. */
const USERNAME_TIMEOUT_MS = 30_000;

/** The lines printed on standard error when a GUN's root was trusted for the first time. */
export function firstContactReport(info: FirstContactInfo): string {
  const lines: string[] = [];
  const how = info.trustedBy === 'tofu' ? 'trusted on first use' : info.trustedBy === 'certs' ? 'matches the pinned key' : 'chains to the pinned CA';
  lines.push(`First contact with ${info.gun}: root (version ${info.rootVersion}) ${how}.`);
  for (const k of info.keys) {
    lines.push(`  root key ID:             ${k.keyId}`);
    lines.push(`  certificate SHA-256:     ${k.certSha256}`);
    lines.push(`  certificate CN, expires: ${k.commonName}, ${k.notAfter.toISOString()}`);
  }
  const first = info.keys[0];
  if (info.trustedBy !== 'certs' && first !== undefined) {
    lines.push(`To accept only this root on the next first contact (a new machine, a fresh trust dir), run:`);
    lines.push(`  vouch trust pin ${info.gun} ${first.keyId}`);
  }
  return lines.join('\n') + '\n';
}

export class Session {
  readonly io: CliIo;
  readonly config: ClientConfig;
  readonly log: CliLogger;
  #keys: FileKeyStore | undefined;
  #promptInput: Readable | undefined;
  #asked: Promise<Credentials | undefined> | undefined;
  readonly #remotes = new Map<string, LocatedRemoteStore>();

  private constructor(io: CliIo, config: ClientConfig, log: CliLogger) {
    this.io = io;
    this.config = config;
    this.log = log;
  }

  /** Read the config for this invocation. @throws ConfigError (notary's texts) */
  static async open(inv: Invocation, o: { allowMissingConfig?: boolean } = {}): Promise<Session> {
    const log = new CliLogger(inv.io.stderr, CliLogger.levelFor(inv.globals), inv.io.now);
    const config = await loadClientConfig(inv.globals, { env: inv.io.env, cwd: inv.io.cwd }, { allowMissing: o.allowMissingConfig === true });
    for (const w of config.warnings) log.warn(w);
    log.debug(`Using the following trust directory: ${config.trustDir}`);
    return new Session(inv.io, config, log);
  }

  /**
   * Standard input for answers and passphrases, shared by every prompt of this run so that
   * none of them swallows the next one's line (see `lineByLine`).
   */
  get promptInput(): Readable {
    return (this.#promptInput ??= lineByLine(this.io.stdin));
  }

  /** A fresh passphrase retriever (a prompting one caches what it read, so `key passwd` needs two). */
  retriever(): PassphraseRetriever {
    return createPassphraseRetriever({ env: this.io.env, input: this.promptInput, output: this.io.stdout, isTTY: this.io.isTTY });
  }

  /** `<trust_dir>/private` as notary prints it (the key store's name in `key list`, `key remove`). */
  get keyStoreName(): string {
    return join(this.config.trustDirDisplay, 'private');
  }

  /** The key store under `<trust_dir>/private`. */
  async keyStore(): Promise<FileKeyStore> {
    if (this.#keys === undefined) {
      const { FileKeyStore } = await import('../keystore/client-file-store.ts');
      try {
        this.#keys = await FileKeyStore.open(this.config.trustDir, { retriever: this.retriever() });
      } catch (err) {
        throw new Error(`Failed to create private key store in directory: ${this.config.trustDirDisplay}`, { cause: err });
      }
    }
    return this.#keys;
  }

  /** The trust server for `gun` (offline after a failed ping, or when `access` is offline). */
  async remote(gun: string, access: Access): Promise<LocatedRemoteStore> {
    const url = this.config.serverUrl;
    if (access === 'offline') return new OfflineRemoteStore(hostOf(url));
    const key = `${gun}\u0000${access}`;
    const known = this.#remotes.get(key);
    if (known !== undefined) return known;
    const conn = await connectTrustServer({
      serverUrl: url,
      gun,
      access,
      tls: this.config.tls,
      credentials: () => this.credentials(),
    });
    if (!conn.online) {
      this.log.error(conn.offlineReason ?? `could not reach ${url}`);
      this.log.info('continuing in offline mode');
    }
    this.#remotes.set(key, conn.remote);
    return conn.remote;
  }

  /**
   * Credentials for the token server, as notary's password store finds them: `NOTARY_AUTH`
   * (base64 of `user:pass`), else asked once per run — `Enter username: ` and, when one is
   * given, `Enter password: ` without echo. Without a terminal the question is printed as
   * notary prints it but nothing is read (nothing could answer), so the run goes on without
   * credentials instead of waiting.
   */
  credentials(): Promise<Credentials | undefined> {
    const raw = this.io.env['NOTARY_AUTH'];
    if (raw !== undefined && raw !== '') {
      const creds = parseNotaryAuth(raw);
      if (creds === undefined) this.log.error('Malformatted authentication string; format must be <username>:<password>');
      return Promise.resolve(creds);
    }
    return (this.#asked ??= this.#askCredentials());
  }

  async #askCredentials(): Promise<Credentials | undefined> {
    this.io.stdout.write('Enter username: ');
    if (!this.io.isTTY) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => {
        this.log.error('timeout when retrieving username input');
        resolve(null);
      }, USERNAME_TIMEOUT_MS);
    });
    const username = ((await Promise.race([readLine(this.promptInput), timeout])) ?? '').trim();
    clearTimeout(timer);
    if (username === '') return undefined;
    this.io.stdout.write('Enter password: ');
    const password = (await readHiddenLine(this.promptInput)) ?? '';
    this.io.stdout.write('\n');
    return { username, password: password.trim() };
  }

  /** The updater's view of `gun` with notary's warnings and vouch's first-contact report. */
  updater(gun: string, remote: LocatedRemoteStore): Updater {
    return new Updater({
      gun,
      remote,
      cache: new FileMetadataCache(this.config.trustDir, gun),
      trustPinning: this.config.trustPinning(),
      now: this.io.now,
      location: remote.location,
      onWarning: (m) => this.log.warn(m),
      onFirstContact: (info) => this.io.stderr.write(firstContactReport(info)),
    });
  }

  /** `gun` as the server has it, verified (notary's read commands). */
  async trustedRepo(gun: string, access: Access = 'readOnly'): Promise<TrustedRepo> {
    return this.updater(gun, await this.remote(gun, access)).update();
  }

  /**
   * `trustedRepo` that returns as soon as the metadata verified, while the cache is written:
   * await `saved` before the command ends (see Updater.updateThenSave).
   */
  async trustedRepoThenSave(gun: string, access: Access = 'readOnly'): Promise<{ repo: TrustedRepo; saved: Promise<void> }> {
    return this.updater(gun, await this.remote(gun, access)).updateThenSave();
  }

  /** notary's repository object for `gun`. */
  async repository(gun: string, access: Access): Promise<Repository> {
    const { Repository } = await import('../client/repo.ts');
    const remote = await this.remote(gun, access);
    const keys = await this.keyStore();
    const pinConfig = this.config.trustPinning();
    const updater = this.updater(gun, remote);
    return new Repository({
      gun,
      trustDir: this.config.trustDir,
      remote,
      keys,
      cache: new FileMetadataCache(this.config.trustDir, gun),
      update: (forWrite) => updater.update({ forWrite }),
      now: this.io.now,
      trustPinning: await resolveTrustPinning(pinConfig, gun),
      warn: (m) => this.log.warn(m),
    });
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
