/**
 * Parse the four manifest types the registry stores, and say what each one refers to:
 * Docker image manifest (schema 2) and manifest list, OCI image manifest and OCI image index
 * (OCI Image Spec v1.1, distribution's `manifest/schema2`, `manifest/manifestlist`, `manifest/ocischema`).
 *
 * Pure: bytes in, a `ParsedManifest` out, or a `RegistryApiError` with `MANIFEST_INVALID` that
 * names every bad field. Whether the referenced blobs exist is checked by the handler, which has
 * the store. Docker schema 1 is refused (deprecated; distribution 3 refuses it too).
 *
 * Example:
 *   const m = parseManifest(bytes, req.headers['content-type']);
 *   m.blobs     // config + layers to find in the repository (foreign layers left out)
 *   m.manifests // children of an index
 */
import { registryError } from './errors.ts';
import { parseDigest, type Digest } from './names.ts';
import type { ReferrerDescriptor } from './store/types.ts';

export const MediaType = {
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
} as const;
export type ManifestMediaType = (typeof MediaType)[keyof typeof MediaType];

const MANIFEST_TYPES: readonly string[] = Object.values(MediaType);
const SCHEMA1 = ['application/vnd.docker.distribution.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v1+prettyjws'];
/** Content types that say nothing about the manifest: the body's `mediaType` decides. */
const GENERIC_TYPES = ['', 'application/json', 'application/octet-stream'];

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly urls?: readonly string[];
}

export interface ParsedManifest {
  readonly mediaType: ManifestMediaType;
  /** Config and layers that must be in the repository (layers with `urls` are foreign and skipped). */
  readonly blobs: readonly Descriptor[];
  /** Manifests an index or list refers to. */
  readonly manifests: readonly Descriptor[];
  readonly subject?: Descriptor;
  /** What the referrers API lists for this manifest (artifactType or the config media type). */
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** Media type without parameters, lowercased. */
export function bareMediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

export function isManifestMediaType(s: string): s is ManifestMediaType {
  return MANIFEST_TYPES.includes(s);
}

/**
 * Parse manifest bytes sent with `contentType`.
 * @throws RegistryApiError MANIFEST_INVALID (every problem listed in `detail.problems`)
 */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    throw registryError('MANIFEST_INVALID', 'manifest is not valid JSON', { cause: err, detail: { problems: ['not JSON'] } });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalid(['not a JSON object']);
  const m = doc as Record<string, unknown>;
  const declared = bareMediaType(contentType);
  const field = typeof m['mediaType'] === 'string' ? m['mediaType'] : undefined;
  if (SCHEMA1.includes(declared) || m['schemaVersion'] === 1) {
    throw registryError('MANIFEST_INVALID', 'Docker schema 1 manifests are not supported', { detail: { mediaType: declared } });
  }
  const type = resolveType(declared, field, m);
  return type === MediaType.DockerManifest || type === MediaType.OciManifest ? parseImage(m, type) : parseIndex(m, type);
}

function resolveType(declared: string, field: string | undefined, m: Record<string, unknown>): ManifestMediaType {
  if (field !== undefined && !GENERIC_TYPES.includes(declared) && field !== declared) {
    throw invalid([`mediaType ${JSON.stringify(field)} does not match Content-Type ${JSON.stringify(declared)}`]);
  }
  const chosen = GENERIC_TYPES.includes(declared) ? (field ?? inferType(m)) : declared;
  if (!isManifestMediaType(chosen)) {
    throw registryError('MANIFEST_INVALID', `unsupported manifest media type ${JSON.stringify(chosen)}`, { detail: { mediaType: chosen } });
  }
  return chosen;
}

/** An OCI manifest or index may leave out `mediaType`; the shape then tells which it is. */
function inferType(m: Record<string, unknown>): string {
  if (Array.isArray(m['manifests'])) return MediaType.OciIndex;
  if (typeof m['config'] === 'object' && m['config'] !== null) return MediaType.OciManifest;
  return '';
}

function parseImage(m: Record<string, unknown>, type: ManifestMediaType): ParsedManifest {
  const problems: string[] = [];
  if (m['schemaVersion'] !== 2) problems.push('schemaVersion must be 2');
  const config = descriptor(m['config'], 'config', problems);
  const layers: Descriptor[] = [];
  if (!Array.isArray(m['layers'])) problems.push('layers must be an array');
  else m['layers'].forEach((l, i) => push(layers, descriptor(l, `layers[${i}]`, problems)));
  const common = commonFields(m, type, problems);
  if (problems.length > 0) throw invalid(problems);
  const blobs = [...(config === null ? [] : [config]), ...layers.filter((l) => l.urls === undefined || l.urls.length === 0)];
  const artifactType = common.artifactType ?? (type === MediaType.OciManifest ? config?.mediaType : undefined);
  return { mediaType: type, blobs, manifests: [], ...withSubjectEtc(common), ...(artifactType === undefined ? {} : { artifactType }) };
}

function parseIndex(m: Record<string, unknown>, type: ManifestMediaType): ParsedManifest {
  const problems: string[] = [];
  if (m['schemaVersion'] !== 2) problems.push('schemaVersion must be 2');
  const manifests: Descriptor[] = [];
  if (!Array.isArray(m['manifests'])) problems.push('manifests must be an array');
  else m['manifests'].forEach((d, i) => push(manifests, descriptor(d, `manifests[${i}]`, problems)));
  const common = commonFields(m, type, problems);
  if (problems.length > 0) throw invalid(problems);
  return { mediaType: type, blobs: [], manifests, ...withSubjectEtc(common), ...(common.artifactType === undefined ? {} : { artifactType: common.artifactType }) };
}

interface Common {
  readonly subject: Descriptor | null;
  readonly artifactType: string | undefined;
  readonly annotations: Record<string, string> | undefined;
}

/** `subject`, `artifactType` and `annotations`, which only the OCI types define. */
function commonFields(m: Record<string, unknown>, type: ManifestMediaType, problems: string[]): Common {
  const oci = type === MediaType.OciManifest || type === MediaType.OciIndex;
  const subject = oci && m['subject'] !== undefined ? descriptor(m['subject'], 'subject', problems) : null;
  let artifactType: string | undefined;
  if (oci && m['artifactType'] !== undefined) {
    if (typeof m['artifactType'] !== 'string') problems.push('artifactType must be a string');
    else if (m['artifactType'] !== '') artifactType = m['artifactType'];
  }
  let annotations: Record<string, string> | undefined;
  const a = m['annotations'];
  if (a !== undefined) {
    if (typeof a !== 'object' || a === null || Array.isArray(a) || !Object.values(a).every((v) => typeof v === 'string')) {
      problems.push('annotations must map strings to strings');
    } else if (Object.keys(a).length > 0) {
      annotations = a as Record<string, string>;
    }
  }
  return { subject, artifactType, annotations };
}

function withSubjectEtc(c: Common): { subject?: Descriptor; annotations?: Readonly<Record<string, string>> } {
  return { ...(c.subject === null ? {} : { subject: c.subject }), ...(c.annotations === undefined ? {} : { annotations: c.annotations }) };
}

function descriptor(v: unknown, where: string, problems: string[]): Descriptor | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    problems.push(`${where} must be a descriptor object`);
    return null;
  }
  const d = v as Record<string, unknown>;
  const before = problems.length;
  if (typeof d['mediaType'] !== 'string' || d['mediaType'] === '') problems.push(`${where}.mediaType must be a non-empty string`);
  const digest = typeof d['digest'] === 'string' ? parseDigest(d['digest']) : null;
  if (digest === null) problems.push(`${where}.digest must be a sha256 or sha512 digest`);
  const size = d['size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) problems.push(`${where}.size must be a non-negative integer`);
  const urls = d['urls'];
  if (urls !== undefined && (!Array.isArray(urls) || !urls.every((u) => typeof u === 'string'))) problems.push(`${where}.urls must be an array of strings`);
  if (problems.length > before || digest === null) return null;
  return { mediaType: d['mediaType'] as string, digest, size: size as number, ...(Array.isArray(urls) ? { urls: urls as string[] } : {}) };
}

function push<T>(list: T[], v: T | null): void {
  if (v !== null) list.push(v);
}

function invalid(problems: readonly string[]): Error {
  return registryError('MANIFEST_INVALID', `manifest invalid: ${problems.join('; ')}`, { detail: { problems } });
}

/** The referrers-API entry for a manifest with a subject (spec "Listing Referrers"). */
export function referrerDescriptor(m: ParsedManifest, digest: Digest, size: number): ReferrerDescriptor {
  return {
    mediaType: m.mediaType,
    digest,
    size,
    ...(m.artifactType === undefined ? {} : { artifactType: m.artifactType }),
    ...(m.annotations === undefined ? {} : { annotations: m.annotations }),
  };
}
