/**
 * `vouch trust`: docker's trust commands (spec §12) — `key generate|load`, `signer add|remove`,
 * `sign`, `revoke`, `inspect` — registered on a program. Register them before the notary
 * commands, which add `trust pin` to the same group.
 *
 * @example
 *   registerTrustCommands(program);
 *   registerNotaryCommands(program);
 */
import { Command, CommanderError } from 'commander';
import { addTrustTree, type TrustCommandDeps } from './trust-cli.ts';
import { TRUST_KEY_GROUP } from './trust-key.ts';
import { TRUST_INSPECT_COMMAND } from './trust-read.ts';
import { TRUST_SIGN_COMMANDS } from './trust-sign.ts';
import { TRUST_SIGNER_GROUP } from './trust-signer.ts';

export type { TrustCommandDeps } from './trust-cli.ts';
export type { ManifestSource, FetchedManifest } from './trust-registry.ts';

/** Add `trust` and its commands to `program`. */
export function registerTrustCommands(program: Command, deps: TrustCommandDeps = {}): Command {
  return addTrustTree(program, { groups: [TRUST_KEY_GROUP, TRUST_SIGNER_GROUP], commands: [TRUST_INSPECT_COMMAND, ...TRUST_SIGN_COMMANDS] }, deps);
}

/** Run one `vouch trust …` command line in-process (tests, embedding); resolves to the exit code. */
export async function runTrustCli(argv: readonly string[], deps: TrustCommandDeps = {}): Promise<number> {
  let code = 0;
  const program = new Command('vouch').exitOverride();
  program.option('-d, --trustDir <dir>', 'Directory where the trust data is persisted to');
  registerTrustCommands(program, { ...deps, setExitCode: (c) => (code = c) });
  try {
    await program.parseAsync(['trust', ...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
  return code;
}
