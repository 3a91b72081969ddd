/**
 * `vouch trust …`: docker's trust commands (spec §12) with the docker CLI's conventions, which
 * differ from notary's (command.ts):
 *
 * - an error is printed on standard error as its message alone, exit code 1;
 * - a wrong number of arguments: `vouch: 'vouch trust sign' requires 1 argument`, a blank line,
 *   `Usage:  vouch trust sign IMAGE:TAG`, a blank line, `Run 'vouch trust sign --help' for more
 *   information` (`See …` for commands taking "at least" N), exit 1;
 * - an unknown flag: `unknown flag: --x` then the same usage lines, exit 125;
 * - a group without a subcommand (`vouch trust`, `vouch trust key`) prints its help on standard
 *   error, exit 0; a cancelled confirmation exits 0 without a message.
 *
 * The commands themselves are in trust-key.ts, trust-signer.ts, trust-sign.ts and trust-read.ts.
 *
 * @example
 *   const program = new Command('vouch');
 *   registerTrustCommands(program);
 *   registerNotaryCommands(program); // adds `trust pin` to the same group
 */
import { Command, CommanderError, Option } from 'commander';
import { processIo, type CliIo } from './io.ts';
import { RegistryManifestSource, type ManifestSource } from './trust-registry.ts';
import { TrustSession } from './trust-session.ts';

export type TrustFlagValue = boolean | string | readonly string[];

export interface TrustFlag {
  readonly name: string;
  readonly short?: string;
  readonly kind: 'bool' | 'string' | 'stringArray';
  readonly help: string;
  readonly default?: string;
}

export interface TrustInvocation {
  readonly args: readonly string[];
  readonly flags: Readonly<Record<string, TrustFlagValue | undefined>>;
  readonly io: CliIo;
  readonly session: TrustSession;
  readonly manifests: ManifestSource;
  out(text: string): void;
  err(text: string): void;
}

export interface TrustCommandSpec {
  /** What docker shows after `Usage:  docker trust …` (e.g. `sign IMAGE:TAG`). */
  readonly use: string;
  readonly short: string;
  /** `[min, max]` argument counts (max undefined = no limit). */
  readonly args: readonly [number, number | undefined];
  readonly flags?: readonly TrustFlag[];
  readonly run: (inv: TrustInvocation) => Promise<void>;
}

export interface TrustGroupSpec {
  readonly name: string;
  readonly short: string;
  readonly commands: readonly TrustCommandSpec[];
}

/** The user said no to a confirmation: nothing more is printed and the exit code is 0. */
export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = new.target.name;
  }
}

export interface TrustCommandDeps {
  /** Default: the real process. */
  readonly io?: CliIo;
  /** Default: `process.exitCode = code`. */
  readonly setExitCode?: (code: number) => void;
  /** Default: the registry over HTTPS with docker's credentials. */
  readonly manifests?: (session: TrustSession) => ManifestSource;
}

function nameOf(spec: TrustCommandSpec): string {
  return spec.use.split(' ')[0] as string;
}

/** `requires 1 argument`, `requires at least 2 arguments`, … (docker's cli.ExactArgs / RequiresMinArgs). */
function argsProblem(spec: TrustCommandSpec, n: number): { text: string; verb: 'Run' | 'See' } | null {
  const [min, max] = spec.args;
  const plural = (k: number): string => `${k} argument${k === 1 ? '' : 's'}`;
  if (max === min && n !== min) return { text: `requires ${plural(min)}`, verb: 'Run' };
  if (n < min) return { text: `requires at least ${plural(min)}`, verb: 'See' };
  if (max !== undefined && n > max) return { text: `requires at most ${plural(max)}`, verb: 'See' };
  return null;
}

function usageBlock(path: string, use: string, verb: 'Run' | 'See'): string {
  return `\nUsage:  ${path} ${use}\n\n${verb} '${path} ${use.split(' ')[0]} --help' for more information\n`;
}

function flagLine(f: TrustFlag): string {
  const head = (f.short !== undefined ? `-${f.short}, ` : '    ') + `--${f.name}` + (f.kind === 'bool' ? '' : f.kind === 'string' ? ' string' : ' stringArray');
  return `  ${head.padEnd(22)} ${f.help}${f.default !== undefined ? ` (default "${f.default}")` : ''}`;
}

function commandHelp(path: string, spec: TrustCommandSpec): string {
  let out = `\nUsage:  ${path} ${spec.use}\n\n${spec.short}\n`;
  const flags = spec.flags ?? [];
  if (flags.length > 0) out += `\nOptions:\n${flags.map(flagLine).join('\n')}\n`;
  return out;
}

/** docker's help for a command group, from the commands registered on it (so `trust pin` shows too). */
function groupHelp(path: string, short: string, cmd: Command): string {
  let out = `Usage:  ${path} COMMAND\n\n${short}\n`;
  const line = (c: Command): string => `  ${c.name().padEnd(12)}${c.description()}`;
  const byName = (a: Command, b: Command): number => (a.name() < b.name() ? -1 : 1);
  const groups = cmd.commands.filter((c) => c.commands.length > 0).sort(byName);
  const leaves = cmd.commands.filter((c) => c.commands.length === 0).sort(byName);
  if (groups.length > 0) out += `\nManagement Commands:\n${groups.map(line).join('\n')}\n`;
  if (leaves.length > 0) out += `\nCommands:\n${leaves.map(line).join('\n')}\n`;
  return out + `\nRun '${path} COMMAND --help' for more information on a command.\n`;
}

function toOption(f: TrustFlag): Option {
  const flags = (f.short !== undefined ? `-${f.short}, ` : '') + `--${f.name}` + (f.kind === 'bool' ? '' : ' <value>');
  const opt = new Option(flags, f.help);
  if (f.kind === 'stringArray') opt.argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
  if (f.default !== undefined) opt.default(f.default);
  return opt;
}

interface Ctx {
  readonly io: () => CliIo;
  readonly setExitCode: (code: number) => void;
  readonly manifests: (session: TrustSession) => ManifestSource;
}

function buildLeaf(spec: TrustCommandSpec, path: string, ctx: Ctx): Command {
  const name = nameOf(spec);
  const cmdPath = `${path} ${name}`;
  const cmd = new Command(name).description(spec.short).helpOption('-h, --help', 'Print usage');
  cmd.showSuggestionAfterError(false);
  cmd.configureOutput({
    writeOut: (s) => ctx.io().stdout.write(s),
    writeErr: (s) => ctx.io().stderr.write(s),
    outputError: (s, write) => {
      const m = /unknown option '([^']+)'/.exec(s);
      const text = m !== null ? `unknown flag: ${m[1]}` : s.replace(/^error: /, '').trim();
      write(`${text}\n${usageBlock(path, spec.use, 'Run')}`);
    },
  });
  cmd.exitOverride((err) => {
    if (err.code === 'commander.unknownOption' || err.code === 'commander.optionMissingArgument') throw new CommanderError(125, err.code, err.message);
    throw err;
  });
  cmd.configureHelp({ formatHelp: () => commandHelp(path, spec) });
  for (const f of spec.flags ?? []) cmd.addOption(toOption(f));
  cmd.argument('[args...]');
  cmd.action(async (args: string[], _o: unknown, self: Command) => {
    const io = ctx.io();
    const problem = argsProblem(spec, args.length);
    if (problem !== null) {
      io.stderr.write(`${path.split(' ')[0]}: '${cmdPath}' ${problem.text}\n${usageBlock(path, spec.use, problem.verb)}`);
      ctx.setExitCode(1);
      return;
    }
    const all = self.optsWithGlobals() as Record<string, TrustFlagValue | undefined>;
    const local = self.opts() as Record<string, TrustFlagValue | undefined>;
    const flags: Record<string, TrustFlagValue | undefined> = {};
    for (const f of spec.flags ?? []) {
      const key = f.name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      flags[f.name] = local[key] ?? (f.kind === 'bool' ? false : undefined);
    }
    const trustDir = typeof all['trustDir'] === 'string' && all['trustDir'] !== '' ? all['trustDir'] : undefined;
    const session = new TrustSession(io, trustDir === undefined ? {} : { trustDir });
    const inv: TrustInvocation = {
      args,
      flags,
      io,
      session,
      manifests: ctx.manifests(session),
      out: (t) => io.stdout.write(t),
      err: (t) => io.stderr.write(t),
    };
    try {
      await spec.run(inv);
    } catch (err) {
      if (err instanceof CancelledError) return;
      const msg = err instanceof Error ? err.message : String(err);
      if (msg !== '') io.stderr.write(`${msg}\n`);
      ctx.setExitCode(1);
    }
  });
  return cmd;
}

function buildGroup(name: string, short: string, path: string, groups: readonly TrustGroupSpec[], commands: readonly TrustCommandSpec[], ctx: Ctx): Command {
  const cmdPath = `${path} ${name}`;
  const cmd = new Command(name).description(short);
  cmd.configureOutput({ writeOut: (s) => ctx.io().stdout.write(s), writeErr: (s) => ctx.io().stderr.write(s) });
  cmd.configureHelp({ formatHelp: () => groupHelp(cmdPath, short, cmd) });
  for (const g of groups) cmd.addCommand(buildGroup(g.name, g.short, cmdPath, [], g.commands, ctx));
  for (const c of commands) cmd.addCommand(buildLeaf(c, cmdPath, ctx));
  cmd.action(() => {
    ctx.io().stderr.write(groupHelp(cmdPath, short, cmd));
  });
  return cmd;
}

/** The docker trust command tree (filled in by registerTrustCommands). */
export interface TrustTree {
  readonly groups: readonly TrustGroupSpec[];
  readonly commands: readonly TrustCommandSpec[];
}

/** Build `trust` with its groups and commands under `program`. */
export function addTrustTree(program: Command, tree: TrustTree, deps: TrustCommandDeps = {}): Command {
  let io: CliIo | undefined = deps.io;
  const ctx: Ctx = {
    io: () => (io ??= processIo()),
    setExitCode: deps.setExitCode ?? ((code) => (process.exitCode = code)),
    manifests: deps.manifests ?? ((session) => new RegistryManifestSource({ configDir: session.configDir, auth: (ref) => session.auth(ref) })),
  };
  const trust = buildGroup('trust', 'Manage trust on Docker images', program.name(), tree.groups, tree.commands, ctx);
  program.addCommand(trust);
  return trust;
}

/**
 * Add docker-style commands at the top level of `program` (`vouch push`, `pull`, `login`,
 * `logout`), with the conventions of `vouch trust …` (errors, usage, exit codes, a TrustSession).
 */
export function addDockerCommands(program: Command, specs: readonly TrustCommandSpec[], deps: TrustCommandDeps = {}): Command[] {
  let io: CliIo | undefined = deps.io;
  const ctx: Ctx = {
    io: () => (io ??= processIo()),
    setExitCode: deps.setExitCode ?? ((code) => (process.exitCode = code)),
    manifests: deps.manifests ?? ((session) => new RegistryManifestSource({ configDir: session.configDir, auth: (ref) => session.auth(ref) })),
  };
  return specs.map((s) => {
    const cmd = buildLeaf(s, program.name(), ctx);
    program.addCommand(cmd);
    return cmd;
  });
}
