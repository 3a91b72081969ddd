/**
 * Reading image manifests from a registry for `vouch trust sign` (spec §12.2: docker signs the
 * manifest it pushed; vouch signs the manifest the registry already has). Behind a small
 * interface (`ManifestSource`) so image push/pull can bring its own registry client later.
 *
 * `RegistryManifestSource`: `GET /v2/<name>/manifests/<tag|digest>` asking for every manifest
 * and index media type (docker v2 schema 2, manifest list, OCI), with docker token auth (the
 * `WWW-Authenticate` challenge of the 401, Basic credentials from `config.json`) and docker's TLS
 * files. With a login the token asks for `pull,push`, as docker's push before its sign does: a
 * registry enforcing content trust (vouch serve, Harbor) refuses an unsigned tag to a plain pull
 * but not to a requester who may push it, and the tag being signed is unsigned. Token services
 * grant what the user may have, so a user who may only pull gets a pull token; should the token
 * request fail or the answer be 401/403, the read is retried with a `pull` token (anonymous
 * first, then the login). The digest is the sha256 of the bytes received; a
 * `Docker-Content-Digest` header that disagrees, or a by-digest answer whose bytes do not hash
 * to the digest asked for, is refused. Docker Hub is reached at `registry-1.docker.io`; a
 * loopback registry is tried over https without verification, then over plain http, as docker's
 * defaults allow.
 *
 * `platformManifests(index)`: the platform entries of an image index / manifest list (entries
 * without a platform, or for `unknown/unknown` such as attestations, are left out).
 *
 * A login saved as an identity token (OAuth2 refresh token) is used through trust-auth.ts.
 *
 * Not here: pushing.
 *
 * @example
 *   const src = new RegistryManifestSource({ configDir, auth });
 *   const m = await src.getManifest(parseImageRef('127.0.0.1:5000/app:v1'), 'v1');
 *   m.digest // 'sha256:…'
 */
import { createHash } from 'node:crypto';
import { AuthorizingFetcher, NodeFetcher, parseErrorEnvelope, TokenAuthenticator, TokenError, type Credentials, type Fetcher, type FetchRequest, type FetchResponse } from '../http/index.ts';
import { RefreshTokenFetcher } from './trust-auth.ts';
import { dockerTlsOptions, type RegistryAuth } from './trust-config.ts';
import { isInsecureRegistry, type ImageRef } from './trust-ref.ts';

/** Largest manifest read (distribution refuses bigger ones too). */
export const MAX_MANIFEST_BYTES = 4 << 20;

export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
];
const INDEX_TYPES = new Set(['application/vnd.docker.distribution.manifest.list.v2+json', 'application/vnd.oci.image.index.v1+json']);

export interface FetchedManifest {
  /** `sha256:<hex>` of the bytes. */
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  readonly bytes: Uint8Array;
}

export interface PlatformManifest {
  readonly digest: string;
  readonly size: number;
  readonly os: string;
  readonly architecture: string;
  readonly variant: string;
}

/** Where `trust sign` learns a manifest's digest and size. */
export interface ManifestSource {
  /**
   * @param reference a tag or a `sha256:` digest
   * @throws ManifestError when the registry has no such manifest or answers wrongly
   */
  getManifest(ref: ImageRef, reference: string): Promise<FetchedManifest>;
}

export class ManifestError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

export interface RegistryManifestSourceOptions {
  /** Docker config dir, for `tls/<host:port>/`. */
  readonly configDir: string;
  readonly auth: (ref: ImageRef) => Promise<RegistryAuth | undefined>;
  /** Replaces the HTTP client (tests). */
  readonly fetcher?: Fetcher;
}

function registryHost(ref: ImageRef): string {
  return ref.official ? 'registry-1.docker.io' : ref.domain;
}

function sha256(bytes: Uint8Array): string {
  return 'sha256:' + createHash('sha256').update(bytes).digest('hex');
}

function isIndex(mediaType: string): boolean {
  return INDEX_TYPES.has(mediaType);
}

/** The media type a manifest declares (its `mediaType` field, else the Content-Type). */
function mediaTypeOf(bytes: Uint8Array, contentType: string): string {
  try {
    const v = JSON.parse(Buffer.from(bytes).toString('utf8')) as { mediaType?: unknown; manifests?: unknown };
    if (typeof v.mediaType === 'string' && v.mediaType !== '') return v.mediaType;
    if (Array.isArray(v.manifests)) return 'application/vnd.oci.image.index.v1+json';
  } catch {
    // not JSON: keep the header's word
  }
  return contentType.split(';')[0]?.trim() ?? '';
}

/** The fetchers to read a repository with, in order, and whether plain http may follow https. */
interface Readers {
  /**
   * With a login: a `pull,push` reader, then a `pull` one; without: the `pull` reader only. A
   * reader that was refused is dropped, so later reads of the repository go straight on.
   */
  readonly fetchers: Fetcher[];
  readonly insecure: boolean;
}

export class RegistryManifestSource implements ManifestSource {
  readonly #o: RegistryManifestSourceOptions;
  readonly #readers = new Map<string, Promise<Readers>>();

  constructor(o: RegistryManifestSourceOptions) {
    this.#o = o;
  }

  async #readersFor(ref: ImageRef): Promise<Readers> {
    const key = `${ref.domain}/${ref.path}`;
    let p = this.#readers.get(key);
    if (p === undefined) {
      p = (async () => {
        const insecure = await isInsecureRegistry(ref.domain);
        const node = this.#o.fetcher ?? new NodeFetcher(await dockerTlsOptions(this.#o.configDir, registryHost(ref), insecure));
        const auth = await this.#o.auth(ref);
        const identity = auth !== undefined && auth.identityToken !== '';
        const credentials = (): Credentials | undefined => (auth === undefined || auth.username === '' || identity ? undefined : { username: auth.username, password: auth.password });
        const reader = (push: boolean): Fetcher => {
          const base = identity ? new RefreshTokenFetcher(node, { refreshToken: auth.identityToken, scope: `repository:${ref.path}:${push ? 'pull,push' : 'pull'}` }) : node;
          return new AuthorizingFetcher(base, new TokenAuthenticator({ fetcher: base, gun: ref.path, access: push ? 'readWrite' : 'readOnly', credentials }));
        };
        const loggedIn = identity || credentials() !== undefined;
        return { fetchers: loggedIn ? [reader(true), reader(false)] : [reader(false)], insecure };
      })();
      this.#readers.set(key, p);
    }
    return p;
  }

  /** One GET over https, then plain http for an insecure registry. @throws ManifestError */
  async #get(fetcher: Fetcher, insecure: boolean, ref: ImageRef, path: string, req: Omit<FetchRequest, 'url'>, what: string): Promise<FetchResponse> {
    try {
      return await fetcher.fetch({ ...req, url: `https://${registryHost(ref)}${path}` });
    } catch (err) {
      if (!insecure) throw new ManifestError(`error reading ${what}: ${(err as Error).message}`, { cause: err });
      try {
        return await fetcher.fetch({ ...req, url: `http://${registryHost(ref)}${path}` });
      } catch (err2) {
        throw new ManifestError(`error reading ${what}: ${(err2 as Error).message}`, { cause: err2 });
      }
    }
  }

  async getManifest(ref: ImageRef, reference: string): Promise<FetchedManifest> {
    const { fetchers, insecure } = await this.#readersFor(ref);
    const path = `/v2/${ref.path}/manifests/${reference}`;
    const what = `manifest ${reference} in ${ref.gun}`;
    const req = { headers: { Accept: MANIFEST_MEDIA_TYPES.join(', ') }, maxLength: MAX_MANIFEST_BYTES, resource: `manifest ${reference}` };
    let res: FetchResponse | undefined;
    for (const fetcher of [...fetchers]) {
      const last = fetcher === fetchers[fetchers.length - 1];
      let refused: boolean;
      try {
        res = await this.#get(fetcher, insecure, ref, path, req, what);
        refused = res.status === 401 || res.status === 403;
      } catch (err) {
        // a token service that refuses a push request outright rather than trimming it
        if (last || !(err instanceof ManifestError && err.cause instanceof TokenError)) throw err;
        refused = true;
      }
      if (last || !refused) break;
      // read with a pull token from now on
      if (fetchers[0] === fetcher) fetchers.shift();
    }
    if (res === undefined) throw new ManifestError(`error reading ${what}: no answer`);
    if (res.status === 404) throw new ManifestError(`manifest for ${ref.gun}:${reference} not found: manifest unknown`);
    if (res.status === 401 || res.status === 403) {
      throw new ManifestError(`error reading ${what}: access denied (HTTP ${res.status}); log in to ${ref.domain} first`);
    }
    if (res.status !== 200) {
      const [first] = parseErrorEnvelope(Buffer.from(res.body).toString('utf8'));
      throw new ManifestError(`error reading ${what}: ${first?.message !== undefined && first.message !== '' ? `${first.message} (HTTP ${res.status})` : `registry answered HTTP ${res.status}`}`);
    }
    const digest = sha256(res.body);
    const header = res.headers['docker-content-digest'];
    const claimed = Array.isArray(header) ? header[0] : header;
    if (claimed !== undefined && claimed !== '' && claimed.startsWith('sha256:') && claimed !== digest) {
      throw new ManifestError(`manifest ${reference} in ${ref.gun}: the registry says ${claimed} but the bytes hash to ${digest}`);
    }
    if (reference.startsWith('sha256:') && reference !== digest) {
      throw new ManifestError(`manifest ${reference} in ${ref.gun}: the bytes received hash to ${digest}`);
    }
    const contentType = res.headers['content-type'];
    return { digest, size: res.body.length, mediaType: mediaTypeOf(res.body, typeof contentType === 'string' ? contentType : ''), bytes: res.body };
  }
}

/** True for an image index / manifest list. */
export function isImageIndex(m: FetchedManifest): boolean {
  return isIndex(m.mediaType);
}

/**
 * The platform manifests an index lists (`unknown/unknown` and platform-less entries skipped).
 * @throws ManifestError when the index does not parse
 */
export function platformManifests(index: FetchedManifest): PlatformManifest[] {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(index.bytes).toString('utf8'));
  } catch (err) {
    throw new ManifestError(`image index ${index.digest} is not JSON`, { cause: err });
  }
  const list = (v as { manifests?: unknown }).manifests;
  if (!Array.isArray(list)) throw new ManifestError(`image index ${index.digest} lists no manifests`);
  const out: PlatformManifest[] = [];
  for (const entry of list) {
    if (typeof entry !== 'object' || entry === null) continue;
    const e = entry as Record<string, unknown>;
    const p = e['platform'];
    if (typeof p !== 'object' || p === null) continue;
    const pl = p as Record<string, unknown>;
    const os = typeof pl['os'] === 'string' ? pl['os'] : '';
    const architecture = typeof pl['architecture'] === 'string' ? pl['architecture'] : '';
    if (os === '' || architecture === '' || os === 'unknown' || architecture === 'unknown') continue;
    if (typeof e['digest'] !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(e['digest']) || typeof e['size'] !== 'number') {
      throw new ManifestError(`image index ${index.digest} has an entry without a sha256 digest and size`);
    }
    out.push({ digest: e['digest'], size: e['size'], os, architecture, variant: typeof pl['variant'] === 'string' ? pl['variant'] : '' });
  }
  return out;
}

/**
 * The target name `sign --recursive` gives a platform manifest: `<tag>-<os>-<arch>[-<variant>]`
 * (a valid docker tag, so `docker pull IMAGE:<tag>-linux-arm64` with content trust resolves it).
 */
export function platformTag(tag: string, p: PlatformManifest): string {
  const clean = (s: string): string => s.toLowerCase().replace(/[^a-z0-9_.-]/g, '_');
  return [tag, clean(p.os), clean(p.architecture), ...(p.variant === '' ? [] : [clean(p.variant)])].join('-');
}
