/**
 * One thin handler per trust-server operation (spec §5.1): parse what the route captured, call
 * one `TrustService` method, shape the answer exactly as notary-server writes it. Failures are
 * thrown (typed errors or `ApiError`); the dispatcher turns them into the error envelope.
 *
 * Deliberately not here: auth, GUN-prefix filtering, cache headers, metrics (dispatch.ts), and
 * every decision about metadata (the TrustService).
 */
import { StorageError } from '../errors/index.ts';
import { isValidRoleName, readSignedCommon } from '../tuf/index.ts';
import { formatRfc1123Local, formatRfc3339NanoLocal, goJsonMarshal, goQuote, JSON_CONTENT_TYPE, SNIFFED_TEXT_CONTENT_TYPE } from '../http/index.ts';
import type { TrustOperation, RouteParams } from '../http/index.ts';
import type { Change, StoredMeta } from '../storage/types.ts';
import type { TufKey } from '../crypto/types.ts';
import type { TrustService, UploadPart } from './trust-service.ts';
import { ApiError } from './errors.ts';
import type { ServerMetrics } from './metrics.ts';
import { BodyTooLargeError, MultipartError, TruncatedPartError, multipartBoundary, partFileName, readBodyLimited, splitMultipart, type MultipartPart } from './multipart.ts';

/** The request as handlers see it (framework-free). */
export interface TrustRequest {
  readonly method: string;
  /** Path and query as received (`/v2/a/_trust/changefeed?records=1`). */
  readonly rawUrl: string;
  /** Lowercased header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

export interface TrustResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** null: no body (Content-Length: 0). */
  readonly body: string | Uint8Array | null;
  /** Ask the transport to close the connection (an unread oversize body). */
  readonly close?: boolean;
}

export interface HandlerContext {
  readonly service: TrustService;
  readonly maxUploadBytes: number;
  readonly metrics: ServerMetrics | undefined;
}

export type Handler = (ctx: HandlerContext, req: TrustRequest, params: RouteParams, query: URLSearchParams) => Promise<TrustResponse>;

/** notary's DefaultPageSize for `records=0`. */
export const DEFAULT_CHANGEFEED_PAGE = 100;

const ok = (body: string | Uint8Array | null, headers: Record<string, string> = {}): TrustResponse => ({
  status: 200,
  headers: body === null ? headers : { 'content-type': SNIFFED_TEXT_CONTENT_TYPE, ...headers },
  body,
});

/** Last-Modified per stored time and zone: cached reads hand back the same Date each time. */
const lastModifiedCache = new WeakMap<Date, { readonly tz: string | undefined; readonly text: string }>();

function lastModified(d: Date): string {
  const tz = process.env['TZ'];
  const hit = lastModifiedCache.get(d);
  if (hit !== undefined && hit.tz === tz) return hit.text;
  const text = formatRfc1123Local(d);
  lastModifiedCache.set(d, { tz, text });
  return text;
}

function metaResponse(meta: StoredMeta | null): TrustResponse {
  if (meta === null) throw new ApiError('METADATA_NOT_FOUND', {});
  return { status: 200, headers: { 'content-type': SNIFFED_TEXT_CONTENT_TYPE, 'last-modified': lastModified(meta.createdAt) }, body: meta.data };
}

/** Go's `json.Marshal(data.PublicKey)`. */
function keyResponse(key: TufKey): TrustResponse {
  return ok(goJsonMarshal({ keytype: key.keytype, keyval: { public: Buffer.from(key.public).toString('base64'), private: null } }));
}

/** Go's strconv.ParseInt(s, 10, 32): [value] or the NumError text. */
export function parseInt32(s: string): number | string {
  if (!/^[+-]?\d+$/.test(s)) return `strconv.ParseInt: parsing ${goQuote(s)}: invalid syntax`;
  const n = Number(s);
  if (n < -2147483648 || n > 2147483647) return `strconv.ParseInt: parsing ${goQuote(s)}: value out of range`;
  return n;
}

const INT64_MAX = 9223372036854775807n;

function changeJson(c: Change): Record<string, unknown> {
  return {
    ID: c.id,
    CreatedAt: formatRfc3339NanoLocal(c.createdAt),
    GUN: c.gun,
    Version: c.version,
    SHA256: c.sha256,
    Category: c.category,
  };
}

/** Any failure of a key or delete operation is UNKNOWN in notary (`ErrUnknown.WithDetail(err)`). */
async function orUnknown<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError('UNKNOWN', {}, { cause: err });
  }
}

async function publish(ctx: HandlerContext, req: TrustRequest, params: RouteParams): Promise<TrustResponse> {
  const boundary = multipartBoundary(req.headers['content-type']);
  if (boundary === null) throw new ApiError('MALFORMED_UPLOAD');
  const cl = req.headers['content-length'];
  const contentLength = cl !== undefined && /^\d+$/.test(cl) ? Number(cl) : undefined;
  let body: Buffer;
  try {
    body = await readBodyLimited(req.body, ctx.maxUploadBytes, contentLength);
  } catch (err) {
    // notary-server has no limit and answers MALFORMED_JSON for a body it cannot decode; past
    // the limit vouch stops reading, and the part it could not finish reading is that body.
    if (err instanceof BodyTooLargeError) throw new ApiError('MALFORMED_JSON', undefined, { cause: err, close: true });
    throw new ApiError('MALFORMED_UPLOAD', undefined, { cause: err });
  }
  // Parts are checked in notary's order: filename, role name, then that the part decodes as
  // {"signed":{…,"version":n},"signatures":[…]}. The last part wins for a role named twice.
  const byRole = new Map<string, Uint8Array>();
  try {
    for (const part of splitMultipart(body, boundary)) {
      const role = uploadRole(part);
      try {
        readSignedCommon(part.body, role);
      } catch (err) {
        throw new ApiError('MALFORMED_JSON', undefined, { cause: err });
      }
      byRole.delete(role);
      byRole.set(role, part.body);
    }
  } catch (err) {
    if (err instanceof TruncatedPartError) {
      uploadRole({ headers: err.headers, body: Buffer.alloc(0) });
      throw new ApiError('MALFORMED_JSON', undefined, { cause: err });
    }
    if (err instanceof MultipartError) throw new ApiError('MALFORMED_UPLOAD', undefined, { cause: err });
    throw err;
  }
  const parts: UploadPart[] = [...byRole].map(([role, data]) => ({ role, data }));
  try {
    await ctx.service.publish(params.gun!, parts);
  } catch (err) {
    // notary: a storage failure while applying the update is UPDATING, not UNKNOWN.
    if (err instanceof StorageError) throw new ApiError('UPDATING', undefined, { cause: err });
    throw err;
  }
  return ok(null);
}

/** The role a publish part is for: its filename minus `.json`. @throws ApiError NO_FILENAME / INVALID_ROLE */
function uploadRole(part: MultipartPart): string {
  const name = partFileName(part);
  const role = name.endsWith('.json') ? name.slice(0, -'.json'.length) : name;
  if (role === '') throw new ApiError('NO_FILENAME');
  if (!isValidRoleName(role)) throw new ApiError('INVALID_ROLE', role);
  return role;
}

async function changefeed(ctx: HandlerContext, _req: TrustRequest, params: RouteParams, query: URLSearchParams): Promise<TrustResponse> {
  const recordsRaw = query.get('records') ?? '';
  let records = parseInt32(recordsRaw);
  if (typeof records === 'string') throw new ApiError('INVALID_PARAMETERS', `invalid records parameter: ${records}`);
  if (records === 0) records = DEFAULT_CHANGEFEED_PAGE;
  const changeIdRaw = query.get('change_id') ?? '';
  const changeId = changeIdRaw === '' ? 0 : parseInt32(changeIdRaw);
  if (typeof changeId === 'string') throw new ApiError('INVALID_PARAMETERS', {});
  const changes = await ctx.service.changes(changeId, records, params.gun);
  // An empty page is `"records":null`, as notary's reference (memory) store answers; Go
  // clients decode null and [] alike.
  return ok(goJsonMarshal({ count: changes.length, records: changes.length === 0 ? null : changes.map(changeJson) }));
}

async function health(ctx: HandlerContext): Promise<TrustResponse> {
  try {
    await ctx.service.check();
    return { status: 200, headers: { 'content-type': JSON_CONTENT_TYPE }, body: '{}' };
  } catch (err) {
    const check = err instanceof StorageError ? 'DB operational' : 'Trust operational';
    const message = err instanceof Error ? err.message : String(err);
    return { status: 503, headers: { 'content-type': JSON_CONTENT_TYPE }, body: goJsonMarshal({ [check]: message }) };
  }
}

async function metrics(ctx: HandlerContext): Promise<TrustResponse> {
  if (ctx.metrics === undefined) throw new ApiError('METADATA_NOT_FOUND');
  return { status: 200, headers: { 'content-type': ctx.metrics.contentType }, body: ctx.metrics.render() };
}

export const HANDLERS: Readonly<Record<TrustOperation, Handler>> = {
  Main: async () => ok('{}'),
  UpdateTUF: publish,
  GetRoleByHash: async (ctx, _req, p) => metaResponse(await ctx.service.getByChecksum(p.gun!, p.role!, p.checksum!)),
  GetRoleByVersion: async (ctx, _req, p) => {
    // Go: strconv.Atoi on the captured digits; an overflow is a 404 carrying the NumError.
    if (BigInt(p.version!) > INT64_MAX) throw new ApiError('METADATA_NOT_FOUND', { Func: 'Atoi', Num: p.version!, Err: {} });
    return metaResponse(await ctx.service.getByVersion(p.gun!, p.role!, Number(p.version!)));
  },
  GetRole: async (ctx, _req, p) => metaResponse(await ctx.service.getCurrent(p.gun!, p.role!)),
  GetKey: async (ctx, _req, p) => keyResponse(await orUnknown(() => ctx.service.getOrCreateKey(p.gun!, p.role as 'snapshot' | 'timestamp'))),
  RotateKey: async (ctx, _req, p) => keyResponse(await orUnknown(() => ctx.service.rotateKey(p.gun!, p.role as 'snapshot' | 'timestamp'))),
  DeleteTUF: async (ctx, _req, p) => {
    await orUnknown(() => ctx.service.deleteGun(p.gun!));
    return ok(null);
  },
  Changefeed: changefeed,
  GlobalChangefeed: changefeed,
  Health: health,
  Metrics: metrics,
  NotFound: async () => {
    throw new ApiError('METADATA_NOT_FOUND');
  },
};
