/**
 * Turns `CommandSpec`s into commander commands that behave like the notary CLI (cobra + pflag):
 *
 * - every positional argument reaches the command, which checks them itself (notary's messages);
 * - flags parse as pflag parses them: `strings`/`ints` split on commas and repeat, `int` checked;
 * - a command's error is printed on standard output as an empty line then `* fatal: <message>`,
 *   and the exit code is 1; `UsageError` prints the usage first; `FatalError` without the blank
 *   line (notary's direct `fatalf`);
 * - commander's own parse errors (unknown flag, missing value) come out in pflag's words, on
 *   standard output, with exit code 1;
 * - `--help` and bare groups (`vouch key`) print cobra-style help, exit 0.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { CliIo } from './io.ts';
import { commandName, helpText, usageText, type CommandSpec, type FlagSpec } from './usage.ts';
import type { GlobalFlags } from './config.ts';

/** The command was used wrongly (it prints its usage with `inv.usage()` first, as notary does). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Print `* fatal: <message>` with no blank line before it (notary calling fatalf itself). */
export class FatalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export type FlagValue = boolean | string | number | readonly string[] | readonly number[] | undefined;

export interface Invocation {
  readonly args: readonly string[];
  /** Local flags by long name (unset ones absent, except bools: false). */
  readonly flags: Readonly<Record<string, FlagValue>>;
  readonly globals: GlobalFlags;
  readonly io: CliIo;
  /** Write text to standard output. */
  out(text: string): void;
  /** Print this command's usage (as notary does before a usage error). */
  usage(): void;
}

export interface BuildOptions {
  readonly io: () => CliIo;
  readonly setExitCode: (code: number) => void;
}

/** Go's strconv.Atoi on one value, with pflag's error text. */
function parseGoInt(value: string, flag: FlagSpec): number {
  if (!/^[+-]?\d+$/.test(value)) {
    throw new InvalidArgumentError(`invalid argument ${JSON.stringify(value)} for "${flagLabel(flag)}" flag: strconv.Atoi: parsing ${JSON.stringify(value)}: invalid syntax`);
  }
  return Number.parseInt(value, 10);
}

function rootOf(cmd: Command): Command {
  let c = cmd;
  while (c.parent !== null) c = c.parent;
  return c;
}

/** commander's key for an option: the long name in camelCase (`all-paths` → `allPaths`). */
function attributeName(long: string): string {
  return long.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function flagLabel(f: FlagSpec): string {
  return f.short !== undefined ? `-${f.short}, --${f.name}` : `--${f.name}`;
}

/** pflag's stringSlice reads each value as one CSV record. */
export function splitCsv(value: string): string[] {
  if (value === '') return [];
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (quoted) {
      if (c === '"' && value[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && cur === '') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function toOption(f: FlagSpec): Option {
  const flags = (f.short !== undefined ? `-${f.short}, ` : '') + `--${f.name}` + (f.kind === 'bool' ? '' : ` <${f.kind}>`);
  const opt = new Option(flags, f.help);
  if (f.kind === 'strings') opt.argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), ...splitCsv(v)]);
  if (f.kind === 'ints') opt.argParser((v: string, prev: number[] | undefined) => [...(prev ?? []), ...splitCsv(v).map((x) => parseGoInt(x.trim(), f))]);
  if (f.kind === 'int') opt.argParser((v: string) => parseGoInt(v, f));
  return opt;
}

/** commander's parse error in pflag's words. */
export function pflagMessage(commanderMessage: string, rawArgs: readonly string[] = []): string {
  const msg = commanderMessage.replace(/^error: /, '').trim();
  let m = /^option '[^']*' argument '[^']*' is invalid\. (.*)$/s.exec(msg);
  if (m !== null) return m[1] as string;
  m = /^unknown option '(-[^-])'/.exec(msg);
  if (m !== null) return `unknown shorthand flag: '${(m[1] as string).slice(1)}' in ${m[1]}`;
  m = /^unknown option '(--[^']+)'/.exec(msg);
  if (m !== null) return `unknown flag: ${m[1]}`;
  m = /^option '(?:-(\w), )?--([^ ']+)[^']*' argument missing/.exec(msg);
  if (m !== null) {
    const usedShort = m[1] !== undefined && !rawArgs.includes(`--${m[2]}`);
    return usedShort ? `flag needs an argument: '${m[1]}' in -${m[1]}` : `flag needs an argument: --${m[2]}`;
  }
  m = /^unknown command '([^']+)'/.exec(msg);
  if (m !== null) return `unknown command ${JSON.stringify(m[1])}`;
  return msg;
}

/** Print an error the way notary's main does. */
export function printFatal(io: CliIo, err: unknown): void {
  io.stdout.write(`${err instanceof FatalError ? '' : '\n'}* fatal: ${errorText(err)}\n`);
}

/**
 * vouch's fuller account of an error whose printed text is notary's (`notaryMessage`): the
 * library's message, which names the role notary leaves out (`timestamp: version 3 is lower
 * than current version 5`), plus the limit an oversize response broke. Undefined when notary's
 * text already says it all. Looks through `cause`s, since commands wrap library errors.
 */
export function errorDetail(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const notary = (e as { notaryMessage?: unknown }).notaryMessage;
    if (typeof notary !== 'string' || notary === e.message) continue;
    const limit = (e as { limit?: unknown }).limit;
    return typeof limit === 'number' ? `${e.message} (more than the ${limit} bytes allowed)` : e.message;
  }
  return undefined;
}

/**
 * Log `errorDetail(err)` at level error on standard error, next to notary's words on standard
 * output (the logger is loaded only when a command fails).
 */
async function logErrorDetail(io: CliIo, err: unknown): Promise<void> {
  const detail = errorDetail(err);
  if (detail === undefined) return;
  const { CliLogger } = await import('./log.ts');
  new CliLogger(io.stderr, 'error', io.now).error(detail);
}

/** The text notary would print for an error: its message (notary's own words where the library kept them). */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const notary = (err as { notaryMessage?: unknown }).notaryMessage;
  return typeof notary === 'string' ? notary : err.message;
}

/** Build the commander command for `spec` (reached through `path`, e.g. `['vouch']`). */
export function buildCommand(spec: CommandSpec, path: readonly string[], o: BuildOptions): Command {
  const name = commandName(spec);
  const cmd = new Command(name).description(spec.short);
  cmd.helpOption('-h, --help', `help for ${name}`);
  cmd.showSuggestionAfterError(false);
  cmd.exitOverride();
  cmd.configureOutput({
    writeOut: (s) => o.io().stdout.write(s),
    writeErr: (s) => o.io().stdout.write(s),
    outputError: (s, write) => write(`\n* fatal: ${pflagMessage(s, (rootOf(cmd) as Command & { rawArgs?: string[] }).rawArgs ?? [])}\n`),
  });
  cmd.configureHelp({ formatHelp: () => helpText(spec, path) });
  for (const f of spec.flags ?? []) cmd.addOption(toOption(f));
  for (const sub of spec.subcommands ?? []) cmd.addCommand(buildCommand(sub, [...path, name], o));

  const run = spec.run;
  cmd.argument('[args...]');
  cmd.action(async (args: string[], _opts: unknown, self: Command) => {
    const io = o.io();
    if (run === undefined) {
      io.stdout.write(helpText(spec, path));
      return;
    }
    const local = self.opts() as Record<string, FlagValue>;
    const flags: Record<string, FlagValue> = {};
    for (const f of spec.flags ?? []) flags[f.name] = local[attributeName(f.name)] ?? (f.kind === 'bool' ? false : f.kind === 'string' ? f.default : undefined);
    const inv: Invocation = {
      args,
      flags,
      globals: self.optsWithGlobals() as GlobalFlags,
      io,
      out: (text) => io.stdout.write(text),
      usage: () => io.stdout.write(usageText(spec, path)),
    };
    try {
      await run(inv);
    } catch (err) {
      await logErrorDetail(io, err);
      printFatal(io, err);
      o.setExitCode(1);
    }
  });
  return cmd;
}

/** Add the global flags to `program` unless it already has them. */
export function addGlobalOptions(program: Command, flags: readonly FlagSpec[]): void {
  for (const f of flags) {
    if (program.options.some((opt) => opt.long === `--${f.name}`)) continue;
    program.addOption(toOption(f));
  }
}
