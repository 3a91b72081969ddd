/**
 * A client for one repository of an OCI distribution registry (Distribution Spec v1.1, as
 * docker's and skopeo's clients use it), for moving images:
 *
 * - `RegistryClient.connect`: `GET /v2/` over https, and — for an insecure (loopback) registry
 *   whose https fails to connect — over http, as docker does; the 401 there names the auth;
 * - blobs: `hasBlob` (HEAD), `openBlob` (GET, redirects followed without credentials to other
 *   hosts; the caller verifies the stream), `pushBlob` (HEAD first; then a cross-repository
 *   mount when asked, else an upload: `stream` = POST, one PATCH with the whole body, PUT —
 *   docker's way; `monolithic` = POST, PUT with the body; `chunked` = POST, PATCHes of
 *   `chunkSize` bytes with Content-Range, PUT);
 * - manifests: `getManifest` (by tag or digest; the bytes must hash to the digest asked for,
 *   and to `Docker-Content-Digest` when the registry sends one), `resolveTag` (HEAD),
 *   `putManifest` (by tag or digest).
 *
 * Every request carries the token for the repository's scope (`pull` or `pull,push`; a mount
 * adds `pull` on the source repository); a 401 teaches the challenge and the request is sent
 * once more. Errors: `RegistryNotFoundError`, `RegistryAuthError`, `RegistryError`, with
 * docker's wording (`manifest unknown: manifest unknown`).
 *
 * @example
 *   const c = await RegistryClient.connect({ host: '127.0.0.1:5000', repository: 'app', actions: ['pull'], insecure: true });
 *   const m = await c.getManifest('v1');
 */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { digestOf, type Descriptor, type Digest } from './digest.ts';
import { RegistryAuthError, RegistryError, RegistryNotFoundError } from './errors.ts';
import { discardBody, errorOf, header, HttpClient, readBody, type HttpClientOptions, type HttpRequest, type TlsOptions } from './http.ts';
import { MANIFEST_ACCEPT } from './manifest.ts';
import { RegistryAuthorizer, type RegistryCredentials } from './registry-auth.ts';

export const MAX_MANIFEST_BYTES = 4 << 20;
const MAX_REDIRECTS = 5;

export type UploadMode = 'stream' | 'monolithic' | 'chunked';

export interface RegistryClientOptions {
  /** Registry API host (`host:port`; `registry-1.docker.io` for Docker Hub). */
  readonly host: string;
  /** Repository path in the registry (`library/alpine`). */
  readonly repository: string;
  /** `['pull']` or `['pull', 'push']`. */
  readonly actions: readonly string[];
  readonly tls?: TlsOptions;
  /** Fall back to plain http when https cannot connect (docker's insecure registries). */
  readonly insecure?: boolean;
  readonly credentials?: RegistryCredentials;
  readonly http?: HttpClientOptions;
  /** Default `stream`. */
  readonly uploadMode?: UploadMode;
  /** PATCH size for `chunked` uploads (default 8 MiB). */
  readonly chunkSize?: number;
}

export interface FetchedManifest {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly bytes: Buffer;
}

export type BlobPushResult = 'exists' | 'mounted' | 'uploaded';

export interface PushBlobOptions {
  /** Try a cross-repository mount from this repository first. */
  readonly mountFrom?: string;
  /** Called with byte counts as the body is sent. */
  readonly onProgress?: (bytes: number) => void;
}

function bareType(ct: string | undefined): string {
  return (ct ?? '').split(';')[0]?.trim() ?? '';
}

function describe(code: string, message: string): string {
  if (code === '') return message;
  const words = code.toLowerCase().replace(/_/g, ' ');
  return message === '' ? words : `${words}: ${message}`;
}

export class RegistryClient {
  readonly host: string;
  readonly repository: string;
  /** `https://host` or `http://host`, as the ping found it. */
  readonly baseUrl: string;
  readonly #http: HttpClient;
  readonly #auth: RegistryAuthorizer;
  readonly #scopes: string[];
  readonly #o: RegistryClientOptions;

  private constructor(o: RegistryClientOptions, baseUrl: string, http: HttpClient, auth: RegistryAuthorizer) {
    this.host = o.host;
    this.repository = o.repository;
    this.baseUrl = baseUrl;
    this.#http = http;
    this.#auth = auth;
    this.#o = o;
    this.#scopes = [`repository:${o.repository}:${o.actions.join(',')}`];
  }

  /**
   * Ping the registry and learn how to authenticate.
   * @throws RegistryError when it cannot be reached
   */
  static async connect(o: RegistryClientOptions): Promise<RegistryClient> {
    const http = new HttpClient(o.tls ?? {}, o.http ?? {});
    const auth = new RegistryAuthorizer(http, o.credentials);
    const bases = o.insecure === true ? [`https://${o.host}`, `http://${o.host}`] : [`https://${o.host}`];
    let lastError: unknown;
    for (const base of bases) {
      let res: IncomingMessage;
      try {
        res = await http.request({ method: 'GET', url: `${base}/v2/` });
      } catch (err) {
        lastError = err;
        continue;
      }
      if (res.statusCode === 401) auth.learn(res.headers['www-authenticate']);
      await discardBody(res);
      return new RegistryClient(o, base, http, auth);
    }
    http.close();
    throw new RegistryError(`cannot reach the registry ${o.host}: ${(lastError as Error).message}`, undefined, '', { cause: lastError });
  }

  /** A client for another repository of the same registry, sharing connections. */
  close(): void {
    this.#http.close();
  }

  #url(path: string): string {
    return `${this.baseUrl}/v2/${this.repository}/${path}`;
  }

  /** Send with auth; on a 401 learn and send once more. */
  async #send(req: HttpRequest, scopes: readonly string[] = this.#scopes): Promise<IncomingMessage> {
    for (let attempt = 0; ; attempt++) {
      const authz = new URL(req.url).host === this.host ? await this.#auth.header(scopes) : undefined;
      const res = await this.#http.request(authz === undefined ? req : { ...req, headers: { ...req.headers, Authorization: authz } });
      if (res.statusCode !== 401 || attempt > 0) return res;
      const learnt = this.#auth.learn(res.headers['www-authenticate']);
      if (!learnt) return res;
      await discardBody(res);
      this.#auth.forget(scopes);
    }
  }

  async #fail(res: IncomingMessage, what: string, notFound?: string): Promise<never> {
    const e = await errorOf(res);
    const status = res.statusCode ?? 0;
    if (status === 404 && notFound !== undefined) throw new RegistryNotFoundError(`${notFound}: ${describe(e.code || 'MANIFEST_UNKNOWN', e.message || 'manifest unknown')}`, 404, e.code);
    if (status === 401 || status === 403) {
      // a HEAD has no body: docker's words for the status then
      const words = describe(e.code, e.message) || (status === 401 ? 'unauthorized: authentication required' : 'denied: requested access to the resource is denied');
      throw new RegistryAuthError(`${what}: ${words}`, status, e.code);
    }
    const detail = describe(e.code, e.message) || `HTTP ${status}`;
    if (status === 404) throw new RegistryNotFoundError(`${what}: ${detail}`, status, e.code);
    throw new RegistryError(`${what}: ${detail}`, status, e.code);
  }

  // ---------------------------------------------------------------- blobs

  /** The blob's size in the registry, or undefined when it has none. */
  async hasBlob(digest: Digest): Promise<number | undefined> {
    const res = await this.#send({ method: 'HEAD', url: this.#url(`blobs/${digest}`) });
    await discardBody(res);
    if (res.statusCode === 200) return Number(header(res, 'content-length') ?? -1);
    if (res.statusCode === 404) return undefined;
    if (res.statusCode === 307 || res.statusCode === 302 || res.statusCode === 303 || res.statusCode === 308) return -1;
    return this.#fail(res, `checking blob ${digest} in ${this.repository}`);
  }

  /**
   * The blob's bytes, unverified: pipe them through a VerifyingStream.
   * @throws RegistryNotFoundError, RegistryError
   */
  async openBlob(desc: Descriptor): Promise<IncomingMessage> {
    let url = this.#url(`blobs/${desc.digest}`);
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const res = await this.#send({ method: 'GET', url });
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && header(res, 'location') !== undefined) {
        await discardBody(res);
        url = new URL(header(res, 'location') as string, url).toString();
        continue;
      }
      if (status !== 200) return this.#fail(res, `fetching blob ${desc.digest} from ${this.repository}`, `blob ${desc.digest} in ${this.repository}`);
      const len = header(res, 'content-length');
      if (len !== undefined && Number(len) !== desc.size) {
        res.destroy();
        throw new RegistryError(`blob ${desc.digest} in ${this.repository}: the registry sends ${len} bytes, the manifest says ${desc.size}`, 200);
      }
      return res;
    }
    throw new RegistryError(`blob ${desc.digest} in ${this.repository}: too many redirects`);
  }

  /** Start an upload (or mount); resolves to the upload URL, or 'mounted'. */
  async #startUpload(digest: Digest, mountFrom: string | undefined): Promise<string> {
    const mount = mountFrom !== undefined && mountFrom !== this.repository;
    const url = this.#url('blobs/uploads/') + (mount ? `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(mountFrom as string)}` : '');
    const scopes = mount ? [...this.#scopes, `repository:${mountFrom}:pull`] : this.#scopes;
    const res = await this.#send({ method: 'POST', url }, scopes);
    await discardBody(res);
    if (mount && res.statusCode === 201) return 'mounted';
    if (res.statusCode !== 202) return this.#fail(res, `starting an upload of ${digest} to ${this.repository}`);
    const loc = header(res, 'location');
    if (loc === undefined || loc === '') throw new RegistryError(`starting an upload of ${digest} to ${this.repository}: no Location`, 202);
    return new URL(loc, this.baseUrl + '/').toString();
  }

  static #withDigest(location: string, digest: Digest): string {
    const u = new URL(location);
    u.searchParams.set('digest', digest);
    return u.toString();
  }

  /**
   * Put a blob in the repository unless it is there: HEAD, then mount or upload.
   * @param open the blob's bytes (called once per attempt)
   */
  async pushBlob(desc: Descriptor, open: () => Promise<Readable>, o: PushBlobOptions = {}): Promise<BlobPushResult> {
    const have = await this.hasBlob(desc.digest);
    if (have !== undefined) return 'exists';
    const location = await this.#startUpload(desc.digest, o.mountFrom);
    if (location === 'mounted') return 'mounted';
    const body = async (): Promise<Readable> => {
      const s = await open();
      if (o.onProgress !== undefined) s.on('data', (c: Buffer) => o.onProgress?.(c.length));
      return s;
    };
    const mode = this.#o.uploadMode ?? 'stream';
    const octet = { 'Content-Type': 'application/octet-stream' };
    let res: IncomingMessage;
    if (mode === 'monolithic') {
      res = await this.#send({ method: 'PUT', url: RegistryClient.#withDigest(location, desc.digest), headers: octet, body, bodyLength: desc.size });
    } else {
      const next = mode === 'chunked' ? await this.#patchChunks(desc, location, await body()) : await this.#patch(desc, location, body, 0, desc.size);
      res = await this.#send({ method: 'PUT', url: RegistryClient.#withDigest(next, desc.digest) });
    }
    await discardBody(res);
    if (res.statusCode !== 201) return this.#fail(res, `uploading blob ${desc.digest} to ${this.repository}`);
    return 'uploaded';
  }

  /** One PATCH of bytes [start, start+length); resolves to the next upload URL. */
  async #patch(desc: Descriptor, location: string, body: () => Promise<Readable>, start: number, length: number): Promise<string> {
    const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream' };
    if (length > 0) headers['Content-Range'] = `${start}-${start + length - 1}`;
    const res = await this.#send({ method: 'PATCH', url: location, headers, body, bodyLength: length });
    await discardBody(res);
    if (res.statusCode !== 202) return this.#fail(res, `uploading blob ${desc.digest} to ${this.repository}`);
    const loc = header(res, 'location');
    return loc === undefined || loc === '' ? location : new URL(loc, this.baseUrl + '/').toString();
  }

  /** The stream cut into PATCHes of chunkSize bytes. */
  async #patchChunks(desc: Descriptor, location: string, source: Readable): Promise<string> {
    const size = Math.max(1, this.#o.chunkSize ?? 8 << 20);
    const iter = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    let pending: Buffer | undefined;
    let next = location;
    for (let start = 0; start < desc.size || (start === 0 && desc.size === 0); ) {
      const length = Math.min(size, desc.size - start);
      async function* slice(): AsyncGenerator<Buffer> {
        let left = length;
        while (left > 0) {
          let chunk = pending;
          pending = undefined;
          if (chunk === undefined) {
            const r = await iter.next();
            if (r.done === true) throw new RegistryError(`blob ${desc.digest}: the source ended early`);
            chunk = r.value;
          }
          if (chunk.length > left) {
            pending = chunk.subarray(left);
            chunk = chunk.subarray(0, left);
          }
          left -= chunk.length;
          yield chunk;
        }
      }
      let sent = false;
      const once = async (): Promise<Readable> => {
        // a slice of a stream cannot be sent twice
        if (sent) throw new RegistryError(`uploading blob ${desc.digest} to ${this.repository}: a chunk was refused and cannot be re-sent`);
        sent = true;
        return Readable.from(slice(), { objectMode: false });
      };
      next = await this.#patch(desc, next, once, start, length);
      start += length;
      if (length === 0) break;
    }
    await iter.return?.();
    return next;
  }

  // ---------------------------------------------------------------- manifests

  /**
   * A manifest by tag or digest, checked against the digest asked for (or the registry's
   * Docker-Content-Digest for a tag).
   * @throws RegistryNotFoundError `manifest for R:tag not found: manifest unknown: …`
   */
  async getManifest(reference: string, accept: readonly string[] = MANIFEST_ACCEPT): Promise<FetchedManifest> {
    const res = await this.#send({ method: 'GET', url: this.#url(`manifests/${reference}`), headers: { Accept: accept.join(', ') } });
    const sep = reference.includes(':') ? '@' : ':';
    if (res.statusCode !== 200) return this.#fail(res, `reading manifest ${reference} of ${this.repository}`, `manifest for ${this.host}/${this.repository}${sep}${reference} not found`);
    const bytes = await readBody(res, MAX_MANIFEST_BYTES);
    const digest = digestOf(bytes, reference.startsWith('sha512:') ? 'sha512' : 'sha256');
    if (reference.includes(':') && digest !== reference) {
      throw new RegistryError(`manifest ${reference} of ${this.repository}: the registry's bytes hash to ${digest}`, 200, 'DIGEST_INVALID');
    }
    const claimed = header(res, 'docker-content-digest');
    if (claimed !== undefined && claimed.startsWith('sha256:') && digest.startsWith('sha256:') && claimed !== digest) {
      throw new RegistryError(`manifest ${reference} of ${this.repository}: the registry says ${claimed}, its bytes hash to ${digest}`, 200, 'DIGEST_INVALID');
    }
    return { digest, mediaType: bareType(header(res, 'content-type')), bytes };
  }

  /** The digest a tag points at now, or undefined when there is no such tag. */
  async resolveTag(tag: string): Promise<Digest | undefined> {
    const res = await this.#send({ method: 'HEAD', url: this.#url(`manifests/${tag}`), headers: { Accept: MANIFEST_ACCEPT.join(', ') } });
    await discardBody(res);
    if (res.statusCode === 404) return undefined;
    if (res.statusCode !== 200) return this.#fail(res, `resolving tag ${tag} of ${this.repository}`);
    const claimed = header(res, 'docker-content-digest');
    if (claimed !== undefined && /^sha256:[a-f0-9]{64}$/.test(claimed)) return claimed as Digest;
    return (await this.getManifest(tag)).digest;
  }

  /**
   * Store a manifest under a tag or its digest.
   * @throws RegistryError when refused (e.g. `manifest blob unknown` for a missing layer)
   */
  async putManifest(reference: string, bytes: Buffer, mediaType: string): Promise<Digest> {
    const digest = digestOf(bytes);
    const res = await this.#send({ method: 'PUT', url: this.#url(`manifests/${reference}`), headers: { 'Content-Type': mediaType }, body: bytes });
    await discardBody(res);
    if (res.statusCode !== 201) return this.#fail(res, `putting manifest ${reference} to ${this.repository}`);
    const claimed = header(res, 'docker-content-digest');
    if (claimed !== undefined && claimed.startsWith('sha256:') && claimed !== digest) {
      throw new RegistryError(`putting manifest ${reference} to ${this.repository}: the registry stored ${claimed}, we sent ${digest}`, 201, 'DIGEST_INVALID');
    }
    return digest;
  }
}
