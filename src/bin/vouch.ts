#!/usr/bin/env node
/**
 * The `vouch` command: the composition root that picks concrete implementations.
 *
 * Commands so far:
 * - `vouch server --config FILE` — the trust server, a drop-in for `notary-server -config FILE`
 *   (notary-server's single-dash flags `-config`, `-logf`, `-debug`, `-version` are accepted too).
 *
 * Exit codes: 0 after a clean SIGINT/SIGTERM shutdown, 1 when startup fails (bad config, port
 * in use…), with the reason on stderr.
 *
 * Example: vouch server -config fixtures/server-config.json
 */
import { realpathSync } from 'node:fs';
import { enableCompileCache, flushCompileCache } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import type { LogLevel, ServerConfig } from '../config/index.ts';
import type { RunningTrustServer, TrustServiceFactory } from '../server/serve.ts';

/** notary-server's Go-style single-dash long flags, rewritten for commander. */
const GO_FLAGS = ['config', 'logf', 'debug', 'version', 'bootstrap'];

export function normaliseArgv(argv: readonly string[]): string[] {
  return argv.map((a) => {
    const m = /^-([a-z]+)(=.*)?$/.exec(a);
    return m !== null && GO_FLAGS.includes(m[1]!) ? `--${m[1]}${m[2] ?? ''}` : a;
  });
}

export async function createLogger(level: LogLevel, format: 'json' | 'logfmt' = 'json'): Promise<Logger> {
  // logfmt is accepted for flag compatibility; pino writes JSON lines either way.
  void format;
  const { pino } = await import('pino');
  return pino({ level, base: { service: 'vouch-server' } }, pino.destination(2));
}

export interface ServerCommandDeps {
  /** Default: createTrustService from ./trust-service-factory.ts. */
  readonly createTrustService?: TrustServiceFactory;
  /** Default: process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Called with the running server (tests use it to stop it). */
  readonly onListening?: (server: RunningTrustServer, config: ServerConfig) => void;
  /** Install SIGINT/SIGTERM handlers (default true). */
  readonly handleSignals?: boolean;
  readonly stdout?: (line: string) => void;
}

/** `vouch server`: load config, start, print the address, stop cleanly on SIGINT/SIGTERM. */
export async function runServer(opts: { config?: string; logf?: string }, deps: ServerCommandDeps = {}): Promise<RunningTrustServer> {
  const env = deps.env ?? process.env;
  // The server's modules load here, so that the client commands never pay for them.
  const [{ loadServerConfig }, { startTrustServer }, { createTrustService }, { defaultServerHints, prepareDefaultServer }] = await Promise.all([
    import('../config/index.ts'),
    import('../server/serve.ts'),
    import('./trust-service-factory.ts'),
    import('./default-server.ts'),
  ]);
  // No --config: the zero-configuration server in a data dir of its own.
  const defaults = opts.config === undefined ? await prepareDefaultServer(env['VOUCH_DATA_DIR'] ?? 'vouch-data') : null;
  const config = await loadServerConfig(opts.config ?? defaults!.configFile, deps.env === undefined ? {} : { env: deps.env });
  const logger = await createLogger(config.logging.level, opts.logf === 'logfmt' ? 'logfmt' : 'json');
  for (const w of config.warnings) logger.warn(w);
  const factory = deps.createTrustService ?? createTrustService;
  const running = await startTrustServer(config, { createTrustService: factory, logger: logger as unknown as FastifyBaseLogger });
  const print = deps.stdout ?? ((l: string) => process.stdout.write(`${l}\n`));
  print(`vouch server listening on ${running.url}`);
  // Every module the server needs is loaded now: write them to the compile cache at once rather
  // than at exit, so the next start needs no type stripping (see ./server-process.ts).
  flushCompileCache();
  if (defaults !== null) for (const line of defaultServerHints(defaults, running.url)) print(line);
  logger.info({ url: running.url, storage: config.storage.backend, trustService: config.trustService.type }, 'listening');
  if (deps.handleSignals !== false) {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal }, 'shutting down');
      running.close().then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'error during shutdown');
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  }
  deps.onListening?.(running, config);
  return running;
}

/** The command words each optional group of commands registers (the notary commands aside). */
const GROUPS = {
  signer: ['signer'],
  trust: ['trust'],
  image: ['login', 'logout', 'pull', 'push'],
  serve: ['serve', 'policy', 'user', 'gc'],
} as const;
type Group = keyof typeof GROUPS;

/**
 * The other commands (`vouch signer`, `vouch serve` and its administration, docker's trust and
 * image commands, the notary client's), imported only when one of them may run: a `vouch server`
 * process never loads the client, its keystore, its prompts or the signer's gRPC stack; a notary
 * command (`vouch list …`) loads none of the others, and a command of one group (`vouch push`,
 * `vouch trust sign`) none of the other groups (start-up time is much of a short command). Help,
 * `--version` and unknown words load them all, so that help lists every command.
 */
async function loadOtherCommands(args: readonly string[] | undefined) {
  const notary = await import('../cli/index.ts');
  const word = args === undefined ? undefined : notary.commandWord(args);
  const owner = word === undefined ? undefined : (Object.keys(GROUPS) as Group[]).find((g) => (GROUPS[g] as readonly string[]).includes(word));
  const wants = (g: Group): boolean => !(args !== undefined && notary.runsNotaryCommand(args)) && (owner === undefined || owner === g);
  const [signer, trust, image, serve] = await Promise.all([
    wants('signer') ? import('./signer.ts') : undefined,
    wants('trust') ? import('../cli/trust-commands.ts') : undefined,
    wants('image') ? import('../cli/image-commands.ts') : undefined,
    wants('serve') ? import('./serve-command.ts') : undefined,
  ]);
  return {
    registerSignerCommand: signer?.registerSignerCommand,
    registerTrustCommands: trust?.registerTrustCommands,
    registerImageCommands: image?.registerImageCommands,
    registerServeCommands: serve?.registerServeCommands,
    registerNotaryCommands: notary.registerNotaryCommands,
  };
}

/**
 * The whole program; with `otherCommands: false` only `server`, `--version` and the notary
 * CLI's global flags (commander accepts them after the subcommand too), which is all
 * `vouch server …` needs to parse its arguments and print its help and errors. With `args`
 * that run a notary command, the signer and `vouch trust` are left out.
 */
export async function buildProgram(deps: ServerCommandDeps = {}, opts: { otherCommands?: boolean; args?: readonly string[] } = {}): Promise<Command> {
  // Imported here rather than at the top, so that they come from the compile cache (see the end).
  const [{ Command, Option }, { addGlobalOptions }, { GLOBAL_FLAGS }] = await Promise.all([import('commander'), import('../cli/command.ts'), import('../cli/usage.ts')]);
  const others = opts.otherCommands === false ? null : await loadOtherCommands(opts.args);
  const program = new Command('vouch').description('Docker Content Trust: notary-compatible trust server and tools').exitOverride();
  program
    .command('server')
    .description('run the trust server (drop-in for notary-server)')
    .option('--config <file>', "path to notary-server's configuration file (JSON or YAML); without it, a zero-configuration server in $VOUCH_DATA_DIR (default ./vouch-data)")
    .addOption(new Option('--logf <format>', 'log format').choices(['json', 'logfmt']).default('json'))
    .option('--debug', 'accepted for notary-server compatibility (no debug server)')
    .option('--bootstrap', 'accepted for notary-server compatibility (storage is migrated on start)')
    .action(async (o: { config?: string; logf: string }) => {
      await runServer(o, deps);
    });
  if (others === null) (await import('./serve-command.ts')).registerServeCommands(program);
  else others.registerServeCommands?.(program);
  others?.registerSignerCommand?.(program);
  program.version('vouch 0.1.0', '--version', 'print the version');
  if (others === null) {
    addGlobalOptions(program, GLOBAL_FLAGS);
  } else {
    others.registerTrustCommands?.(program);
    others.registerImageCommands?.(program);
    others.registerNotaryCommands(program);
  }
  return program;
}

export async function main(argv: readonly string[]): Promise<void> {
  try {
    const args = normaliseArgv(argv);
    // `vouch server …` and `vouch --version` need none of the other commands
    const alone = args[0] === 'server' || (args.length === 1 && args[0] === '--version');
    const program = await buildProgram({}, { otherCommands: !alone, args });
    await program.parseAsync(args, { from: 'user' });
  } catch (err) {
    const e = err as { code?: string; exitCode?: number; message?: string };
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) {
      process.exitCode = e.exitCode ?? 1;
      return;
    }
    process.stderr.write(`vouch: ${e.message ?? String(err)}\n`);
    process.exitCode = 1;
  }
}

function isEntryPoint(): boolean {
  const arg = process.argv[1];
  if (arg === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(arg)).href;
  } catch {
    return false;
  }
}

/**
 * What the `vouch` executable does with its `process.argv` (node, script, arguments…); the
 * launcher bin/vouch.js calls it once it has turned the compile cache on.
 */
export async function run(argv: readonly string[]): Promise<void> {
  // A reader that went away (`vouch list | head`): the rest of the output is dropped, the command
  // finishes (its cache written) and the status is the one a shell shows for notary, which
  // SIGPIPE kills — not an unhandled 'error' event.
  let brokenPipe = false;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && !brokenPipe) throw err;
    brokenPipe = true;
  });
  process.on('exit', () => {
    if (brokenPipe) process.exitCode = 128 + 13;
  });
  // `vouch server` replaces itself with a Node tuned for a server (./server-process.ts).
  if (normaliseArgv(argv.slice(2))[0] === 'server') (await import('./server-process.ts')).reexecTunedServer(argv);
  await main(argv.slice(2));
}

if (isEntryPoint()) {
  // Cache the compiled (type-stripped) modules across runs, in $NODE_COMPILE_CACHE or the temp
  // dir (NODE_DISABLE_COMPILE_CACHE=1 turns it off): it halves the start-up of every command.
  // This module itself was stripped before it could turn the cache on: bin/vouch.js, the
  // installed `vouch`, turns it on first and so skips even that.
  enableCompileCache();
  await run(process.argv);
}
