/**
 * Downloads of delegated targets roles started before their turn in the updater's walk
 * (updater.ts): a GUN with 50 delegations is 50 round trips one after another otherwise.
 *
 * Only I/O moves ahead, never trust: a role is started here once its parent verified and listed
 * it (the updater calls `start` with the children of a role it just loaded), and its bytes are
 * verified only when the walk reaches it, in the walk's order, exactly as if they had been
 * downloaded then. A failed download is kept and raised at the role's turn (a role the walk
 * never reaches, because an earlier one failed, is dropped unseen). A role whose cached copy has
 * the checksum the snapshot lists is not downloaded: the walk tries the cache first and
 * downloads at its turn only if that copy does not verify.
 *
 * At most `limit` downloads run at once, started in the order asked; `maxStarts` caps how many
 * one walk may start (the updater's `maxDelegations`).
 *
 * @example
 *   const ahead = new Prefetcher({ limit: 8, maxStarts: 4096, read: (r) => cache.get(r), fetch: (r, info) => get(r, info) });
 *   ahead.start(child, set.consistentInfo(child.name));
 *   const raw = (await ahead.take(child.name)) ?? (await get(child.name, info));
 */
import { sha256Hex } from '../canonical/index.ts';
import type { ConsistentInfo } from './trusted-set.ts';

/** How many downloads a read keeps in flight by default. */
export const PREFETCH_LIMIT = 8;

export interface PrefetcherOptions {
  /** Most downloads in flight. */
  readonly limit: number;
  /** Most roles started in total. */
  readonly maxStarts: number;
  /** The cached copy of a role, or null. */
  readonly read: (role: string) => Promise<Uint8Array | null>;
  /** Download a role as `info` says. */
  readonly fetch: (role: string, info: ConsistentInfo) => Promise<Uint8Array>;
}

/** True when the cached copy is the file the snapshot lists (so the walk will take it). */
function cacheMatches(cached: Uint8Array | null, info: ConsistentInfo): boolean {
  if (cached === null || cached.length > info.length) return false;
  return info.sha256 === undefined || sha256Hex(cached) === info.sha256.toLowerCase();
}

export class Prefetcher {
  readonly #o: PrefetcherOptions;
  /** Started roles: their downloaded bytes, or null when the cached copy should do. */
  readonly #started = new Map<string, Promise<Uint8Array | null>>();
  readonly #queue: (() => void)[] = [];
  #running = 0;
  #starts = 0;

  constructor(o: PrefetcherOptions) {
    if (!Number.isSafeInteger(o.limit) || o.limit < 1) throw new RangeError(`prefetch limit must be a positive integer, got ${o.limit}`);
    this.#o = o;
  }

  /** Begin getting `role` (once; ignored past `maxStarts`). */
  start(role: string, info: ConsistentInfo): void {
    if (this.#started.has(role) || this.#starts >= this.#o.maxStarts) return;
    this.#starts++;
    const p = this.#inTurn(async () => (cacheMatches(await this.#o.read(role), info) ? null : this.#o.fetch(role, info)));
    p.catch(() => undefined); // raised by `take`, or never wanted
    this.#started.set(role, p);
  }

  /**
   * What `start` got for `role`: its bytes, or null when nothing was downloaded (not started, or
   * the cache should do). Each start is taken once.
   * @throws the download's error
   */
  async take(role: string): Promise<Uint8Array | null> {
    const p = this.#started.get(role);
    if (p === undefined) return null;
    this.#started.delete(role);
    return p;
  }

  async #inTurn<T>(job: () => Promise<T>): Promise<T> {
    // a finished job hands its slot to the next waiting one, so nothing can slip in between
    if (this.#running < this.#o.limit) this.#running++;
    else await new Promise<void>((resolve) => this.#queue.push(resolve));
    try {
      return await job();
    } finally {
      const next = this.#queue.shift();
      if (next === undefined) this.#running--;
      else next();
    }
  }
}
