/**
 * Passphrases from environment variables, as the notary and docker CLIs read them (spec §9.3):
 * notary's variables first (`NOTARY_ROOT_PASSPHRASE`, `NOTARY_TARGETS_PASSPHRASE`,
 * `NOTARY_SNAPSHOT_PASSPHRASE`, and `NOTARY_DELEGATION_PASSPHRASE` for any alias that is not a base
 * role), then docker's (`DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE` for root,
 * `DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE` for every other alias). An empty variable counts as
 * unset. The value is offered on the first two calls for a key; the third call gives up, as both
 * CLIs do.
 *
 * @example
 *   envPassphrase('targets', process.env); // { name: 'NOTARY_TARGETS_PASSPHRASE', value: '…' } or undefined
 */
import { PassphraseError } from '../errors/index.ts';
import type { PassphraseRetriever } from './client-types.ts';

export type PassphraseEnv = Readonly<Record<string, string | undefined>>;

/** notary's roles that are never "delegation" for the environment lookup (`data.IsBaseRole`). */
const BASE_ROLES: ReadonlySet<string> = new Set(['root', 'targets', 'snapshot', 'timestamp']);

const NOTARY_BY_ALIAS: Readonly<Record<string, string>> = {
  root: 'NOTARY_ROOT_PASSPHRASE',
  targets: 'NOTARY_TARGETS_PASSPHRASE',
  snapshot: 'NOTARY_SNAPSHOT_PASSPHRASE',
  delegation: 'NOTARY_DELEGATION_PASSPHRASE',
};
export const NOTARY_DELEGATION_PASSPHRASE = 'NOTARY_DELEGATION_PASSPHRASE';
export const DOCKER_ROOT_PASSPHRASE = 'DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE';
export const DOCKER_REPOSITORY_PASSPHRASE = 'DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE';

/**
 * The variables consulted for a key alias, in lookup order (notary's first, then docker's).
 * `passphraseEnvNames('root')` → NOTARY_ROOT_PASSPHRASE, DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE.
 */
export function passphraseEnvNames(alias: string): string[] {
  const names: string[] = [];
  const own = Object.hasOwn(NOTARY_BY_ALIAS, alias) ? NOTARY_BY_ALIAS[alias] : undefined;
  if (own !== undefined) names.push(own);
  if (!BASE_ROLES.has(alias) && own !== NOTARY_DELEGATION_PASSPHRASE) names.push(NOTARY_DELEGATION_PASSPHRASE);
  names.push(alias === 'root' ? DOCKER_ROOT_PASSPHRASE : DOCKER_REPOSITORY_PASSPHRASE);
  return names;
}

/** The first non-empty variable for `alias`, or undefined. */
export function envPassphrase(alias: string, env: PassphraseEnv): { name: string; value: string } | undefined {
  for (const name of passphraseEnvNames(alias)) {
    const value = env[name];
    if (value !== undefined && value !== '') return { name, value };
  }
  return undefined;
}

/** Calls (attempt 0, 1) on which an environment passphrase is offered; the CLIs give up on the third. */
const ENV_ATTEMPTS = 2;

/** "set NOTARY_ROOT_PASSPHRASE or DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE" */
export function envHint(alias: string): string {
  return `set ${passphraseEnvNames(alias).join(' or ')}`;
}

/**
 * Passphrases from environment variables only.
 * @throws PassphraseError (from the retriever) when no variable is set for the alias, or on the third call
 */
export function envPassphraseRetriever(env: PassphraseEnv = process.env): PassphraseRetriever {
  return async ({ alias, attempt }) => {
    const found = envPassphrase(alias, env);
    if (found === undefined) throw new PassphraseError(`no passphrase for the ${aliasLabel(alias)} key: ${envHint(alias)}`);
    if (attempt >= ENV_ATTEMPTS) throw new PassphraseError(`the passphrase in ${found.name} was not accepted`);
    return found.value;
  };
}

function aliasLabel(alias: string): string {
  return alias === '' ? 'unnamed' : alias;
}
