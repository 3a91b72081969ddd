/**
 * The passphrase retriever of the notary and docker CLIs (spec §9.3): an environment variable when
 * one is set for the key's alias (passphrase-env.ts), else notary's terminal prompt
 * (passphrase-terminal.ts), which refuses at once when there is no terminal, naming the variables
 * to set. A retriever gives up by throwing PassphraseError; it never waits for input that cannot come.
 *
 * @example
 *   const retriever = createPassphraseRetriever({ env: process.env, input: process.stdin,
 *     output: process.stdout, isTTY: process.stdin.isTTY === true });
 */
import type { PassphraseRetriever } from './client-types.ts';
import { envPassphrase, envPassphraseRetriever } from './passphrase-env.ts';
import type { PassphraseEnv } from './passphrase-env.ts';
import { terminalPassphraseRetriever } from './passphrase-terminal.ts';
import type { TerminalPassphraseOptions } from './passphrase-terminal.ts';

export interface PassphraseRetrieverOptions extends Partial<TerminalPassphraseOptions> {
  /** Environment to read variables from (default `process.env`). */
  readonly env?: PassphraseEnv;
}

/**
 * The CLIs' retriever: an environment variable when one is set for the alias, else the terminal
 * prompt (which refuses at once without a terminal). Without `input`/`output` there is no terminal.
 */
export function createPassphraseRetriever(options: PassphraseRetrieverOptions = {}): PassphraseRetriever {
  const env = options.env ?? process.env;
  const fromEnv = envPassphraseRetriever(env);
  const { input, output } = options;
  const fromTerminal =
    input !== undefined && output !== undefined
      ? terminalPassphraseRetriever({ ...options, input, output, isTTY: options.isTTY ?? false })
      : terminalPassphraseRetriever({ input: process.stdin, output: process.stderr, isTTY: false });
  return (request) => (envPassphrase(request.alias, env) !== undefined ? fromEnv(request) : fromTerminal(request));
}
