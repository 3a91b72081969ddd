/**
 * Pieces every registry store backend shares: the answer to an out-of-order chunk and the
 * order listings are returned in.
 */
import { registryError, type RegistryApiError } from '../errors.ts';

/** The 416 answer to an out-of-order chunk, carrying the offset the client must resume from. */
export function rangeNotSatisfiable(size: number): RegistryApiError {
  return registryError('BLOB_UPLOAD_INVALID', 'chunk out of order', {
    status: 416,
    detail: { size },
    headers: { Range: `0-${Math.max(size - 1, 0)}` },
  });
}

/** Go's sort.Strings order (byte order; names, tags and digests are ASCII). */
export function asciiSort(names: string[]): string[] {
  return names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
