/**
 * Public surface of src/cli: the `vouch` commands that replace the `notary` CLI (spec §11) —
 * `init`, `add`, `addhash`, `remove`, `list`, `lookup`, `publish`, `status`, `reset`, `verify`,
 * `delete`, `witness`, `key …`, `delegation …` with notary's global flags (`-c`, `-d`, `-s`,
 * `--tlscacert`, `--tlscert`, `--tlskey`, `-D`, `-v`) — plus `vouch trust pin GUN KEYID`.
 *
 * Same words, tables and exit codes as notary 0.7 on a trust dir shared with notary and docker;
 * every table command also takes `--output json` (shapes in tables.ts). Commands are thin:
 * the work happens in src/client, src/keystore and src/http. Registering is cheap: a command's
 * body (and the libraries behind it) is loaded when it runs (specs.ts).
 *
 * @example
 *   const program = new Command('vouch');
 *   registerNotaryCommands(program);
 *   await program.parseAsync(['-d', '/tmp/trust', 'key', 'list'], { from: 'user' });
 */
import type { Command } from 'commander';
import { addGlobalOptions, buildCommand, type BuildOptions } from './command.ts';
import { DELEGATION_COMMAND, KEY_COMMAND, READ_COMMANDS, STAGE_COMMANDS, TRUST_PIN_COMMAND } from './specs.ts';
import { processIo, type CliIo } from './io.ts';
import { commandName, GLOBAL_FLAGS } from './usage.ts';

export type { CliIo } from './io.ts';
export type { ClientConfig, GlobalFlags } from './config.ts';

export interface NotaryCommandDeps {
  /** Standard streams, environment, working dir and clock; default the real process. */
  readonly io?: CliIo;
  /** Default: `process.exitCode = code`. */
  readonly setExitCode?: (code: number) => void;
}

/** Every notary command, in notary's order of registration. */
const TOP_LEVEL = [KEY_COMMAND, DELEGATION_COMMAND, ...STAGE_COMMANDS, ...READ_COMMANDS];

/**
 * The command word of `argv`: its first word after the global flags and their values
 * (undefined when there is none, or after `--`). Decides on the words alone; commander still
 * parses them.
 */
export function commandWord(argv: readonly string[]): string | undefined {
  const takesValue = new Set<string>();
  for (const f of GLOBAL_FLAGS) {
    if (f.kind === 'bool') continue;
    takesValue.add(`--${f.name}`);
    if (f.short !== undefined) takesValue.add(`-${f.short}`);
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') return undefined;
    if (!a.startsWith('-') || a === '-') return a;
    if (a.startsWith('--')) {
      if (takesValue.has(a)) i++; // `--server URL`; `--server=URL` carries its value
      continue;
    }
    // a cluster of short flags (`-Dv`, `-Ds URL`, `-sURL`): the first one taking a value ends it
    const at = [...a.slice(1)].findIndex((c) => takesValue.has(`-${c}`));
    if (at === a.length - 2) i++;
  }
  return undefined;
}

/**
 * True when `argv` runs one of the notary commands, so that `vouch` need not load its other
 * commands.
 */
export function runsNotaryCommand(argv: readonly string[]): boolean {
  const word = commandWord(argv);
  return word !== undefined && TOP_LEVEL.some((spec) => commandName(spec) === word);
}

/**
 * Add the notary commands, the global flags and `trust pin` to `program`. An existing `trust`
 * command (docker's trust commands) receives `pin`; otherwise a `trust` group is created.
 */
export function registerNotaryCommands(program: Command, deps: NotaryCommandDeps = {}): void {
  let io: CliIo | undefined = deps.io;
  const o: BuildOptions = {
    io: () => (io ??= processIo()),
    setExitCode: deps.setExitCode ?? ((code) => (process.exitCode = code)),
  };
  addGlobalOptions(program, GLOBAL_FLAGS);
  for (const spec of TOP_LEVEL) program.addCommand(buildCommand(spec, [program.name()], o));
  let trust = program.commands.find((c) => c.name() === 'trust');
  if (trust === undefined) {
    trust = program.command('trust').description('Docker Content Trust commands (vouch additions)');
  }
  trust.addCommand(buildCommand(TRUST_PIN_COMMAND, [program.name(), 'trust'], o));
}

/**
 * Run one `vouch` notary command line in-process (tests, embedding): a fresh program with the
 * notary commands; resolves to the exit code.
 */
export async function runNotaryCli(argv: readonly string[], deps: NotaryCommandDeps = {}): Promise<number> {
  const { Command, CommanderError } = await import('commander');
  let code = 0;
  const program = new Command('vouch').exitOverride();
  registerNotaryCommands(program, { ...deps, setExitCode: (c) => (code = c) });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
  return code;
}
