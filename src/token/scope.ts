/**
 * The `scope` parameter of a token request (docker token spec, "Requesting a Token" and the
 * scope grammar of the resource-scope document):
 *
 *   scope          := resourcescope [ ' ' resourcescope ]*
 *   resourcescope  := resourcetype [ '(' class ')' ] ':' resourcename ':' action [ ',' action ]*
 *
 * A resource name may itself contain `:` (a registry host with a port, as in the trust GUN
 * `127.0.0.1:5000/alice/app`), so the type ends at the first `:` and the actions start after
 * the last one. GET requests repeat `scope`; the OAuth2 POST form sends one space-separated
 * value; both end up here. Scopes naming the same resource are merged, actions deduplicated,
 * in first-seen order.
 *
 * Example:
 *   parseScopes(['repository:alice/app:pull,push', 'registry:catalog:*']);
 *   // [{type:'repository', class:'', name:'alice/app', actions:['pull','push']}, {type:'registry', …}]
 */
import type { ResourceActions } from '../auth/index.ts';
import { TokenRequestError } from './errors.ts';

const TYPE = /^([a-z0-9]+)(?:\(([a-z0-9]+)\))?$/;
const ACTION = /^(?:[a-z]+|\*)$/;
/** Upper bound on resources in one request (docker asks for one or two). */
export const MAX_SCOPES = 32;

/** @throws TokenRequestError for a scope that does not follow the grammar, or too many */
export function parseScopes(values: readonly string[]): ResourceActions[] {
  const out: { type: string; class: string; name: string; actions: string[] }[] = [];
  for (const value of values) {
    for (const scope of value.split(' ')) {
      if (scope === '') continue;
      const first = scope.indexOf(':');
      const last = scope.lastIndexOf(':');
      if (first <= 0 || last === first) throw new TokenRequestError(`malformed scope ${JSON.stringify(scope)}`);
      const t = TYPE.exec(scope.slice(0, first));
      const name = scope.slice(first + 1, last);
      const actions = scope.slice(last + 1).split(',');
      if (t === null || name === '' || !actions.every((a) => ACTION.test(a))) throw new TokenRequestError(`malformed scope ${JSON.stringify(scope)}`);
      const type = t[1]!;
      const cls = t[2] ?? '';
      let entry = out.find((e) => e.type === type && e.class === cls && e.name === name);
      if (entry === undefined) {
        if (out.length >= MAX_SCOPES) throw new TokenRequestError(`more than ${MAX_SCOPES} scopes requested`);
        entry = { type, class: cls, name, actions: [] };
        out.push(entry);
      }
      for (const a of actions) if (!entry.actions.includes(a)) entry.actions.push(a);
    }
  }
  return out;
}

/** The scope string of granted access (for the OAuth2 response's `scope`). */
export function formatScopes(access: readonly ResourceActions[]): string {
  return access.map((a) => `${a.type}${a.class === '' ? '' : `(${a.class})`}:${a.name}:${a.actions.join(',')}`).join(' ');
}
