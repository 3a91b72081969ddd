/**
 * Blob upload handlers (OCI Distribution Spec v1.1, "Pushing blobs"):
 *
 * - `POST /v2/<name>/blobs/uploads/` starts a session (202), or with `?digest=` takes the whole
 *   blob in one request (201), or with `?mount=<digest>&from=<repo>` links a blob the client may
 *   pull from another repository (201) and otherwise falls back to a new session (202);
 * - `PATCH <location>` appends a chunk, in order: a `Content-Range` whose start is not the
 *   current size is 416 with the current `Range`; a `Content-Length` that disagrees with the
 *   range is SIZE_INVALID; a body cut short is rolled back;
 * - `PUT <location>?digest=` appends an optional last chunk, verifies the digest and stores the blob;
 * - `GET <location>` reports progress (204 + `Range`); `DELETE <location>` cancels (204).
 *
 * `Range: 0-<last byte>` is "0-0" for an empty session, as distribution sends it.
 */
import { registryError } from '../errors.ts';
import { isDigestAlgorithm, isValidRepositoryName, parseDigest } from '../names.ts';
import { repositoryAccess } from '../../auth/access.ts';
import { registryPaths } from '../routes.ts';
import { uploadPacer } from '../store/buffers.ts';
import type { UploadSession } from '../store/types.ts';
import { requireDigest } from './blobs.ts';
import { type Ctx, declaredLength, hasBody, parseContentRange, reply } from './context.ts';

function sessionHeaders(name: string, id: string, size: number): Record<string, string> {
  return {
    Location: registryPaths.upload(name, id),
    Range: `0-${Math.max(size - 1, 0)}`,
    'Docker-Upload-UUID': id,
  };
}

async function session(ctx: Ctx): Promise<UploadSession> {
  const s = await ctx.deps.store.getUpload(ctx.params.name, ctx.params.uuid);
  if (s === null) throw registryError('BLOB_UPLOAD_UNKNOWN', undefined, { detail: { uuid: ctx.params.uuid } });
  return s;
}

/** Append the request body to the session, checking `Content-Range` and `Content-Length`. */
async function appendBody(ctx: Ctx, s: UploadSession): Promise<number> {
  const declared = declaredLength(ctx.req);
  let expectedLength = declared;
  const cr = ctx.req.headers['content-range'];
  if (cr !== undefined) {
    const range = parseContentRange(cr);
    if (range === null) throw registryError('BLOB_UPLOAD_INVALID', 'malformed Content-Range', { detail: { contentRange: cr } });
    if (range.start !== s.size) {
      throw registryError('BLOB_UPLOAD_INVALID', 'chunk out of order', { status: 416, detail: { size: s.size }, headers: { Range: `0-${Math.max(s.size - 1, 0)}` } });
    }
    const length = range.end - range.start + 1;
    if (declared !== undefined && declared !== length) {
      throw registryError('SIZE_INVALID', 'Content-Length does not match Content-Range', { detail: { contentLength: declared, contentRange: cr } });
    }
    expectedLength = length;
  }
  return ctx.deps.store.appendUpload(ctx.params.name, s.id, s.size, ctx.req, {
    ...(expectedLength === undefined ? {} : { expectedLength }),
    maxSize: ctx.deps.limits.maxBlobBytes,
    onChunk: (n) => uploadPacer.add(n),
  });
}

export async function startUpload(ctx: Ctx): Promise<void> {
  const { store } = ctx.deps;
  const { name } = ctx.params;
  const mount = ctx.query.get('mount');
  if (mount !== null && (await tryMount(ctx, mount, ctx.query.get('from')))) return;

  const digestParam = ctx.query.get('digest');
  if (digestParam !== null) {
    const digest = requireDigest(digestParam);
    const s = await store.createUpload(name);
    try {
      await appendBody(ctx, s);
      await store.commitUpload(name, s.id, digest);
    } catch (err) {
      await store.cancelUpload(name, s.id).catch(() => false);
      throw err;
    }
    reply(ctx, 201, { Location: registryPaths.blob(name, digest), 'Docker-Content-Digest': digest });
    return;
  }
  const alg = ctx.query.get('digest-algorithm');
  if (alg !== null && !isDigestAlgorithm(alg)) throw registryError('DIGEST_INVALID', `unsupported digest algorithm ${JSON.stringify(alg)}`);
  const s = await store.createUpload(name);
  reply(ctx, 202, sessionHeaders(name, s.id, 0));
}

/**
 * Cross-repository mount: link the blob when `from` names a repository that has it and the
 * client may pull from it. Anything short of that falls back to an ordinary upload session,
 * as the spec allows ("unable to mount → 202").
 */
async function tryMount(ctx: Ctx, mountParam: string, from: string | null): Promise<boolean> {
  const digest = parseDigest(mountParam);
  if (digest === null) throw registryError('DIGEST_INVALID', 'invalid or unsupported mount digest', { detail: { digest: mountParam } });
  if (from === null || !isValidRepositoryName(from)) return false;
  const { auth, store } = ctx.deps;
  if (auth !== undefined) {
    try {
      await auth.authorized({ authorization: ctx.req.headers.authorization, host: ctx.req.headers.host }, repositoryAccess(from, ['pull']));
    } catch {
      return false;
    }
  }
  if (!(await store.hasBlob(from, digest))) return false;
  await store.linkBlob(ctx.params.name, digest);
  reply(ctx, 201, { Location: registryPaths.blob(ctx.params.name, digest), 'Docker-Content-Digest': digest });
  return true;
}

export async function uploadStatus(ctx: Ctx): Promise<void> {
  const s = await session(ctx);
  reply(ctx, 204, sessionHeaders(ctx.params.name, s.id, s.size));
}

export async function patchUpload(ctx: Ctx): Promise<void> {
  const s = await session(ctx);
  const size = await appendBody(ctx, s);
  reply(ctx, 202, sessionHeaders(ctx.params.name, s.id, size));
}

export async function putUpload(ctx: Ctx): Promise<void> {
  const raw = ctx.query.get('digest');
  if (raw === null) throw registryError('DIGEST_INVALID', 'the digest query parameter is required');
  const digest = requireDigest(raw);
  const s = await session(ctx);
  if (hasBody(ctx.req)) await appendBody(ctx, s);
  await ctx.deps.store.commitUpload(ctx.params.name, s.id, digest);
  reply(ctx, 201, { Location: registryPaths.blob(ctx.params.name, digest), 'Docker-Content-Digest': digest });
}

export async function cancelUpload(ctx: Ctx): Promise<void> {
  if (!(await ctx.deps.store.cancelUpload(ctx.params.name, ctx.params.uuid))) {
    throw registryError('BLOB_UPLOAD_UNKNOWN', undefined, { detail: { uuid: ctx.params.uuid } });
  }
  reply(ctx, 204, {});
}
