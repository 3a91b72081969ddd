/**
 * Shared fixtures for the client read-path tests: a TestRepo served by a RepoServer, an
 * Updater wired to it (in memory, or over HTTPS), and byte-exact snapshots of a cache so a
 * test can prove a refused update changed nothing.
 *
 * @example
 *   const w = world();
 *   await w.updater().update();
 *   const before = await w.cacheBytes();
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { MemoryMetadataCache } from '../../src/client/cache.ts';
import type { FirstContactInfo } from '../../src/client/pinning.ts';
import type { MetadataCache, TrustPinConfig } from '../../src/client/types.ts';
import { Updater, type UpdaterConfig } from '../../src/client/updater.ts';
import type { Fetcher } from '../../src/http/fetcher.ts';
import { HttpRemoteStore } from '../../src/http/remote-store.ts';
import { RepoServer } from '../support/malicious-server.ts';
import { TestRepo } from '../support/tuf-repo.ts';

export const NOW = new Date('2030-06-01T08:00:00Z');
export const GUN = 'example.com/client/app';

export interface World {
  readonly repo: TestRepo;
  readonly server: RepoServer;
  readonly cache: MetadataCache;
  readonly warnings: string[];
  readonly firstContacts: FirstContactInfo[];
  /** An updater over the in-memory server (or `fetcher`), this world's cache and clock. */
  updater(o?: { pinning?: TrustPinConfig; config?: Partial<UpdaterConfig>; now?: Date; fetcher?: Fetcher; serverUrl?: string }): Updater;
  /** Every cached role and its bytes (for "unchanged" checks). */
  cacheBytes(): Promise<Map<string, string>>;
}

/** A repo with one delegation and a target in each of targets and targets/releases, served as is. */
export function world(o: { cache?: MetadataCache; repo?: TestRepo } = {}): World {
  const repo = o.repo ?? TestRepo.create({ gun: GUN, now: NOW });
  if (o.repo === undefined) {
    repo.addDelegation('targets', 'targets/releases');
    repo.addTarget('targets', 'admin', 'admin-content');
    repo.addTarget('targets/releases', 'v1', 'release-content');
    repo.publish('targets', 'targets/releases');
  }
  const server = new RepoServer(repo.gun);
  server.publish(repo);
  const cache = o.cache ?? new MemoryMetadataCache();
  const warnings: string[] = [];
  const firstContacts: FirstContactInfo[] = [];
  return {
    repo,
    server,
    cache,
    warnings,
    firstContacts,
    updater(u = {}) {
      const remote = new HttpRemoteStore({ serverUrl: u.serverUrl ?? 'https://trust.test:4443', gun: repo.gun, fetcher: u.fetcher ?? server.fetcher() });
      return new Updater({
        gun: repo.gun,
        remote,
        cache,
        now: () => u.now ?? NOW,
        onWarning: (w) => warnings.push(w),
        onFirstContact: (i) => firstContacts.push(i),
        ...(u.pinning === undefined ? {} : { trustPinning: u.pinning }),
        ...(u.config === undefined ? {} : { config: u.config }),
      });
    },
    async cacheBytes() {
      const out = new Map<string, string>();
      for (const role of cachedRoles(repo)) {
        const b = await cache.get(role);
        if (b !== null) out.set(role, Buffer.from(b).toString('base64'));
      }
      return out;
    },
  };
}

function cachedRoles(repo: TestRepo): string[] {
  return [...new Set([...repo.roles(), 'root', 'timestamp', 'snapshot', 'targets'])];
}

/** Every file below `dir` with its bytes (base64), for byte-for-byte comparisons. */
export async function dirBytes(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.set(relative(dir, p), (await readFile(p)).toString('base64'));
    }
  };
  await walk(dir);
  return out;
}

/** `assert.rejects` validator on the message only. */
export function withMessage(re: RegExp): (e: unknown) => boolean {
  return (e) => {
    if (e instanceof Error && re.test(e.message)) return true;
    throw new Error(`unexpected error: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} (wanted ${re})`);
  };
}
