/**
 * The notary-server HTTP API as the client sees it (spec §5.1–5.3): `HttpRemoteStore` implements
 * the client's `RemoteStore` contract (src/client/types.ts) over a `Fetcher`, and
 * `connectTrustServer` does what the notary CLI does before any remote operation (spec §7.4):
 * ping `GET /v2/` with a 5 s timeout, learn the auth challenge, and fall back to an
 * `OfflineRemoteStore` (every call fails with `client is offline`) when the ping fails or
 * answers anything but 2xx/401.
 *
 * Status mapping (notary's translateStatusToError): 200 ok; 404 → MetaNotFoundError; 400 →
 * RemoteValidationError (validation detail re-hydrated) or InvalidOperationError; anything else
 * → ServerUnavailableError. Metadata reads take a size limit (notary: 100 MiB when unknown).
 *
 * Placement: this file implements a client contract but lives in src/http with the rest of the
 * wire client (as the brief asks); it imports client types only (`import type`) and crypto for
 * key JSON.
 *
 * @example
 *   const { remote, online } = await connectTrustServer({ serverUrl: 'https://127.0.0.1:4443', gun, access: 'readOnly', tls: { rootCA: 'ca.crt' } });
 *   const root = await remote.getMeta('root', MAX_DOWNLOAD_SIZE);
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { keyFromJSON } from '../crypto/index.ts';
import type { TufKey } from '../crypto/types.ts';
import { ConfigError, DeserializationError } from '../errors/index.ts';
import type { RemoteStore } from '../client/types.ts';
import { NetworkError, OfflineError, errorForStatus } from './client-errors.ts';
import { NodeFetcher, type FetchResponse, type Fetcher, type NodeFetcherOptions } from './fetcher.ts';
import { escapeGoPath } from './go-path.ts';
import { AuthorizingFetcher, TokenAuthenticator, credentialsFromEnv, type AccessLevel, type CredentialsProvider } from './token-auth.ts';
import { trustPaths } from './trust-routes.ts';

/** notary.MaxDownloadSize: the cap when the size is unknown. */
export const MAX_DOWNLOAD_SIZE = 100 << 20;
/** notary's MaxKeySize for key endpoint responses. */
export const MAX_KEY_SIZE = 256 << 10;
/** The ping's timeout (notary's pingClient). */
export const PING_TIMEOUT_MS = 5_000;

/** A RemoteStore that can say where it points (`<host:port>`, for notary's error texts). */
export interface LocatedRemoteStore extends RemoteStore {
  readonly location: string;
}

export interface HttpRemoteStoreOptions {
  /** `https://host:port` with an optional path prefix. */
  readonly serverUrl: string;
  readonly gun: string;
  readonly fetcher: Fetcher;
}

function stripSlashes(url: string): string {
  return url.replace(/\/+$/, '');
}

export class HttpRemoteStore implements LocatedRemoteStore {
  readonly gun: string;
  readonly location: string;
  readonly #base: string;
  readonly #fetcher: Fetcher;

  constructor(o: HttpRemoteStoreOptions) {
    const u = new URL(o.serverUrl);
    this.gun = o.gun;
    this.location = u.host;
    this.#base = stripSlashes(o.serverUrl);
    this.#fetcher = o.fetcher;
  }

  #url(path: string): string {
    return this.#base + escapeGoPath(path);
  }

  async #send(method: string, path: string, resource: string, maxLength: number, body?: Uint8Array, headers?: Record<string, string>): Promise<FetchResponse> {
    const req = { method, url: this.#url(path), maxLength, resource, ...(body === undefined ? {} : { body }), ...(headers === undefined ? {} : { headers }) };
    const res = await this.#fetcher.fetch(req);
    if (res.status !== 200) throw errorForStatus(res.status, resource, res.body);
    return res;
  }

  /**
   * GET `<role>.json`, `<role>.<sha256hex>.json` or `<version>.<role>.json`, at most `maxLength`
   * bytes (a non-finite or negative limit means notary's 100 MiB).
   * @throws MetaNotFoundError (404), DownloadError subclasses (other statuses, transport, oversize)
   */
  async getMeta(role: string, maxLength: number, by: { checksum?: string; version?: number } = {}): Promise<Uint8Array> {
    let path: string;
    let resource: string;
    if (by.checksum !== undefined) {
      if (!/^[0-9a-fA-F]+$/.test(by.checksum)) throw new TypeError(`invalid checksum ${JSON.stringify(by.checksum)}`);
      path = trustPaths.byChecksum(this.gun, role, by.checksum);
      resource = `${role}.${by.checksum}`;
    } else if (by.version !== undefined) {
      if (!Number.isSafeInteger(by.version) || by.version < 0) throw new TypeError(`invalid version ${by.version}`);
      path = trustPaths.byVersion(this.gun, role, by.version);
      resource = `${by.version}.${role}`;
    } else {
      path = trustPaths.current(this.gun, role);
      resource = role;
    }
    const limit = Number.isFinite(maxLength) && maxLength >= 0 ? Math.min(maxLength, MAX_DOWNLOAD_SIZE) : MAX_DOWNLOAD_SIZE;
    return (await this.#send('GET', path, resource, limit)).body;
  }

  /** POST every part as one multipart upload (spec §6.1): field `files`, filename = role. */
  async publish(parts: ReadonlyMap<string, Uint8Array>): Promise<void> {
    const { body, contentType } = multipartUpload(parts);
    await this.#send('POST', trustPaths.publish(this.gun), 'POST metadata endpoint', MAX_KEY_SIZE, body, { 'Content-Type': contentType });
  }

  async getKey(role: 'snapshot' | 'timestamp'): Promise<TufKey> {
    return parseKey(role, (await this.#send('GET', trustPaths.key(this.gun, role), `${role} key`, MAX_KEY_SIZE)).body);
  }

  async rotateKey(role: 'snapshot' | 'timestamp'): Promise<TufKey> {
    return parseKey(role, (await this.#send('POST', trustPaths.key(this.gun, role), `${role} key`, MAX_KEY_SIZE)).body);
  }

  async deleteAll(): Promise<void> {
    await this.#send('DELETE', trustPaths.publish(this.gun), 'DELETE metadata for GUN endpoint', MAX_KEY_SIZE);
  }
}

function parseKey(role: string, body: Uint8Array): TufKey {
  try {
    return keyFromJSON(JSON.parse(new TextDecoder().decode(body)));
  } catch (err) {
    throw new DeserializationError(`${role} key: invalid public key from server`, { cause: err });
  }
}

/** Go's mime/multipart quoting of a filename. */
function quoteFilename(name: string): string {
  return name.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

/** The multipart/form-data body notary's client sends for a publish (Go's multipart.Writer layout). */
export function multipartUpload(parts: ReadonlyMap<string, Uint8Array>, boundary = randomBytes(30).toString('hex')): { body: Uint8Array; contentType: string } {
  const enc = new TextEncoder();
  const chunks: Uint8Array[] = [];
  let first = true;
  for (const [role, data] of parts) {
    const head =
      `${first ? '' : '\r\n'}--${boundary}\r\n` +
      `Content-Disposition: form-data; name="files"; filename="${quoteFilename(role)}"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n';
    chunks.push(enc.encode(head), data);
    first = false;
  }
  chunks.push(enc.encode(`${first ? '' : '\r\n'}--${boundary}--\r\n`));
  return { body: new Uint8Array(Buffer.concat(chunks)), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** Every call fails with `client is offline` (notary's OfflineStore). */
export class OfflineRemoteStore implements LocatedRemoteStore {
  readonly location: string;
  constructor(location = 'offline') {
    this.location = location;
  }
  getMeta(_role: string, _maxLength: number, _by?: { checksum?: string; version?: number }): Promise<Uint8Array> {
    return Promise.reject(new OfflineError());
  }
  publish(_parts: ReadonlyMap<string, Uint8Array>): Promise<void> {
    return Promise.reject(new OfflineError());
  }
  getKey(_role: 'snapshot' | 'timestamp'): Promise<TufKey> {
    return Promise.reject(new OfflineError());
  }
  rotateKey(_role: 'snapshot' | 'timestamp'): Promise<TufKey> {
    return Promise.reject(new OfflineError());
  }
  deleteAll(): Promise<void> {
    return Promise.reject(new OfflineError());
  }
}

/** The `remote_server` TLS settings of the client config (spec §9.5), as file paths. */
export interface ClientTlsFiles {
  readonly rootCA?: string;
  readonly clientCert?: string;
  readonly clientKey?: string;
  readonly skipTLSVerify?: boolean;
}

/**
 * Read the TLS files into fetcher options.
 * @throws ConfigError `unable to configure TLS: …` (unreadable file, cert without key)
 */
export async function loadTlsOptions(tls: ClientTlsFiles = {}): Promise<NodeFetcherOptions> {
  if ((tls.clientCert === undefined || tls.clientCert === '') !== (tls.clientKey === undefined || tls.clientKey === '')) {
    throw new ConfigError('either pass both client key and cert, or neither');
  }
  const read = async (file: string | undefined): Promise<Uint8Array | undefined> => {
    if (file === undefined || file === '') return undefined;
    try {
      return new Uint8Array(await readFile(file));
    } catch (err) {
      throw new ConfigError(`unable to configure TLS: ${(err as Error).message}`, { cause: err });
    }
  };
  const [ca, cert, key] = await Promise.all([read(tls.rootCA), read(tls.clientCert), read(tls.clientKey)]);
  return {
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    ...(tls.skipTLSVerify === true ? { skipTLSVerify: true } : {}),
  };
}

export interface ConnectOptions {
  readonly serverUrl: string;
  readonly gun: string;
  /** Which token scope to ask for: `pull`, `push,pull` or `*`. */
  readonly access: AccessLevel;
  readonly tls?: ClientTlsFiles;
  /** Base fetcher (default: a NodeFetcher with the TLS files). */
  readonly fetcher?: Fetcher;
  /** Default: `NOTARY_AUTH` from the environment. */
  readonly credentials?: CredentialsProvider;
  /** Milliseconds clock for token expiry. */
  readonly now?: () => number;
}

export interface TrustServerConnection {
  readonly remote: LocatedRemoteStore;
  readonly online: boolean;
  /** Why the client went offline (for a warning), when it did. */
  readonly offlineReason?: string;
}

/**
 * Ping the server and build the remote store (spec §7.4): a network/TLS error or a status
 * other than 2xx/401 means offline mode; a 401 challenge sets up token (or basic) auth.
 * @throws ConfigError for unusable TLS settings or URL
 */
export async function connectTrustServer(o: ConnectOptions): Promise<TrustServerConnection> {
  let url: URL;
  try {
    url = new URL(o.serverUrl);
  } catch (err) {
    throw new ConfigError(`Trust server url has to be in the form of http(s)://URL:PORT. Got: ${o.serverUrl}`, { cause: err });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`Trust server url has to be in the form of http(s)://URL:PORT. Got: ${o.serverUrl}`);
  }
  const base = o.fetcher ?? new NodeFetcher(await loadTlsOptions(o.tls));
  const serverUrl = stripSlashes(o.serverUrl);
  let ping: FetchResponse;
  try {
    ping = await base.fetch({ url: `${serverUrl}/v2/`, maxLength: MAX_KEY_SIZE, timeoutMs: PING_TIMEOUT_MS, resource: 'ping' });
  } catch (err) {
    const reason = err instanceof NetworkError || err instanceof Error ? err.message : String(err);
    return { remote: new OfflineRemoteStore(url.host), online: false, offlineReason: `could not reach ${o.serverUrl}: ${reason}` };
  }
  if ((ping.status < 200 || ping.status >= 300) && ping.status !== 401) {
    return { remote: new OfflineRemoteStore(url.host), online: false, offlineReason: `could not reach ${o.serverUrl}: ${ping.status}` };
  }
  const authn = new TokenAuthenticator({
    fetcher: base,
    gun: o.gun,
    access: o.access,
    credentials: o.credentials ?? credentialsFromEnv(),
    ...(o.now === undefined ? {} : { now: o.now }),
  });
  authn.learn(ping.headers['www-authenticate']);
  return { remote: new HttpRemoteStore({ serverUrl, gun: o.gun, fetcher: new AuthorizingFetcher(base, authn) }), online: true };
}
