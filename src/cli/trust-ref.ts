/**
 * Image references and where their trust data lives, as the docker CLI 28 decides it
 * (spec §12.1; distribution's `reference.ParseNormalizedNamed`, docker's registry defaults):
 *
 * - `parseImageRef('alpine:3')` → GUN `docker.io/library/alpine`, tag `3`; the first path
 *   component is a registry host only when it has a `.` or `:` or is `localhost`, or has an
 *   upper-case letter; `index.docker.io` is `docker.io`; a digest reference has no tag;
 * - `trustServerFor(ref, env)`: `DOCKER_CONTENT_TRUST_SERVER` (an https URL), else
 *   `https://notary.docker.io` for Docker Hub, else `https://<registry host>`;
 * - `isInsecureRegistry(host)`: loopback registries (`localhost`, `127.0.0.1`, `::1`, any name
 *   resolving to a loopback address) skip TLS verification, docker's built-in default.
 *
 * Errors carry docker's texts (`invalid reference format`, `valid https URL required for trust
 * server, got …`).
 *
 * @example
 *   const ref = parseImageRef('127.0.0.1:5000/spec/img:v1');
 *   ref.gun // '127.0.0.1:5000/spec/img'
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Env } from './io.ts';

export const DOCKER_HUB_DOMAIN = 'docker.io';
export const DOCKER_HUB_TRUST_SERVER = 'https://notary.docker.io';
/** The key of Docker Hub credentials in `config.json`. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';
const NAME_TOTAL_LENGTH_MAX = 255;

export interface ImageRef {
  /** The argument as given (docker prints it back). */
  readonly original: string;
  /** Registry host (`docker.io` for Docker Hub). */
  readonly domain: string;
  /** Repository path inside the registry (`library/alpine`). */
  readonly path: string;
  /** `domain/path`: docker's fully qualified repository name, the GUN. */
  readonly gun: string;
  /** '' when none was given or the reference has a digest. */
  readonly tag: string;
  /** `sha256:…` or ''. */
  readonly digest: string;
  /** Docker Hub. */
  readonly official: boolean;
}

const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^((?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const HEX64 = /^[a-f0-9]{64}$/;

/** docker's error for a reference it cannot parse. */
export class ImageReferenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** distribution's splitDockerDomain. */
function splitDomain(name: string): { domain: string; rest: string } {
  const i = name.indexOf('/');
  let domain: string;
  let rest: string;
  const first = i < 0 ? '' : name.slice(0, i);
  if (i < 0 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DOCKER_HUB_DOMAIN;
    rest = name;
  } else {
    domain = first;
    rest = name.slice(i + 1);
  }
  if (domain === 'index.docker.io') domain = DOCKER_HUB_DOMAIN;
  if (domain === DOCKER_HUB_DOMAIN && !rest.includes('/')) rest = `library/${rest}`;
  return { domain, rest };
}

/**
 * distribution's ParseNormalizedNamed plus docker's tag/digest reading.
 * @throws ImageReferenceError with docker's message
 */
export function parseImageRef(s: string): ImageRef {
  if (HEX64.test(s)) throw new ImageReferenceError(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  const { domain, rest } = splitDomain(s);
  // the path part (before any tag or digest) must be lower case
  const pathPart = rest.replace(/@.*$/, '').replace(/:[^/]*$/, '');
  if (pathPart.toLowerCase() !== pathPart) {
    throw new ImageReferenceError(`invalid reference format: repository name (${pathPart}) must be lowercase`);
  }
  const full = `${domain}/${rest}`;
  const m = REFERENCE.exec(full);
  if (m === null) {
    if (s === '') throw new ImageReferenceError('invalid reference format');
    throw new ImageReferenceError('invalid reference format');
  }
  const name = m[1] as string;
  if (name.length > NAME_TOTAL_LENGTH_MAX) throw new ImageReferenceError(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  const digest = m[3] ?? '';
  if (digest !== '' && !/^sha256:[a-f0-9]{64}$/.test(digest) && !/^sha(384|512):[a-f0-9]+$/.test(digest)) {
    throw new ImageReferenceError('invalid checksum digest format');
  }
  const path = name.slice(domain.length + 1);
  return {
    original: s,
    domain,
    path,
    gun: name,
    tag: digest === '' ? (m[2] ?? '') : '',
    digest,
    official: domain === DOCKER_HUB_DOMAIN,
  };
}

/**
 * The trust server for a repository (spec §12.1).
 * @throws Error `valid https URL required for trust server, got …`
 */
export function trustServerFor(ref: ImageRef, env: Env): string {
  const s = env['DOCKER_CONTENT_TRUST_SERVER'];
  if (s !== undefined && s !== '') {
    let ok = false;
    try {
      ok = new URL(s).protocol === 'https:';
    } catch {
      ok = false;
    }
    if (!ok) throw new Error(`valid https URL required for trust server, got ${s}`);
    return s;
  }
  return ref.official ? DOCKER_HUB_TRUST_SERVER : `https://${ref.domain}`;
}

/** The key of a registry's credentials in `config.json` (docker's GetAuthConfigKey). */
export function authKeyFor(ref: ImageRef): string {
  return ref.official ? DOCKER_HUB_AUTH_KEY : ref.domain;
}

/** The host without its port (and without IPv6 brackets). */
export function hostOnly(hostPort: string): string {
  if (hostPort.startsWith('[')) {
    const end = hostPort.indexOf(']');
    return end < 0 ? hostPort : hostPort.slice(1, end);
  }
  const colon = hostPort.lastIndexOf(':');
  return colon < 0 || hostPort.indexOf(':') !== colon ? hostPort : hostPort.slice(0, colon);
}

function isLoopback(ip: string): boolean {
  if (isIP(ip) === 4) return ip.startsWith('127.');
  return ip === '::1' || ip === '0:0:0:0:0:0:0:1' || /^::ffff:127\./i.test(ip);
}

/** docker's isInsecure: a registry on a loopback address is reached without TLS verification. */
export async function isInsecureRegistry(domain: string): Promise<boolean> {
  const host = hostOnly(domain);
  if (host === '127.0.0.1' || host === '::1' || host.toLowerCase() === 'localhost') return true;
  if (isIP(host) !== 0) return isLoopback(host);
  try {
    const addrs = await lookup(host, { all: true });
    return addrs.some((a) => isLoopback(a.address));
  } catch {
    return false;
  }
}
