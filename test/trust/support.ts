/**
 * Helpers for `vouch trust` tests: the vouch binary run with the same environment as the docker
 * CLI (one DOCKER_CONFIG, so both tools share a trust dir, or two, to compare them), an output
 * normaliser for per-run key IDs, and a tiny in-test registry that serves manifests behind
 * docker token auth.
 *
 * Example:
 *   const docker = await env.docker('alice');
 *   const vouch = vouchLike(docker);
 *   await vouch.ok('key', 'generate', 'alice', '--dir', docker.home);
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DockerTrust } from '../support/docker-cli.ts';
import { describeResult, runCommand, type RunResult } from '../support/exec.ts';
import { VOUCH_BIN } from '../support/servers.ts';

/** `vouch trust …` with the environment of a DockerTrust (same DOCKER_CONFIG, passphrases, server). */
export class VouchTrust {
  readonly docker: DockerTrust;
  constructor(docker: DockerTrust) {
    this.docker = docker;
  }

  run(args: readonly string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
    return runCommand(process.execPath, ['--disable-warning=ExperimentalWarning', VOUCH_BIN, 'trust', ...args], {
      env: { ...this.docker.env(), ...opts.env },
      cwd: this.docker.home,
      input: opts.input,
      timeoutMs: 60_000,
    });
  }

  async ok(...args: string[]): Promise<RunResult> {
    const r = await this.run(args);
    assert.equal(r.code, 0, describeResult(['vouch', 'trust', ...args], r));
    return r;
  }
}

/** Run `docker trust …` with standard input. */
export function dockerRun(docker: DockerTrust, args: readonly string[], input?: string): Promise<RunResult> {
  return docker.run(['trust', ...args], input === undefined ? {} : { input });
}

/**
 * Replace per-run values so two runs compare: 64-hex IDs become `<idN>` in order of first
 * appearance (their 12-character prefixes follow them, other 12-hex IDs become `<shortN>`), and each given string (a repository
 * name, a home dir) becomes its label.
 */
export function normalize(text: string, replace: Readonly<Record<string, string>> = {}): string {
  let out = text;
  for (const [from, to] of Object.entries(replace).sort((a, b) => b[0].length - a[0].length)) out = out.split(from).join(to);
  const seen = new Map<string, string>();
  out = out.replace(/\b[0-9a-f]{64}\b/g, (id) => {
    let name = seen.get(id);
    if (name === undefined) {
      name = `<id${seen.size + 1}>`;
      seen.set(id, name);
    }
    return name;
  });
  for (const [id, name] of seen) out = out.split(id.slice(0, 12)).join(`${name}[:12]`);
  // key IDs shown only truncated (docker's signer table)
  const short = new Map<string, string>();
  return out.replace(/\b[0-9a-f]{12}\b/g, (id) => {
    let name = short.get(id);
    if (name === undefined) {
      name = `<short${short.size + 1}>`;
      short.set(id, name);
    }
    return name;
  });
}

/** Keep only docker's name for the program (usage lines say `docker`/`vouch`). */
export function sameProgram(text: string): string {
  return text.replaceAll('vouch', 'docker');
}

export interface StoredManifest {
  readonly mediaType: string;
  readonly bytes: Buffer;
}

export interface TestRegistry {
  /** `127.0.0.1:<port>` */
  readonly host: string;
  /** Add a manifest under a tag (and its digest); returns its digest. */
  put(repo: string, tag: string, m: StoredManifest): string;
  /** Requests seen, `METHOD path auth?` */
  readonly log: string[];
  close(): Promise<void>;
}

export function sha256(bytes: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(bytes).digest('hex');
}

/**
 * A registry serving `GET /v2/<repo>/manifests/<tag|digest>` over plain HTTP on loopback. With
 * `users`, manifests need a Bearer token from `/token` (Basic credentials, docker's token flow,
 * or a POST with one of `refreshTokens`, docker's identity-token flow).
 */
export async function startRegistry(o: { users?: Readonly<Record<string, string>>; refreshTokens?: readonly string[] } = {}): Promise<TestRegistry> {
  const manifests = new Map<string, StoredManifest>();
  const tokens = new Set<string>();
  const log: string[] = [];
  let host = '';
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    log.push(`${req.method} ${url.pathname}${req.headers.authorization !== undefined ? ' auth' : ''}`);
    if (url.pathname === '/token' && req.method === 'POST') {
      // docker's OAuth2 refresh_token grant (identity tokens saved by docker login)
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        const ok = form.get('grant_type') === 'refresh_token' && form.get('client_id') === 'docker' && (o.refreshTokens ?? []).includes(form.get('refresh_token') ?? '');
        if (!ok) {
          res.writeHead(401).end('{"error":"invalid_grant"}');
          return;
        }
        const token = `r-${tokens.size}-${Date.now()}`;
        tokens.add(token);
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ access_token: token, expires_in: 300 }));
      });
      return;
    }
    if (url.pathname === '/token') {
      const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
      const [user, pass] = basic === null ? ['', ''] : Buffer.from(basic[1] as string, 'base64').toString('utf8').split(':');
      if (o.users === undefined || user === undefined || o.users[user] !== pass) {
        res.writeHead(401).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
      }
      const token = `t-${tokens.size}-${Date.now()}`;
      tokens.add(token);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
      return;
    }
    if (o.users !== undefined) {
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
      if (bearer === null || !tokens.has(bearer[1] as string)) {
        res
          .writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://${host}/token",service="test-registry",scope="repository:x:pull"`, 'Content-Type': 'application/json' })
          .end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
        return;
      }
    }
    const m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    const found = m === null ? undefined : manifests.get(`${m[1]}@${m[2]}`);
    if (found === undefined) {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
      return;
    }
    res.writeHead(200, { 'Content-Type': found.mediaType, 'Docker-Content-Digest': sha256(found.bytes), 'Content-Length': String(found.bytes.length) }).end(found.bytes);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  host = `127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`;
  return {
    host,
    log,
    put(repo, tag, m) {
      const digest = sha256(m.bytes);
      manifests.set(`${repo}@${tag}`, m);
      manifests.set(`${repo}@${digest}`, m);
      return digest;
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/**
 * Write `config.json` as `docker login` leaves it: Basic credentials, or with `identityToken` the
 * user name alone plus the identity token.
 */
export async function writeDockerLogin(configDir: string, registryHost: string, user: string, password: string, identityToken?: string): Promise<void> {
  const entry =
    identityToken === undefined
      ? { auth: Buffer.from(`${user}:${password}`).toString('base64') }
      : { auth: Buffer.from(`${user}:`).toString('base64'), identitytoken: identityToken };
  await writeFile(join(configDir, 'config.json'), JSON.stringify({ auths: { [registryHost]: entry } }, null, '\t'));
}

/** An OCI image manifest (tiny, content made up) and an index over two platforms plus an attestation. */
export function ociManifest(seed: string): StoredManifest {
  const body = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(`config ${seed}`), size: 2 },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(`layer ${seed}`), size: 3 }],
  };
  return { mediaType: body.mediaType, bytes: Buffer.from(JSON.stringify(body)) };
}

export function ociIndex(entries: readonly { m: StoredManifest; platform: { os: string; architecture: string; variant?: string } }[]): StoredManifest {
  const body = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: entries.map((e) => ({ mediaType: e.m.mediaType, digest: sha256(e.m.bytes), size: e.m.bytes.length, platform: e.platform })),
  };
  return { mediaType: body.mediaType, bytes: Buffer.from(JSON.stringify(body)) };
}
