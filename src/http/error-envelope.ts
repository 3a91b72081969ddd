/**
 * The error body every Docker/notary client expects (distribution's errcode, spec §5.3):
 * `{"errors":[{"code":C,"message":M,"detail":D}]}` plus one `\n` (Go's `json.Encoder`), served as
 * `application/json; charset=utf-8`. `detail` is left out when absent (Go's `omitempty` on a nil
 * interface); `{}` is a real value (a Go struct without exported fields) and is kept.
 *
 * Which codes exist and what status they carry is decided by the server's one code table
 * (src/server/errors.ts); this file only knows the shape.
 *
 * Example: encodeErrorEnvelope([{ code: 'VERSION', message: 'A newer…', detail: {} }])
 */
import { goJsonMarshal } from './go-json.ts';

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
/** What Go's content sniffing answers for a JSON body written without a content type. */
export const SNIFFED_TEXT_CONTENT_TYPE = 'text/plain; charset=utf-8';

export interface ErrorEntry {
  readonly code: string;
  readonly message: string;
  /** undefined = no `detail` member. */
  readonly detail?: unknown;
}

export function encodeErrorEnvelope(errors: readonly ErrorEntry[]): string {
  const list = errors.map((e) => ({ code: e.code, message: e.message, detail: e.detail }));
  return goJsonMarshal({ errors: list }) + '\n';
}

/**
 * Read an error body leniently (clients read at most 1 KiB of it, spec §5.3). Returns [] when
 * the body is not an envelope.
 */
export function parseErrorEnvelope(body: string): ErrorEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return [];
  }
  if (typeof parsed !== 'object' || parsed === null) return [];
  const list = (parsed as { errors?: unknown }).errors;
  if (!Array.isArray(list)) return [];
  const out: ErrorEntry[] = [];
  for (const e of list) {
    if (typeof e !== 'object' || e === null) continue;
    const { code, message, detail } = e as Record<string, unknown>;
    if (typeof code !== 'string') continue;
    out.push({ code, message: typeof message === 'string' ? message : '', ...(detail === undefined ? {} : { detail }) });
  }
  return out;
}
