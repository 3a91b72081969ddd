/**
 * Per-namespace content-trust settings, as the admin sets them (`PUT /_vouch/policy/<ns>`,
 * `vouch policy set`): whether enforcement is on, an optional pinned root key and an optional
 * list of required signers. A namespace is a repository-name prefix (`team`, `team/web`); the
 * setting of the closest namespace applies, so `team` on and `team/sandbox` off leaves
 * `team/sandbox/x` unenforced. A repository below no setting is not enforced.
 *
 * Wire form (admin API and `--output json`), snake_case as the rest of the HTTP surface:
 *   {"namespace":"team","enforce":true,"pinned_root_key":null,"required_signers":["alice"]}
 *
 * Not here: where settings are kept (`PolicySettingsStore` implementations: memory-store.ts and
 * src/serve's SQLite store), and what they decide (content-trust.ts).
 *
 * Example:
 *   const p = parseNamespacePolicy('team', { enforce: true, required_signers: ['alice'] });
 *   await store.set(p);
 *   (await effectivePolicy(store, 'team/web/app'))?.enforce; // true
 */
import { isValidRepositoryName } from '../registry/index.ts';

export interface NamespacePolicy {
  readonly namespace: string;
  readonly enforce: boolean;
  /**
   * A root key ID as root.json lists it (what `docker trust inspect` shows as the Root Key):
   * the stored root must be signed with it (notary's trust pinning by cert ID). null: the
   * stored root is trusted as it is (TOFU on the server's own store).
   */
  readonly pinnedRootKey: string | null;
  /**
   * docker trust signer names (roles `targets/<name>`): each must have signed the tag with the
   * digest that is served, besides the tag being signed as docker resolves it.
   */
  readonly requiredSigners: readonly string[];
}

/** The wire form. */
export interface NamespacePolicyJson {
  readonly namespace: string;
  readonly enforce: boolean;
  readonly pinned_root_key: string | null;
  readonly required_signers: readonly string[];
}

/** Where settings are kept. Every method is safe to call concurrently. */
export interface PolicySettingsStore {
  get(namespace: string): Promise<NamespacePolicy | null>;
  /** Insert or replace the setting of `policy.namespace`. */
  set(policy: NamespacePolicy): Promise<void>;
  /** Forget a namespace's setting (no-op when absent). */
  remove(namespace: string): Promise<void>;
  /** Every setting, sorted by namespace. */
  list(): Promise<NamespacePolicy[]>;
}

/** A setting that does not validate; `problems` lists every bad field. */
export class PolicySettingsError extends RangeError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(problems.join('; '));
    this.name = new.target.name;
    this.problems = problems;
  }
}

/** docker's signer-name rule (`docker trust signer add`); `releases` is docker's own role. */
const SIGNER_NAME = /^[a-z0-9][a-z0-9_-]*$/;
const KEY_ID = /^[0-9a-f]{64}$/;
const MAX_SIGNERS = 32;

export function isValidNamespace(ns: string): boolean {
  return isValidRepositoryName(ns);
}

/** @throws PolicySettingsError for an invalid namespace */
export function checkNamespace(ns: string): void {
  if (!isValidNamespace(ns)) throw new PolicySettingsError([`invalid namespace ${JSON.stringify(ns)}: lowercase repository path components separated by /`]);
}

/**
 * Validate an admin's input for `namespace` (the wire form without `namespace`; absent fields
 * take their defaults: enforce false, no pin, no signers).
 * @throws PolicySettingsError listing every problem
 */
export function parseNamespacePolicy(namespace: string, input: unknown): NamespacePolicy {
  const problems: string[] = [];
  if (!isValidNamespace(namespace)) problems.push(`invalid namespace ${JSON.stringify(namespace)}: lowercase repository path components separated by /`);
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new PolicySettingsError([...problems, 'the setting must be a JSON object']);
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!['namespace', 'enforce', 'pinned_root_key', 'required_signers'].includes(k)) problems.push(`unknown field ${JSON.stringify(k)}`);
  }
  if (o['namespace'] !== undefined && o['namespace'] !== namespace) problems.push(`namespace ${JSON.stringify(o['namespace'])} in the body differs from ${JSON.stringify(namespace)} in the path`);
  const enforce = o['enforce'] ?? false;
  if (typeof enforce !== 'boolean') problems.push('enforce must be true or false');
  const pin = o['pinned_root_key'] ?? null;
  if (pin !== null && (typeof pin !== 'string' || !KEY_ID.test(pin))) problems.push('pinned_root_key must be a key ID (64 lowercase hex digits) or null');
  const signers = o['required_signers'] ?? [];
  const names: string[] = [];
  if (!Array.isArray(signers)) {
    problems.push('required_signers must be a list of signer names');
  } else {
    if (signers.length > MAX_SIGNERS) problems.push(`at most ${MAX_SIGNERS} required signers`);
    for (const s of signers) {
      if (typeof s !== 'string' || !SIGNER_NAME.test(s) || s === 'releases') problems.push(`invalid signer name ${JSON.stringify(s)}: [a-z0-9][a-z0-9_-]*, not "releases"`);
      else if (!names.includes(s)) names.push(s);
    }
  }
  if (problems.length > 0) throw new PolicySettingsError(problems);
  return Object.freeze({ namespace, enforce: enforce as boolean, pinnedRootKey: pin as string | null, requiredSigners: Object.freeze(names.sort()) });
}

export function policyToJson(p: NamespacePolicy): NamespacePolicyJson {
  return { namespace: p.namespace, enforce: p.enforce, pinned_root_key: p.pinnedRootKey, required_signers: [...p.requiredSigners] };
}

/** The namespaces a repository lies below, closest first: `a/b/c` → `a/b/c`, `a/b`, `a`. */
export function namespacesOf(repository: string): string[] {
  const parts = repository.split('/');
  const out: string[] = [];
  for (let n = parts.length; n > 0; n--) out.push(parts.slice(0, n).join('/'));
  return out;
}

/** The setting that applies to `repository`: the closest namespace's, or null. */
export async function effectivePolicy(store: Pick<PolicySettingsStore, 'get'>, repository: string): Promise<NamespacePolicy | null> {
  for (const ns of namespacesOf(repository)) {
    const p = await store.get(ns);
    if (p !== null) return p;
  }
  return null;
}
