/**
 * Test support for the registry: the two registries under comparison (vouch in-process,
 * distribution's `docker-registry` as a child process), a token service both trust, OCI image
 * layouts to copy, skopeo with an isolated environment, and a raw HTTP client.
 *
 * Everything listens on 127.0.0.1 on a port picked at start and is stopped by the caller
 * (`stop()`); a `docker-registry` left behind by a crashed test process is killed at exit.
 *
 * Example:
 *   const auth = await startTokenService();
 *   const reg = await startRegistry('vouch', { auth });
 *   const img = await buildImageLayout(dir, { layers: [1000, 2000] });
 *   await skopeo(['copy', `oci:${img.dir}:${img.tag}`, `docker://${reg.host}/ns/app:1`, ...reg.destFlags('alice')]);
 *   await reg.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, writeFile, readFile } from 'node:fs/promises';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createTestTokenIssuer, type TestTokenIssuer } from '../../src/auth/testing.ts';
import { createRegistryApp, REGISTRY_SERVER_OPTIONS, type CreateRegistryAppOptions, type RegistryApp } from '../../src/registry/index.ts';
import { runCommand, type RunResult } from '../support/exec.ts';
import { freePort } from '../support/servers.ts';

// ---------------------------------------------------------------- token service

/** Users of the token service: alice may do anything she asks for, bob may only pull. */
export const USERS: Readonly<Record<string, { password: string; actions: readonly string[] }>> = {
  alice: { password: 'alice-secret', actions: ['pull', 'push', 'delete', '*'] },
  bob: { password: 'bob-secret', actions: ['pull'] },
};

export interface TokenService {
  readonly issuer: TestTokenIssuer;
  readonly realm: string;
  /** A bearer token as `user` would get it for `scopes` (e.g. `repository:a/b:pull,push`). */
  tokenFor(user: string | null, scopes: readonly string[]): string;
  stop(): Promise<void>;
}

/** A docker token service (`GET /token?service=&scope=…` with optional basic auth). */
export async function startTokenService(): Promise<TokenService> {
  let issuer: TestTokenIssuer | undefined;
  const tokenFor = (user: string | null, scopes: readonly string[]): string => {
    const allowed = user === null ? [] : (USERS[user]?.actions ?? []);
    const access = scopes.flatMap((s) => {
      const [type, name, actions] = splitScope(s);
      const granted = actions.filter((a) => allowed.includes(a));
      return granted.length === 0 ? [] : [{ type, name, actions: granted }];
    });
    if (issuer === undefined) throw new Error('token service not ready');
    return issuer.mint({ access, sub: user ?? '', exp: Math.floor(Date.now() / 1000) + 600 });
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let user: string | null = null;
    const authz = req.headers.authorization;
    if (authz !== undefined && authz.startsWith('Basic ')) {
      const [u, p] = Buffer.from(authz.slice(6), 'base64').toString('utf8').split(':');
      if (u === undefined || USERS[u]?.password !== p) {
        res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"details":"bad credentials"}');
        return;
      }
      user = u;
    }
    const token = tokenFor(user, url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter((s) => s !== ''));
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 600, issued_at: new Date().toISOString() }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const realm = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  issuer = await createTestTokenIssuer({ realm, service: 'vouch-registry-test', issuer: 'vouch-registry-test-issuer' });
  return { issuer, realm, tokenFor, stop: () => closeServer(server) };
}

/** `repository:a/b:pull,push` → ['repository', 'a/b', ['pull', 'push']] (the name may hold `:` only for a port). */
function splitScope(scope: string): [string, string, string[]] {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  return [scope.slice(0, first), scope.slice(first + 1, last), scope.slice(last + 1).split(',')];
}

// ---------------------------------------------------------------- registries

export type RegistryKind = 'vouch' | 'docker-registry';

export interface RunningRegistry {
  readonly kind: RegistryKind;
  /** `127.0.0.1:<port>` */
  readonly host: string;
  readonly url: string;
  readonly storageDir: string;
  /** The in-process app (vouch only). */
  readonly app?: RegistryApp;
  /** skopeo flags for pushing to this registry as `user` (or anonymously). */
  destFlags(user?: string): string[];
  srcFlags(user?: string): string[];
  /** Flags for `skopeo inspect` / `list-tags`. */
  flags(user?: string): string[];
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly storageDir: string;
  readonly auth?: TokenService;
  /** Extra options for vouch's app. */
  readonly vouch?: Partial<CreateRegistryAppOptions>;
}

const creds = (prefix: 'dest' | 'src' | '', user?: string): string[] => {
  const p = prefix === '' ? '' : `${prefix}-`;
  const flags = [`--${p}tls-verify=false`];
  if (user !== undefined) flags.push(`--${p}creds`, `${user}:${USERS[user]?.password ?? 'wrong'}`);
  else flags.push(`--${p}no-creds`);
  return flags;
};

export async function startRegistry(kind: RegistryKind, opts: StartOptions): Promise<RunningRegistry> {
  return kind === 'vouch' ? startVouch(opts) : startDockerRegistry(opts);
}

async function startVouch(opts: StartOptions): Promise<RunningRegistry> {
  const app = createRegistryApp({
    storageDir: opts.storageDir,
    sync: false,
    ...(opts.auth === undefined ? {} : { auth: opts.auth.issuer.controller({ now: () => Date.now() }) }),
    onError: (err) => process.stderr.write(`registry 500: ${String((err as Error)?.stack ?? err)}\n`),
    ...opts.vouch,
  });
  const server = createServer(REGISTRY_SERVER_OPTIONS, app.listener);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    kind: 'vouch',
    host,
    url: `http://${host}`,
    storageDir: opts.storageDir,
    app,
    destFlags: (u) => creds('dest', u),
    srcFlags: (u) => creds('src', u),
    flags: (u) => creds('', u),
    stop: () => closeServer(server),
  };
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

async function startDockerRegistry(opts: StartOptions): Promise<RunningRegistry> {
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  await mkdir(opts.storageDir, { recursive: true });
  const config = join(opts.storageDir, '..', `docker-registry-${port}.yml`);
  let auth = '';
  if (opts.auth !== undefined) {
    const bundle = join(opts.storageDir, '..', `token-root-${port}.pem`);
    await opts.auth.issuer.writeRootBundle(bundle);
    auth = [
      'auth:',
      '  token:',
      `    realm: ${opts.auth.realm}`,
      `    service: ${opts.auth.issuer.service}`,
      `    issuer: ${opts.auth.issuer.issuer}`,
      `    rootcertbundle: ${bundle}`,
    ].join('\n');
  }
  await writeFile(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${opts.storageDir}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${host}`,
      auth,
      '',
    ].join('\n'),
  );
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-20_000)));
  child.stderr.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const r = await http(`http://${host}`, 'GET', '/v2/');
      if (r.status === 200 || r.status === 401) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`docker-registry did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    kind: 'docker-registry',
    host,
    url: `http://${host}`,
    storageDir: opts.storageDir,
    destFlags: (u) => creds('dest', u),
    srcFlags: (u) => creds('src', u),
    flags: (u) => creds('', u),
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      children.delete(child);
    },
  };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

// ---------------------------------------------------------------- skopeo

/** Run skopeo with HOME and auth files inside `home`, never the user's. */
export function skopeo(home: string, args: readonly string[], timeoutMs = 120_000): Promise<RunResult> {
  return runCommand('skopeo', args, {
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: home,
      XDG_RUNTIME_DIR: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      REGISTRY_AUTH_FILE: join(home, 'auth.json'),
    },
    timeoutMs,
  });
}

// ---------------------------------------------------------------- OCI layouts

export interface Blob {
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
}

export interface ImageLayout {
  readonly dir: string;
  readonly tag: string;
  /** Digest of what the tag points at (a manifest or an index). */
  readonly digest: string;
  readonly mediaType: string;
  /** Every blob written, manifests included. */
  readonly blobs: readonly Blob[];
}

const sha256 = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function writeBlob(dir: string, bytes: Uint8Array, mediaType: string, out: Blob[]): Promise<Blob> {
  const digest = sha256(bytes);
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'blobs', 'sha256', digest.slice(7)), bytes);
  const b = { digest, size: bytes.byteLength, mediaType };
  out.push(b);
  return b;
}

/** A gzip'd tar holding one file of `size` random bytes (stored, not compressed). */
export function makeLayer(size: number, name: string): { gz: Buffer; diffId: string } {
  const header = Buffer.alloc(512);
  header.write(name, 0, 'utf8');
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(size.toString(8).padStart(11, '0') + '\0', 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  const pad = (512 - (size % 512)) % 512;
  const tar = Buffer.concat([header, randomBytes(size), Buffer.alloc(pad), Buffer.alloc(1024)]);
  return { gz: gzipSync(tar, { level: 0 }), diffId: sha256(tar) };
}

async function writeImage(dir: string, layers: readonly number[], arch: string, out: Blob[]): Promise<Blob> {
  const layerDescs: Blob[] = [];
  const diffIds: string[] = [];
  for (const [i, size] of layers.entries()) {
    const l = makeLayer(size, `${arch}-layer-${i}.bin`);
    layerDescs.push(await writeBlob(dir, l.gz, 'application/vnd.oci.image.layer.v1.tar+gzip', out));
    diffIds.push(l.diffId);
  }
  const config = Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds } }));
  const configDesc = await writeBlob(dir, config, 'application/vnd.oci.image.config.v1+json', out);
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: configDesc, layers: layerDescs }),
  );
  return writeBlob(dir, manifest, 'application/vnd.oci.image.manifest.v1+json', out);
}

async function writeLayoutIndex(dir: string, tag: string, desc: Blob): Promise<void> {
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const index = { schemaVersion: 2, manifests: [{ ...desc, annotations: { 'org.opencontainers.image.ref.name': tag } }] };
  await writeFile(join(dir, 'index.json'), JSON.stringify(index));
}

/** An OCI layout with one single-platform image of the given layer sizes, tagged `tag`. */
export async function buildImageLayout(dir: string, opts: { layers: readonly number[]; tag?: string }): Promise<ImageLayout> {
  const tag = opts.tag ?? 'latest';
  const blobs: Blob[] = [];
  const m = await writeImage(dir, opts.layers, 'amd64', blobs);
  await writeLayoutIndex(dir, tag, m);
  return { dir, tag, digest: m.digest, mediaType: m.mediaType, blobs };
}

/** An OCI layout whose tag points at an image index of one image per architecture. */
export async function buildIndexLayout(dir: string, opts: { layers: readonly number[]; archs: readonly string[]; tag?: string }): Promise<ImageLayout> {
  const tag = opts.tag ?? 'latest';
  const blobs: Blob[] = [];
  const manifests = [];
  for (const arch of opts.archs) {
    const m = await writeImage(dir, opts.layers, arch, blobs);
    manifests.push({ ...m, platform: { architecture: arch, os: 'linux' } });
  }
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }));
  const desc = await writeBlob(dir, index, 'application/vnd.oci.image.index.v1+json', blobs);
  await writeLayoutIndex(dir, tag, desc);
  return { dir, tag, digest: desc.digest, mediaType: desc.mediaType, blobs };
}

/** Digest of what `tag` points at in an OCI layout written by skopeo. */
export async function layoutDigest(dir: string): Promise<string> {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const first = index.manifests[0];
  if (first === undefined) throw new Error(`${dir}: empty index.json`);
  return first.digest;
}

// ---------------------------------------------------------------- raw HTTP

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  json(): unknown;
  /** The first error code of an error envelope, or undefined. */
  code(): string | undefined;
}

export function http(base: string, method: string, path: string, opts: { headers?: Record<string, string>; body?: string | Uint8Array } = {}): Promise<RawResponse> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...opts.headers };
    if (opts.body !== undefined && !Object.keys(headers).some((h) => /^(content-length|transfer-encoding)$/i.test(h))) headers['Content-Length'] = Buffer.byteLength(opts.body);
    const req = request({ host: u.hostname, port: u.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body,
          json: () => JSON.parse(body.toString('utf8')) as unknown,
          code: () => {
            try {
              return (JSON.parse(body.toString('utf8')) as { errors?: { code?: string }[] }).errors?.[0]?.code;
            } catch {
              return undefined;
            }
          },
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

export { sha256 as sha256Digest };
