/**
 * `ContentTrustPolicy`: the registry's `TrustPolicy` answered from the trust server's store in
 * the same process (`vouch serve`). For a repository whose closest namespace setting has
 * enforcement on:
 *
 * - GET/HEAD of a manifest is served only when decide.ts's rules hold for the repository's
 *   verified trust data (verify.ts, from the stored root down; the pinned root key and the
 *   required signers of the setting apply); otherwise `412 DENIED` with the reason;
 * - DELETE of a signed tag or of a manifest some tag is signed for is refused (412) with the
 *   command that unsigns it first; unverifiable trust data refuses deletion too (fail closed);
 * - a pusher's own requests pass: a GET or HEAD whose bearer token grants `push` (or `*`) on
 *   the repository — what `docker push`, `skopeo copy` to the registry and other pushing clients
 *   ask for, and a plain pull never does — is served even when the rules would refuse it
 *   (docker push HEADs manifests; a signer reads what it is about to sign). The audit entry then
 *   says so and keeps the reason it would have been refused for.
 *
 * Every decision for an enforced repository is sent to the `AuditSink`; repositories without
 * enforcement are served without a decision (and without an entry).
 *
 * GUNs: docker signs `<registry host:port>/<name>`; `gunsFor(name)` lists the GUNs of every name
 * the server is reached under. A repository is judged by each GUN that has trust data: serving
 * needs one that allows it, deleting needs all to allow it. With no trust data under any of
 * them, nothing is signed.
 *
 * Verified repositories are kept per GUN until its current timestamp changes (compared by
 * sha256), the pin changes, or one of its roles expires.
 *
 * Concurrency: safe for concurrent requests (the cache is replaced, never mutated in place).
 *
 * Example:
 *   const policy = new ContentTrustPolicy({ settings, trust, gunsFor: (n) => [`127.0.0.1:5000/${n}`], identify, audit });
 *   createRegistryApp({ storageDir, auth, policy });
 */
import { createHash } from 'node:crypto';
import { grantsCover, type ResourceActions } from '../auth/index.ts';
import type { TrustedRepo } from '../client/types.ts';
import { listDockerTargets, dockerDigest } from '../client/walk.ts';
import { ALLOW, deny, type PolicyDecision, type PolicyRequest, type PolicyRequester, type TrustPolicy } from '../registry/index.ts';
import type { AuditAction, AuditSink } from './audit.ts';
import { decideDelete, decideServe, type Outcome } from './decide.ts';
import { effectivePolicy, type NamespacePolicy, type PolicySettingsStore } from './settings.ts';
import { earliestExpiry, NoTrustDataError, verifyStoredTrust, type TrustMetadataSource } from './verify.ts';

/** The HTTP status of a refusal: the content is there, its trust precondition is not met. */
export const CONTENT_TRUST_STATUS = 412;

export interface Requester {
  /** The token's subject ('' for anonymous). */
  readonly subject: string;
  readonly access: readonly ResourceActions[];
}

export interface ContentTrustPolicyOptions {
  readonly settings: Pick<PolicySettingsStore, 'get'>;
  readonly trust: TrustMetadataSource;
  /** The GUNs docker may have signed `name` under, in order of preference. */
  readonly gunsFor: (name: string) => readonly string[];
  /** The verified token behind an Authorization header, null for none (anonymous). */
  readonly identify: (authorization: string | undefined) => Promise<Requester | null>;
  readonly audit: AuditSink;
  /** Child manifest digests of an image index (empty for anything else). */
  readonly manifestChildren?: (name: string, digest: string) => Promise<readonly string[]>;
  readonly now?: () => Date;
  /** GUNs whose verified repository is kept (default 1024). */
  readonly maxCachedGuns?: number;
  /** Signed index digests looked into for one by-digest request (default 64). */
  readonly maxIndexesPerRequest?: number;
}

type Verified = { readonly kind: 'repo'; readonly repo: TrustedRepo } | { readonly kind: 'none' } | { readonly kind: 'error'; readonly message: string };

interface CacheEntry {
  readonly timestampSha: string;
  readonly pin: string | null;
  readonly validUntil: number;
  readonly repo: TrustedRepo;
}

const isDigestReference = (reference: string): boolean => reference.includes(':');

export class ContentTrustPolicy implements TrustPolicy {
  readonly #o: ContentTrustPolicyOptions;
  readonly #now: () => Date;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #maxCached: number;

  constructor(o: ContentTrustPolicyOptions) {
    this.#o = o;
    this.#now = o.now ?? (() => new Date());
    this.#maxCached = o.maxCachedGuns ?? 1024;
  }

  async mayServe(req: PolicyRequest, from?: PolicyRequester): Promise<PolicyDecision> {
    const setting = await effectivePolicy(this.#o.settings, req.name);
    if (setting === null || !setting.enforce) return ALLOW;
    const who = await this.#o.identify(from?.authorization);
    let outcome = await this.#judgeServe(req, setting);
    if (!outcome.allow && who !== null && this.#mayPush(who, req.name)) {
      outcome = { allow: true, reason: `the requester's token grants push (a pusher's own request); otherwise refused: ${outcome.reason}` };
    }
    this.#record(from?.method === 'HEAD' ? 'head' : 'pull', req, who, setting, outcome);
    return outcome.allow ? ALLOW : deny(`content trust: ${outcome.reason}`, CONTENT_TRUST_STATUS);
  }

  async mayDelete(req: PolicyRequest, from?: PolicyRequester): Promise<PolicyDecision> {
    const setting = await effectivePolicy(this.#o.settings, req.name);
    if (setting === null || !setting.enforce) return ALLOW;
    const who = await this.#o.identify(from?.authorization);
    const outcome = await this.#judgeDelete(req, setting);
    this.#record('delete', req, who, setting, outcome);
    return outcome.allow ? ALLOW : deny(`content trust: ${outcome.reason}`, CONTENT_TRUST_STATUS);
  }

  #mayPush(who: Requester, name: string): boolean {
    return [name, ...this.#o.gunsFor(name)].some((n) => grantsCover(who.access, { type: 'repository', class: '', name: n, action: 'push' }));
  }

  async #judgeServe(req: PolicyRequest, setting: NamespacePolicy): Promise<Outcome> {
    const tag = isDigestReference(req.reference) ? undefined : req.reference;
    const guns = this.#o.gunsFor(req.name);
    let first: Outcome | undefined;
    for (const gun of guns) {
      const v = await this.#verified(gun, setting.pinnedRootKey);
      if (v.kind === 'none') continue;
      let outcome: Outcome;
      if (v.kind === 'error') {
        outcome = { allow: false, reason: v.message };
      } else {
        const q = { gun, digest: req.digest, requiredSigners: setting.requiredSigners, ...(tag === undefined ? {} : { tag }) };
        outcome = decideServe(v.repo, q);
        if (!outcome.allow && tag === undefined && this.#o.manifestChildren !== undefined) {
          outcome = decideServe(v.repo, { ...q, children: await this.#indexChildren(req.name, v.repo) });
        }
      }
      if (outcome.allow) return outcome;
      first ??= outcome;
    }
    if (first !== undefined) return first;
    const gun = guns[0] ?? req.name;
    const sign = tag === undefined ? 'sign a tag for it' : `sign it: docker trust sign ${gun}:${tag}`;
    return { allow: false, reason: `no trust data for ${gun}; ${tag === undefined ? req.digest : `tag "${tag}"`} is not signed (${sign})` };
  }

  async #judgeDelete(req: PolicyRequest, setting: NamespacePolicy): Promise<Outcome> {
    const tag = isDigestReference(req.reference) ? undefined : req.reference;
    for (const gun of this.#o.gunsFor(req.name)) {
      const v = await this.#verified(gun, setting.pinnedRootKey);
      if (v.kind === 'none') continue;
      if (v.kind === 'error') return { allow: false, reason: `${v.message}; deletion is refused until it does` };
      const outcome = decideDelete(v.repo, { gun, digest: req.digest, ...(tag === undefined ? {} : { tag }) });
      if (!outcome.allow) return outcome;
    }
    return { allow: true, reason: `not signed in ${this.#o.gunsFor(req.name).join(', ')}` };
  }

  /** Children of the signed image indexes (the first `maxIndexesPerRequest` signed digests). */
  async #indexChildren(name: string, repo: TrustedRepo): Promise<Map<string, readonly string[]>> {
    const out = new Map<string, readonly string[]>();
    const limit = this.#o.maxIndexesPerRequest ?? 64;
    for (const t of listDockerTargets(repo)) {
      if (out.size >= limit) break;
      const d = dockerDigest(t);
      if (d === undefined || out.has(d)) continue;
      out.set(d, await this.#o.manifestChildren!(name, d));
    }
    return out;
  }

  /** The GUN's trust data, verified (from the cache while its timestamp is unchanged). */
  async #verified(gun: string, pin: string | null): Promise<Verified> {
    for (let attempt = 0; ; attempt++) {
      const now = this.#now();
      const timestamp = await this.#o.trust.current(gun, 'timestamp');
      if (timestamp === null) return { kind: 'none' };
      const sha = createHash('sha256').update(timestamp).digest('hex');
      const hit = this.#cache.get(gun);
      if (hit !== undefined && hit.timestampSha === sha && hit.pin === pin && now.getTime() < hit.validUntil) return { kind: 'repo', repo: hit.repo };
      try {
        const repo = await verifyStoredTrust(this.#o.trust, { gun, now, pinnedRootKey: pin, timestamp });
        this.#remember(gun, { timestampSha: sha, pin, validUntil: earliestExpiry(repo), repo });
        return { kind: 'repo', repo };
      } catch (err) {
        if (err instanceof NoTrustDataError) return { kind: 'none' };
        // A publish may have landed between two reads: try once more on fresh reads.
        if (attempt === 0) continue;
        this.#cache.delete(gun);
        return { kind: 'error', message: `trust data for ${gun} does not verify${pin === null ? '' : ` with root key ${pin} pinned`}: ${(err as Error).message}` };
      }
    }
  }

  #remember(gun: string, entry: CacheEntry): void {
    this.#cache.delete(gun);
    this.#cache.set(gun, entry);
    if (this.#cache.size > this.#maxCached) this.#cache.delete(this.#cache.keys().next().value!);
  }

  #record(action: AuditAction, req: PolicyRequest, who: Requester | null, setting: NamespacePolicy, outcome: Outcome): void {
    this.#o.audit.record({
      time: this.#now().toISOString(),
      user: who?.subject ?? '',
      action,
      repository: req.name,
      reference: req.reference,
      digest: req.digest,
      decision: outcome.allow ? 'allow' : 'deny',
      reason: outcome.reason,
      namespace: setting.namespace,
    });
  }
}
