/**
 * Read-only listings: the `/v2/` ping, tags (`n`/`last` pagination with an RFC 5988 `Link`),
 * the catalog (same pagination) and the referrers index with the `artifactType` filter.
 */
import { registryError } from '../errors.ts';
import { MediaType } from '../manifest.ts';
import { registryPaths } from '../routes.ts';
import { requireDigest } from './blobs.ts';
import { type Ctx, pageSize, replyJson } from './context.ts';

export async function ping(ctx: Ctx): Promise<void> {
  replyJson(ctx, 200, {});
}

/**
 * One page of a sorted list: the entries after `last`, at most `n` of them, and whether more
 * follow. `n` = 0 is an empty page without a next link (spec "Listing Tags").
 */
export function paginate(all: readonly string[], n: number | undefined, last: string | null): { page: string[]; more: boolean } {
  const after = last === null ? all : all.filter((t) => t > last);
  if (n === undefined) return { page: [...after], more: false };
  return { page: after.slice(0, n), more: n > 0 && after.length > n };
}

function nextLink(path: string): string {
  return `<${path}>; rel="next"`;
}

export async function listTags(ctx: Ctx): Promise<void> {
  const { store, limits } = ctx.deps;
  const { name } = ctx.params;
  const tags = await store.listTags(name);
  if (tags === null) throw registryError('NAME_UNKNOWN', undefined, { detail: { name } });
  const n = pageSize(ctx.query, limits.maxPageSize) ?? (tags.length > limits.maxPageSize ? limits.maxPageSize : undefined);
  const { page, more } = paginate(tags, n, ctx.query.get('last'));
  const headers: Record<string, string> = {};
  if (more && n !== undefined) headers['Link'] = nextLink(registryPaths.tags(name, { n, last: page[page.length - 1] as string }));
  replyJson(ctx, 200, { name, tags: page }, headers);
}

export async function catalog(ctx: Ctx): Promise<void> {
  const { store, limits } = ctx.deps;
  const repos = await store.listRepositories();
  const n = pageSize(ctx.query, limits.maxPageSize) ?? (repos.length > limits.maxPageSize ? limits.maxPageSize : undefined);
  const { page, more } = paginate(repos, n, ctx.query.get('last'));
  const headers: Record<string, string> = {};
  if (more && n !== undefined) headers['Link'] = nextLink(registryPaths.catalog({ n, last: page[page.length - 1] as string }));
  replyJson(ctx, 200, { repositories: page }, headers);
}

export async function referrers(ctx: Ctx): Promise<void> {
  const subject = requireDigest(ctx.params.digest);
  const all = await ctx.deps.store.listReferrers(ctx.params.name, subject);
  const artifactType = ctx.query.get('artifactType');
  const manifests = artifactType === null ? all : all.filter((d) => d.artifactType === artifactType);
  const headers: Record<string, string> = artifactType === null ? {} : { 'OCI-Filters-Applied': 'artifactType' };
  replyJson(ctx, 200, { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests }, headers, MediaType.OciIndex);
}
