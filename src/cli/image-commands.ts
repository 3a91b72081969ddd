/**
 * `vouch push`, `pull`, `login`, `logout`: docker's image commands without an engine, with
 * docker content trust as docker had it (image-push.ts, image-pull.ts, image-login.ts). They
 * use the conventions of `vouch trust …` (trust-cli.ts): errors on standard error alone, exit 1;
 * an unknown flag exits 125.
 *
 * @example
 *   registerImageCommands(program);
 */
import type { Command } from 'commander';
import { IMAGE_LOGIN_COMMANDS } from './image-login.ts';
import { IMAGE_PULL_COMMAND } from './image-pull.ts';
import { IMAGE_PUSH_COMMAND } from './image-push.ts';
import { addDockerCommands, type TrustCommandDeps } from './trust-cli.ts';

export function registerImageCommands(program: Command, deps: TrustCommandDeps = {}): Command[] {
  return addDockerCommands(program, [...IMAGE_LOGIN_COMMANDS, IMAGE_PULL_COMMAND, IMAGE_PUSH_COMMAND], deps);
}
