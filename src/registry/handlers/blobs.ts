/**
 * Blob handlers: GET/HEAD (with a single byte range) and DELETE of `/v2/<name>/blobs/<digest>`.
 * Bytes are copied from the store through reused buffers with back-pressure; a blob is served only to repositories
 * that link it (distribution's rule), so a digest alone does not reveal another repository's data.
 */
import { registryError } from '../errors.ts';
import { parseDigest, type Digest } from '../names.ts';
import { type Ctx, parseRangeHeader, reply } from './context.ts';

export function requireDigest(raw: string): Digest {
  const d = parseDigest(raw);
  if (d === null) throw registryError('DIGEST_INVALID', 'invalid or unsupported digest', { detail: { digest: raw } });
  return d;
}

export async function getBlob(ctx: Ctx): Promise<void> {
  const { store } = ctx.deps;
  const { name } = ctx.params;
  const digest = requireDigest(ctx.params.digest);
  if (!(await store.hasBlob(name, digest))) throw registryError('BLOB_UNKNOWN', undefined, { detail: { digest } });
  const blob = await store.openBlob(digest);
  if (blob === null) throw registryError('BLOB_UNKNOWN', undefined, { detail: { digest } });
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/octet-stream',
    'Docker-Content-Digest': digest,
    ETag: `"${digest}"`,
    'Cache-Control': 'max-age=31536000',
    'Accept-Ranges': 'bytes',
  };
  const range = ctx.head ? null : parseRangeHeader(ctx.req.headers.range, blob.size);
  if (range === 'unsatisfiable') {
    await blob.close();
    reply(ctx, 416, { ...headers, 'Content-Range': `bytes */${blob.size}` });
    return;
  }
  if (ctx.head || blob.size === 0) {
    await blob.close();
    reply(ctx, 200, { ...headers, 'Content-Length': blob.size });
    return;
  }
  const { res } = ctx;
  if (range === null) {
    res.writeHead(200, { ...headers, 'Content-Length': blob.size });
  } else {
    res.writeHead(206, { ...headers, 'Content-Length': range.end - range.start + 1, 'Content-Range': `bytes ${range.start}-${range.end}/${blob.size}` });
  }
  try {
    await (range === null ? blob.copyTo(res) : blob.copyTo(res, range.start, range.end));
    res.end();
  } catch {
    // The client went away, or the disk failed mid-body: drop the connection so the client sees
    // a short body (which it verifies against the digest anyway).
    res.destroy();
  }
}

export async function deleteBlob(ctx: Ctx): Promise<void> {
  const { store, deleteEnabled } = ctx.deps;
  if (!deleteEnabled) throw registryError('UNSUPPORTED', 'deletion is disabled');
  const digest = requireDigest(ctx.params.digest);
  if (!(await store.unlinkBlob(ctx.params.name, digest))) throw registryError('BLOB_UNKNOWN', undefined, { detail: { digest } });
  reply(ctx, 202, { 'Docker-Content-Digest': digest });
}
