/**
 * The notary commands described as data (`CommandSpec`, `FlagSpec`) and their usage text in the
 * layout the notary CLI prints (cobra's default template, pflag's flag table), with the program
 * named `vouch`:
 *
 * ```
 * Usage:
 *   vouch list [ GUN ] [flags]
 *
 * Flags:
 *   -h, --help            help for list
 *   -r, --roles strings   Delegation roles to list targets for (will shadow targets role)
 *
 * Global Flags:
 *   -c, --configFile string   Path to the configuration file to use
 *   …
 * ```
 *
 * Flag kinds follow pflag: `strings` (comma-separated, repeatable), `ints` (same, integers),
 * `string`, `int`, `bool`.
 */
import type { Invocation } from './command.ts';

export type FlagKind = 'bool' | 'string' | 'strings' | 'ints' | 'int';

export interface FlagSpec {
  /** Long name without dashes (`roles`). */
  readonly name: string;
  /** One letter, without the dash. */
  readonly short?: string;
  readonly kind: FlagKind;
  readonly help: string;
  /** A non-zero default, shown as pflag shows it (`(default "root")`). */
  readonly default?: string;
}

export interface CommandSpec {
  /** `list [ GUN ]`: the first word is the command's name. */
  readonly use: string;
  readonly short: string;
  readonly long?: string;
  readonly flags?: readonly FlagSpec[];
  /** Absent for a group (`key`, `delegation`), which prints its help. */
  readonly run?: (inv: Invocation) => Promise<void>;
  readonly subcommands?: readonly CommandSpec[];
}

/** The persistent flags of the notary CLI, in pflag's (sorted) order. */
export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  { name: 'configFile', short: 'c', kind: 'string', help: 'Path to the configuration file to use' },
  { name: 'debug', short: 'D', kind: 'bool', help: 'Debug output' },
  { name: 'server', short: 's', kind: 'string', help: 'Remote trust server location' },
  { name: 'tlscacert', kind: 'string', help: 'Trust certs signed only by this CA' },
  { name: 'tlscert', kind: 'string', help: 'Path to TLS certificate file' },
  { name: 'tlskey', kind: 'string', help: 'Path to TLS key file' },
  { name: 'trustDir', short: 'd', kind: 'string', help: 'Directory where the trust data is persisted to' },
  { name: 'verbose', short: 'v', kind: 'bool', help: 'Verbose output' },
];

export function commandName(spec: CommandSpec): string {
  return spec.use.split(' ')[0] ?? spec.use;
}

function varName(kind: FlagKind): string {
  return kind === 'bool' ? '' : kind;
}

/** pflag's FlagUsages: flags sorted by name, descriptions aligned. */
export function flagUsages(flags: readonly FlagSpec[]): string {
  const sorted = [...flags].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const heads = sorted.map((f) => {
    let line = f.short !== undefined ? `  -${f.short}, --${f.name}` : `      --${f.name}`;
    const v = varName(f.kind);
    if (v !== '') line += ' ' + v;
    return line;
  });
  const maxlen = Math.max(0, ...heads.map((h) => h.length + 1));
  return sorted
    .map((f, i) => {
      const head = heads[i] as string;
      let help = f.help;
      if (f.default !== undefined) help += f.kind === 'string' ? ` (default ${JSON.stringify(f.default)})` : ` (default ${f.default})`;
      return `${head} ${' '.repeat(maxlen - head.length)} ${help}`.replace(/\s+$/, '');
    })
    .join('\n');
}

function helpFlag(name: string): FlagSpec {
  return { name: 'help', short: 'h', kind: 'bool', help: `help for ${name}` };
}

/** cobra's usage text for `spec`, reached through `path` (e.g. `['vouch', 'key']`). Ends with a newline. */
export function usageText(spec: CommandSpec, path: readonly string[]): string {
  const name = commandName(spec);
  const cmdPath = [...path, name].join(' ');
  const subs = spec.subcommands ?? [];
  const localFlags = [...(spec.flags ?? []), helpFlag(name)];
  let out = 'Usage:';
  if (spec.run !== undefined) out += `\n  ${[...path, spec.use].join(' ')} [flags]`;
  if (subs.length > 0) out += `\n  ${cmdPath} [command]`;
  if (subs.length > 0) {
    const names = subs.map(commandName).sort();
    const pad = Math.max(...names.map((n) => n.length), 11);
    out += '\n\nAvailable Commands:';
    for (const n of names) {
      const sub = subs.find((s) => commandName(s) === n) as CommandSpec;
      out += `\n  ${n.padEnd(pad)} ${sub.short}`;
    }
  }
  out += `\n\nFlags:\n${flagUsages(localFlags)}`;
  out += `\n\nGlobal Flags:\n${flagUsages(GLOBAL_FLAGS)}`;
  if (subs.length > 0) out += `\n\nUse "${cmdPath} [command] --help" for more information about a command.`;
  return out + '\n';
}

/** cobra's help: the long description (or short), a blank line, the usage. */
export function helpText(spec: CommandSpec, path: readonly string[]): string {
  const about = (spec.long ?? spec.short).trimEnd();
  return (about === '' ? '' : about + '\n\n') + usageText(spec, path);
}
