/**
 * The commands of `vouch serve` and its administration, registered on the `vouch` program:
 *
 * - `vouch serve [--addr HOST:PORT] [--data-dir DIR] [--hostname NAME[:PORT]…] [--db URL] [--log-level L] [--token-ttl S]`
 *   starts the one-port server (serve.ts), prints where it listens and what to do next, and
 *   stops cleanly on SIGINT/SIGTERM (exit 0); startup failures exit 1 with the reason;
 * - `vouch policy …` and `vouch user …` (src/cli/admin-commands.ts) talk to a running one;
 * - `vouch gc [--data-dir DIR] [--db URL] [--dry-run] [--grace DURATION] [--output json]`
 *   garbage-collects the registry storage of a data dir, keeping what tags and signatures need
 *   (gc-command.ts); safe beside a running server.
 *
 * Only commander's types are imported here: the server's modules load when `serve` runs, the
 * admin client when an admin command runs, the collector when `gc` runs.
 *
 * Example: vouch serve --addr 0.0.0.0:443 --hostname registry.example.com --data-dir /var/lib/vouch
 *          vouch serve --db 'postgres://vouch:pw@db:5432/vouch?sslmode=verify-full' --data-dir /shared/vouch
 */
import type { Command } from 'commander';
import { registerAdminCommands } from '../cli/admin-commands.ts';
import type { GcCommandDeps, GcFlags } from './gc-command.ts';
import type { RunningServe, ServeDeps } from './serve.ts';

export interface ServeCommandDeps extends ServeDeps {
  /** Called with the running server (tests use it to stop it). */
  readonly onListening?: (running: RunningServe) => void;
  /** Install SIGINT/SIGTERM handlers (default true). */
  readonly handleSignals?: boolean;
  readonly stdout?: (line: string) => void;
}

interface ServeFlags {
  addr?: string;
  dataDir?: string;
  hostname?: string[];
  logLevel?: string;
  tokenTtl?: string;
  db?: string;
}

/** `vouch serve`: start, print, wait for a signal. */
export async function runServe(flags: ServeFlags, deps: ServeCommandDeps = {}): Promise<RunningServe> {
  const { startServe } = await import('./serve.ts');
  const running = await startServe(
    {
      ...(flags.addr === undefined ? {} : { addr: flags.addr }),
      ...(flags.dataDir === undefined ? {} : { dataDir: flags.dataDir }),
      ...(flags.hostname === undefined ? {} : { hostname: flags.hostname }),
      ...(flags.logLevel === undefined ? {} : { logLevel: flags.logLevel }),
      ...(flags.tokenTtl === undefined ? {} : { tokenTtl: flags.tokenTtl }),
      ...(flags.db === undefined ? {} : { db: flags.db }),
    },
    deps,
  );
  const print = deps.stdout ?? ((l: string) => process.stdout.write(`${l}\n`));
  print(`vouch serve listening on ${running.url} (registry, trust server and token service)`);
  for (const line of running.hints) print(line);
  if (deps.handleSignals !== false) {
    let stopping = false;
    const stop = (): void => {
      if (stopping) process.exit(1);
      stopping = true;
      running.close().then(
        () => process.exit(0),
        (err: unknown) => {
          process.stderr.write(`vouch: error during shutdown: ${(err as Error).message}\n`);
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  }
  deps.onListening?.(running);
  return running;
}

/** Register `serve`, `policy`, `user` and `gc`. */
export function registerServeCommands(program: Command, deps: ServeCommandDeps & { gc?: GcCommandDeps } = {}): void {
  program
    .command('serve')
    .description('run the registry, trust server and token service on one TLS port, with all data in one directory')
    .option('--addr <host:port>', 'listen address ($VOUCH_ADDR, default 127.0.0.1:5000)')
    .option('--data-dir <dir>', 'data directory ($VOUCH_DATA_DIR, default ./vouch-data)')
    .option('--hostname <name...>', 'other names clients use for this server, NAME or NAME:PORT, for its certificate and trust data lookups ($VOUCH_HOSTNAMES)')
    .option('--db <url>', 'PostgreSQL (postgres://…) or MySQL/MariaDB (user:pass@tcp(host:3306)/db, mysql://…) database instead of SQLite in the data dir ($VOUCH_DB_URL)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug or trace ($VOUCH_LOG_LEVEL, default info)')
    .option('--token-ttl <seconds>', 'bearer token lifetime ($VOUCH_TOKEN_TTL, default 300)')
    .action(async (flags: ServeFlags) => {
      await runServe(flags, deps);
    });
  registerAdminCommands(program);
  program
    .command('gc')
    .description("delete the registry's unreferenced manifests and blobs, keeping what a tag or a signature needs (safe while vouch serve runs)")
    .option('--data-dir <dir>', 'the data directory of vouch serve ($VOUCH_DATA_DIR, default ./vouch-data)')
    .option('--db <url>', 'the database of vouch serve when not SQLite in the data dir ($VOUCH_DB_URL)')
    .option('--dry-run', 'print what would be deleted, delete nothing')
    .option('--grace <duration>', 'keep anything younger than this, such as pushes in flight (default 1h; 0s, 30m, 1h30m, 7d)')
    .option('--output <format>', 'json')
    .action(async (flags: GcFlags) => {
      await (await import('./gc-command.ts')).runGc(flags, deps.gc);
    });
}
