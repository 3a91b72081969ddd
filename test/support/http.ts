/**
 * Raw HTTPS requests to a trust server, for tests that send what no well-behaved client sends
 * (bad uploads, odd paths). Trusts only the test CA.
 *
 * Example:
 *   const r = await httpRequest(srv, { method: 'POST', path: `/v2/${gun}/_trust/tuf/`, body: 'x' });
 *   r.status; r.json();
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';

export interface HttpTarget {
  readonly url: string;
  readonly caFile: string;
}

export interface HttpRequest {
  readonly method?: string;
  /** Path with query, e.g. `/v2/gun/_trust/tuf/root.json`; sent as given (no normalisation). */
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Uint8Array;
  readonly timeoutMs?: number;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  text(): string;
  json(): unknown;
}

const caCache = new Map<string, Buffer>();

function caOf(file: string): Buffer {
  let ca = caCache.get(file);
  if (ca === undefined) {
    ca = readFileSync(file);
    caCache.set(file, ca);
  }
  return ca;
}

export function httpRequest(target: HttpTarget, req: HttpRequest): Promise<HttpResponse> {
  const u = new URL(target.url);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { Connection: 'close', ...req.headers };
    if (req.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length' || h.toLowerCase() === 'transfer-encoding')) {
      headers['Content-Length'] = Buffer.byteLength(req.body);
    }
    const r = request(
      {
        host: u.hostname,
        port: u.port,
        method: req.method ?? 'GET',
        path: req.path,
        headers,
        ca: caOf(target.caFile),
        servername: 'localhost',
        timeout: req.timeoutMs ?? 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text: () => body.toString('utf8'),
            json: () => JSON.parse(body.toString('utf8')) as unknown,
          });
        });
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error(`request timed out: ${req.method ?? 'GET'} ${req.path}`)));
    r.on('error', reject);
    if (req.body !== undefined) r.end(req.body);
    else r.end();
  });
}

export interface UploadPart {
  /** The part's filename = role name, e.g. `targets` or `targets/releases`. */
  readonly filename: string;
  readonly data: string | Uint8Array;
  /** Form field name; notary uses `files`. */
  readonly name?: string;
}

/** A multipart/form-data body as the notary client builds it (spec §6.1). */
export function multipartBody(parts: readonly UploadPart[], boundary = 'vouche2eboundary0123456789'): { body: Buffer; contentType: string } {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${p.name ?? 'files'}"; filename="${p.filename}"\r\n` +
          'Content-Type: application/octet-stream\r\n\r\n',
      ),
    );
    chunks.push(typeof p.data === 'string' ? Buffer.from(p.data) : Buffer.from(p.data));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** POST a multipart publish to `/v2/<gun>/_trust/tuf/`. */
export function postUpload(target: HttpTarget, gun: string, parts: readonly UploadPart[]): Promise<HttpResponse> {
  const { body, contentType } = multipartBody(parts);
  return httpRequest(target, { method: 'POST', path: `/v2/${gun}/_trust/tuf/`, headers: { 'Content-Type': contentType }, body });
}

/** GET a metadata file; `role` like `root`, `targets/releases`, `2.root`, `snapshot.<hex>`. */
export function getMeta(target: HttpTarget, gun: string, role: string): Promise<HttpResponse> {
  return httpRequest(target, { path: `/v2/${gun}/_trust/tuf/${role}.json` });
}

/** `{code, detail}` of the first error in a notary error body, or undefined. */
export function errorCode(r: HttpResponse): { code: string; detail: unknown } | undefined {
  try {
    const j = r.json() as { errors?: { code?: string; detail?: unknown }[] };
    const e = j.errors?.[0];
    if (e === undefined || typeof e.code !== 'string') return undefined;
    return { code: e.code, detail: e.detail };
  } catch {
    return undefined;
  }
}
