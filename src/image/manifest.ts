/**
 * Image manifests and indexes as a client reads them: the registry's own parser
 * (src/registry/manifest.ts, so client and server agree on what is valid) plus what a client
 * needs on top — the config apart from the layers, platforms of index entries, and one error
 * type (`ImageFormatError`) for anything that does not parse.
 *
 * - `readManifest(bytes, mediaType, what)` → `ImageManifest` (`kind: 'image'`: config + layers)
 *   or `ImageIndex` (`kind: 'index'`: child manifests with platforms);
 * - `choosePlatform(index, want)`: docker's choice of one image from a multi-platform index.
 *
 * Foreign layers (`urls`) are kept in `layers` with their urls; transfers skip them, as docker
 * does. Docker schema 1 is refused.
 *
 * @example
 *   const m = readManifest(bytes, res.mediaType, `manifest ${digest}`);
 *   if (m.kind === 'index') m = … choosePlatform(m, { os: 'linux', architecture: 'amd64' }) …
 */
import { arch } from 'node:process';
import { MediaType, parseManifest } from '../registry/manifest.ts';
import { parseDigest, type Descriptor, type Platform } from './digest.ts';
import { ImageFormatError } from './errors.ts';

export { MediaType };

/** Media types of configs and layers (docker's and OCI's). */
export const BlobMediaType = {
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  DockerLayerUncompressed: 'application/vnd.docker.image.rootfs.diff.tar',
  DockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciLayer: 'application/vnd.oci.image.layer.v1.tar',
  OciLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

/** Every manifest media type, for `Accept`. */
export const MANIFEST_ACCEPT: readonly string[] = [MediaType.OciIndex, MediaType.DockerManifestList, MediaType.OciManifest, MediaType.DockerManifest];

export interface ImageManifest {
  readonly kind: 'image';
  readonly mediaType: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
}

export interface ImageIndex {
  readonly kind: 'index';
  readonly mediaType: string;
  readonly manifests: readonly Descriptor[];
}

export type ParsedImage = ImageManifest | ImageIndex;

export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === MediaType.OciIndex || mediaType === MediaType.DockerManifestList;
}

function platformOf(v: unknown): Platform | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const p = v as Record<string, unknown>;
  if (typeof p['os'] !== 'string' || typeof p['architecture'] !== 'string') return undefined;
  return { os: p['os'], architecture: p['architecture'], ...(typeof p['variant'] === 'string' && p['variant'] !== '' ? { variant: p['variant'] } : {}) };
}

function descriptorFrom(raw: unknown, what: string): Descriptor {
  const d = raw as Record<string, unknown>;
  const digest = typeof d['digest'] === 'string' ? parseDigest(d['digest']) : null;
  if (digest === null || typeof d['mediaType'] !== 'string' || typeof d['size'] !== 'number') throw new ImageFormatError(`${what}: bad descriptor`);
  const platform = platformOf(d['platform']);
  const annotations = d['annotations'];
  return {
    mediaType: d['mediaType'],
    digest,
    size: d['size'],
    ...(platform === undefined ? {} : { platform }),
    ...(Array.isArray(d['urls']) && d['urls'].length > 0 ? { urls: d['urls'] as string[] } : {}),
    ...(typeof annotations === 'object' && annotations !== null && !Array.isArray(annotations) ? { annotations: annotations as Record<string, string> } : {}),
  };
}

/**
 * Parse a manifest or index received as `mediaType` (a Content-Type, or '' to go by the body).
 * @throws ImageFormatError naming `what`
 */
export function readManifest(bytes: Uint8Array, mediaType: string, what: string): ParsedImage {
  let parsed;
  try {
    parsed = parseManifest(bytes, mediaType);
  } catch (err) {
    throw new ImageFormatError(`${what}: ${(err as Error).message}`, { cause: err });
  }
  // parseManifest checked the shape; take the fields it does not keep from the same JSON
  const doc = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as Record<string, unknown>;
  if (isIndexMediaType(parsed.mediaType)) {
    const list = doc['manifests'] as unknown[];
    return { kind: 'index', mediaType: parsed.mediaType, manifests: list.map((m, i) => descriptorFrom(m, `${what} manifests[${i}]`)) };
  }
  const layers = (doc['layers'] as unknown[]).map((l, i) => descriptorFrom(l, `${what} layers[${i}]`));
  return { kind: 'image', mediaType: parsed.mediaType, config: descriptorFrom(doc['config'], `${what} config`), layers };
}

/** The blobs a transfer moves for an image: config first, then the layers that are not foreign. */
export function blobsOf(m: ImageManifest): Descriptor[] {
  return [m.config, ...m.layers.filter((l) => l.urls === undefined || l.urls.length === 0)];
}

/** GOARCH of this machine (node's names mapped to Go's). */
export function hostPlatform(): Platform {
  const goArch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return { os: 'linux', architecture: goArch[arch] ?? arch };
}

/**
 * Parse `os/arch[/variant]` (docker's `--platform`).
 * @throws TypeError for anything else
 */
export function parsePlatform(s: string): Platform {
  const parts = s.toLowerCase().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) throw new TypeError(`invalid platform ${JSON.stringify(s)}: expected os/arch[/variant]`);
  return { os: parts[0] as string, architecture: parts[1] as string, ...(parts[2] !== undefined ? { variant: parts[2] } : {}) };
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant === undefined ? '' : `/${p.variant}`}`;
}

/**
 * The entry of an index for `want`: same os and architecture, and the same variant when `want`
 * names one (else the first listed). Attestation entries (`unknown/unknown`) never match.
 * @throws ImageFormatError listing the platforms there are
 */
export function choosePlatform(index: ImageIndex, want: Platform, what: string): Descriptor {
  const candidates = index.manifests.filter((d) => d.platform !== undefined && d.platform.os === want.os && d.platform.architecture === want.architecture);
  const exact = want.variant === undefined ? candidates[0] : candidates.find((d) => d.platform?.variant === want.variant);
  if (exact !== undefined) return exact;
  const have = index.manifests.filter((d) => d.platform !== undefined && d.platform.os !== 'unknown').map((d) => formatPlatform(d.platform as Platform));
  throw new ImageFormatError(`${what}: no matching manifest for ${formatPlatform(want)} in the manifest list entries${have.length === 0 ? '' : ` (it has ${have.join(', ')})`}`);
}
