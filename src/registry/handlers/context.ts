/**
 * What every registry handler receives, and the small HTTP helpers they share: replies with the
 * headers Docker clients expect, bounded body reads, and the `Content-Range`/`Range` grammars.
 * Handlers get their dependencies from the context, which the app builds per request from the
 * options it was constructed with (no globals, no request-scoped lookups).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessController } from '../../auth/access.ts';
import type { RegistryLimits } from '../config.ts';
import { registryError } from '../errors.ts';
import type { TrustPolicy } from '../policy.ts';
import type { Method, RouteParams } from '../routes.ts';
import type { RegistryStore } from '../store/types.ts';

export interface RegistryDeps {
  readonly store: RegistryStore;
  readonly policy: TrustPolicy;
  readonly auth: AccessController | undefined;
  readonly limits: RegistryLimits;
  readonly deleteEnabled: boolean;
}

export interface Ctx {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly method: Method;
  /** HEAD: send headers only. */
  readonly head: boolean;
  readonly params: RouteParams;
  readonly query: URLSearchParams;
  readonly deps: RegistryDeps;
}

export type Handler = (ctx: Ctx) => Promise<void>;

/** End the response with a status, headers and an optional body (omitted for HEAD). */
export function reply(ctx: Ctx, status: number, headers: Record<string, string | number | string[]>, body?: string | Uint8Array): void {
  const { res } = ctx;
  res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  if (body === undefined) {
    if (!res.hasHeader('Content-Length')) res.setHeader('Content-Length', 0);
    res.end();
    return;
  }
  if (!res.hasHeader('Content-Length')) res.setHeader('Content-Length', typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
  res.end(ctx.head ? undefined : body);
}

export function replyJson(ctx: Ctx, status: number, value: unknown, headers: Record<string, string | number | string[]> = {}, contentType = 'application/json; charset=utf-8'): void {
  reply(ctx, status, { 'Content-Type': contentType, ...headers }, JSON.stringify(value));
}

/** The request's declared Content-Length, or undefined (chunked or absent). @throws SIZE_INVALID when malformed */
export function declaredLength(req: IncomingMessage): number | undefined {
  const raw = req.headers['content-length'];
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw registryError('SIZE_INVALID', 'malformed Content-Length');
  return Number(raw);
}

/** True when the request carries body bytes (a positive length, or chunked encoding). */
export function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  if (len !== undefined) return len !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

/**
 * Read a whole body of at most `limit` bytes (manifests). Over the limit → 413 before reading,
 * when the length is declared, or as soon as it is exceeded.
 * @throws RegistryApiError MANIFEST_INVALID (413), SIZE_INVALID
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = (): Error => registryError('MANIFEST_INVALID', `manifest exceeds the ${limit}-byte limit`, { status: 413, detail: { limit } });
  const declared = declaredLength(req);
  if (declared !== undefined && declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of req) {
    n += (chunk as Buffer).byteLength;
    if (n > limit) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  if (declared !== undefined && n !== declared) throw registryError('SIZE_INVALID', 'body shorter than Content-Length');
  return Buffer.concat(chunks);
}

/** `Content-Range` of a chunk: `<start>-<end>` inclusive (an optional `bytes` unit is tolerated). */
export function parseContentRange(value: string): { start: number; end: number } | null {
  const m = /^(?:bytes[ =])?(\d+)-(\d+)$/.exec(value.trim());
  if (m === null) return null;
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return null;
  return { start, end };
}

export type ByteRange = { readonly start: number; readonly end: number } | 'unsatisfiable' | null;

/**
 * A single `Range: bytes=…` request header against a blob of `size` bytes (RFC 9110 §14.1.2).
 * null = serve the whole blob (no header, another unit, several ranges or a malformed one).
 */
export function parseRangeHeader(value: string | undefined, size: number): ByteRange {
  if (value === undefined) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (m === null || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(size - suffix, 0), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return null;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

/** A positive integer query parameter, or undefined when absent or not a non-negative integer. */
export function pageSize(query: URLSearchParams, max: number): number | undefined {
  const raw = query.get('n');
  if (raw === null || !/^\d+$/.test(raw)) return undefined;
  return Math.min(Number(raw), max);
}
