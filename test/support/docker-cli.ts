/**
 * Drive the docker CLI's `docker trust` commands against a trust server (spec §12, peers.md).
 *
 * Each `DockerTrust` has its own DOCKER_CONFIG (and HOME), with the test CA installed where docker
 * looks for it (`$DOCKER_CONFIG/tls/<host:port>/ca.crt`), DOCKER_CONTENT_TRUST_SERVER pointing
 * at the server, and the root/repository passphrases in the environment. No engine is needed for
 * `trust key generate`, `signer add`, `inspect` and `revoke`.
 *
 * Example:
 *   const docker = await DockerTrust.create({ url: srv.url, caFile: srv.caFile, home });
 *   await docker.ok('trust', 'key', 'generate', 'alice', '--dir', home);
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describeResult, runCommand, type RunResult } from './exec.ts';
import { PASSPHRASE } from './notary-cli.ts';

export interface DockerTrustOptions {
  readonly url: string;
  readonly caFile: string;
  readonly home: string;
  readonly passphrase?: string;
}

export class DockerTrust {
  readonly url: string;
  readonly home: string;
  readonly configDir: string;
  readonly passphrase: string;

  private constructor(opts: DockerTrustOptions) {
    this.url = opts.url;
    this.home = opts.home;
    this.configDir = join(opts.home, 'docker-config');
    this.passphrase = opts.passphrase ?? PASSPHRASE;
  }

  static async create(opts: DockerTrustOptions): Promise<DockerTrust> {
    const d = new DockerTrust(opts);
    const hostPort = new URL(opts.url).host;
    const tlsDir = join(d.configDir, 'tls', hostPort);
    await mkdir(tlsDir, { recursive: true });
    await copyFile(opts.caFile, join(tlsDir, 'ca.crt'));
    return d;
  }

  /** The trust dir docker uses (`$DOCKER_CONFIG/trust`). */
  get trustDir(): string {
    return join(this.configDir, 'trust');
  }

  env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: this.home,
      TZ: 'UTC',
      DOCKER_CONFIG: this.configDir,
      DOCKER_CONTENT_TRUST_SERVER: this.url,
      DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE: this.passphrase,
      DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: this.passphrase,
      // never reach a real daemon
      DOCKER_HOST: 'unix:///nonexistent/docker.sock',
    };
  }

  async run(args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    return runCommand('docker', args, { env: this.env(), cwd: this.home, input: opts.input, timeoutMs: opts.timeoutMs ?? 60_000 });
  }

  async ok(...args: string[]): Promise<RunResult> {
    const r = await this.run(args);
    assert.equal(r.code, 0, describeResult(['docker', ...args], r));
    return r;
  }

  async fails(...args: string[]): Promise<RunResult> {
    const r = await this.run(args);
    assert.notEqual(r.code, 0, describeResult(['docker', ...args], r));
    return r;
  }
}
