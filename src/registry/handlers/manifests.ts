/**
 * Manifest handlers for `/v2/<name>/manifests/<tag-or-digest>`:
 *
 * - GET/HEAD resolve the reference, ask the `TrustPolicy` (`mayServe`), and return the exact
 *   stored bytes with the media type they were pushed with (no conversion between formats);
 * - PUT reads at most `maxManifestBytes` (413 above), parses the manifest (manifest.ts), checks
 *   the digest in the URL against the bytes, requires every referenced blob (and, for an index,
 *   every child manifest) to be in the repository (MANIFEST_BLOB_UNKNOWN), then stores it and
 *   points the tag (and any `?tag=` parameters) at it; a `subject` is answered with `OCI-Subject`;
 * - DELETE by digest removes the manifest and every tag on it; DELETE by tag removes the tag;
 *   both ask `mayDelete` first.
 */
import { registryError } from '../errors.ts';
import { parseManifest, referrerDescriptor } from '../manifest.ts';
import { digestAlgorithm, digestOf, isValidTag, parseReference, type Digest } from '../names.ts';
import type { PolicyDecision, PolicyRequester } from '../policy.ts';
import { registryPaths } from '../routes.ts';
import { type Ctx, readBody, reply } from './context.ts';

const requester = (ctx: Ctx): PolicyRequester => ({ method: ctx.method, authorization: ctx.req.headers.authorization });

/** A policy's denial: DENIED with its message, and its status when it gives one. */
function denied(d: PolicyDecision & { allow: false }, name: string, reference: string, digest: string): Error {
  return registryError('DENIED', d.message, { ...(d.status === undefined ? {} : { status: d.status }), detail: { name, reference, digest } });
}

/** The digest a GET/HEAD/DELETE reference stands for. @throws MANIFEST_UNKNOWN, DIGEST_INVALID */
async function resolve(ctx: Ctx): Promise<Digest> {
  const { store } = ctx.deps;
  const { name, reference } = ctx.params;
  const ref = parseReference(reference);
  if (ref.kind === 'invalid') {
    if (ref.reason === 'digest') throw registryError('DIGEST_INVALID', 'invalid or unsupported digest', { detail: { digest: reference } });
    throw registryError('MANIFEST_UNKNOWN', 'invalid tag', { detail: { tag: reference } });
  }
  if (ref.kind === 'digest') return ref.digest;
  const digest = await store.resolveTag(name, ref.tag);
  if (digest === null) throw registryError('MANIFEST_UNKNOWN', undefined, { detail: { tag: ref.tag } });
  return digest;
}

export async function getManifest(ctx: Ctx): Promise<void> {
  const { store, policy } = ctx.deps;
  const { name, reference } = ctx.params;
  const digest = await resolve(ctx);
  const decision = await policy.mayServe({ name, reference, digest }, requester(ctx));
  if (!decision.allow) throw denied(decision, name, reference, digest);
  const headers = (mediaType: string, size: number): Record<string, string | number> => ({
    'Content-Type': mediaType,
    'Content-Length': size,
    'Docker-Content-Digest': digest,
    ETag: `"${digest}"`,
  });
  if (ctx.head) {
    const info = await store.statManifest(name, digest);
    if (info === null) throw registryError('MANIFEST_UNKNOWN', undefined, { detail: { digest } });
    reply(ctx, 200, headers(info.mediaType, info.size));
    return;
  }
  const m = await store.getManifest(name, digest);
  if (m === null) throw registryError('MANIFEST_UNKNOWN', undefined, { detail: { digest } });
  reply(ctx, 200, headers(m.mediaType, m.bytes.byteLength), m.bytes);
}

export async function putManifest(ctx: Ctx): Promise<void> {
  const { store, limits } = ctx.deps;
  const { name, reference } = ctx.params;
  const ref = parseReference(reference);
  if (ref.kind === 'invalid') {
    if (ref.reason === 'digest') throw registryError('DIGEST_INVALID', 'invalid or unsupported digest', { detail: { digest: reference } });
    throw registryError('MANIFEST_INVALID', 'invalid tag', { detail: { tag: reference } });
  }
  const extraTags = ctx.query.getAll('tag');
  if (extraTags.length > limits.maxTagsPerPush) throw registryError('MANIFEST_INVALID', 'too many tags', { status: 414, detail: { max: limits.maxTagsPerPush } });
  for (const t of extraTags) if (!isValidTag(t)) throw registryError('MANIFEST_INVALID', 'invalid tag', { detail: { tag: t } });

  const bytes = await readBody(ctx.req, limits.maxManifestBytes);
  const digest = digestOf(bytes, ref.kind === 'digest' ? digestAlgorithm(ref.digest) : 'sha256');
  if (ref.kind === 'digest' && ref.digest !== digest) {
    throw registryError('DIGEST_INVALID', 'manifest digest does not match the bytes', { detail: { digest: ref.digest, actual: digest } });
  }
  const contentType = ctx.req.headers['content-type'];
  const parsed = parseManifest(bytes, contentType);

  for (const b of parsed.blobs) {
    const size = (await store.hasBlob(name, b.digest)) ? await store.statBlob(b.digest) : null;
    if (size === null) throw registryError('MANIFEST_BLOB_UNKNOWN', `blob unknown to registry: ${b.digest}`, { detail: { digest: b.digest } });
    if (size !== b.size) throw registryError('MANIFEST_INVALID', `size of ${b.digest} is ${size}, not ${b.size}`, { detail: { digest: b.digest, size } });
  }
  for (const child of parsed.manifests) {
    const info = await store.statManifest(name, child.digest);
    if (info === null) throw registryError('MANIFEST_BLOB_UNKNOWN', `manifest unknown to registry: ${child.digest}`, { detail: { digest: child.digest } });
  }

  const tags = ref.kind === 'tag' ? [ref.tag] : extraTags;
  await store.putManifest(
    name,
    {
      digest,
      mediaType: parsed.mediaType,
      bytes,
      ...(parsed.subject === undefined ? {} : { referrer: { subject: parsed.subject.digest, descriptor: referrerDescriptor(parsed, digest, bytes.byteLength) } }),
    },
    tags,
  );
  const headers: Record<string, string | string[]> = { Location: registryPaths.manifest(name, digest), 'Docker-Content-Digest': digest };
  if (parsed.subject !== undefined) headers['OCI-Subject'] = parsed.subject.digest;
  if (ref.kind === 'digest' && extraTags.length > 0) headers['OCI-Tag'] = extraTags;
  reply(ctx, 201, headers);
}

export async function deleteManifest(ctx: Ctx): Promise<void> {
  const { store, policy, deleteEnabled } = ctx.deps;
  if (!deleteEnabled) throw registryError('UNSUPPORTED', 'deletion is disabled');
  const { name, reference } = ctx.params;
  const digest = await resolve(ctx);
  const ref = parseReference(reference);
  if (ref.kind === 'digest' && (await store.statManifest(name, digest)) === null) throw registryError('MANIFEST_UNKNOWN', undefined, { detail: { digest } });
  const decision = await policy.mayDelete({ name, reference, digest }, requester(ctx));
  if (!decision.allow) throw denied(decision, name, reference, digest);
  if (ref.kind === 'tag') await store.deleteTag(name, ref.tag);
  else await store.deleteManifest(name, digest);
  reply(ctx, 202, {});
}
