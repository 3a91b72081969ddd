/**
 * The pure parts of `vouch push/pull/login`: docker's reading of DOCKER_CONTENT_TRUST and of
 * the content-trust flags, familiar names, login keys, and the progress display (docker's bar
 * and sizes on a terminal, one final line per layer elsewhere, nothing when quiet).
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type { Descriptor, Digest, TransferEvent } from '../image/index.ts';
import { contentTrust, contentTrustFromEnv, familiarName, registryHost, transferConcurrency } from './image-registry.ts';
import { hostnameOf, loginTarget } from './image-login.ts';
import { humanSize, progressBar, ProgressView } from './image-progress.ts';
import type { TrustInvocation } from './trust-cli.ts';
import { parseImageRef } from './trust-ref.ts';

function inv(env: Record<string, string>, flags: Record<string, boolean>): TrustInvocation {
  return { flags, io: { env } } as unknown as TrustInvocation;
}

describe('content trust switches', () => {
  it('DOCKER_CONTENT_TRUST is on for anything but Go-false values and the empty string', () => {
    for (const v of ['1', 't', 'true', 'TRUE', 'yes', 'on', '2']) assert.equal(contentTrustFromEnv({ DOCKER_CONTENT_TRUST: v }), true, v);
    for (const v of ['', '0', 'f', 'F', 'false', 'FALSE', 'False']) assert.equal(contentTrustFromEnv({ DOCKER_CONTENT_TRUST: v }), false, v);
    assert.equal(contentTrustFromEnv({}), false);
  });
  it('--disable-content-trust wins over the environment, --sign/--verify turn it on, both at once is an error', () => {
    assert.equal(contentTrust(inv({ DOCKER_CONTENT_TRUST: '1' }, { 'disable-content-trust': true }), 'sign'), false);
    assert.equal(contentTrust(inv({}, { sign: true }), 'sign'), true);
    assert.equal(contentTrust(inv({}, { verify: true }), 'verify'), true);
    assert.equal(contentTrust(inv({ DOCKER_CONTENT_TRUST: '1' }, {}), 'verify'), true);
    assert.throws(() => contentTrust(inv({}, { sign: true, 'disable-content-trust': true }), 'sign'), /conflicting options: --sign and --disable-content-trust/);
  });
  it('concurrency: 8 up, 4 down, VOUCH_MAX_CONCURRENT for both', () => {
    assert.equal(transferConcurrency({}, 'push'), 8);
    assert.equal(transferConcurrency({}, 'pull'), 4);
    assert.equal(transferConcurrency({ VOUCH_MAX_CONCURRENT: '2' }, 'push'), 2);
    assert.equal(transferConcurrency({ VOUCH_MAX_CONCURRENT: 'x' }, 'pull'), 4);
  });
});

describe('names', () => {
  it("docker's familiar names and registry hosts", () => {
    assert.equal(familiarName(parseImageRef('alpine:3')), 'alpine');
    assert.equal(familiarName(parseImageRef('user/app')), 'user/app');
    assert.equal(familiarName(parseImageRef('127.0.0.1:5000/ns/app:v1')), '127.0.0.1:5000/ns/app');
    assert.equal(registryHost(parseImageRef('alpine')), 'registry-1.docker.io');
    assert.equal(registryHost(parseImageRef('localhost:5000/a')), 'localhost:5000');
  });
  it('login keys: Docker Hub by its URL, anything else by host', () => {
    assert.deepEqual(loginTarget(undefined), { key: 'https://index.docker.io/v1/', host: 'registry-1.docker.io', isHub: true });
    assert.deepEqual(loginTarget('docker.io'), { key: 'https://index.docker.io/v1/', host: 'registry-1.docker.io', isHub: true });
    assert.deepEqual(loginTarget('https://127.0.0.1:5000/v2/'), { key: '127.0.0.1:5000', host: '127.0.0.1:5000', isHub: false });
    assert.equal(hostnameOf('http://reg.example:443/x'), 'reg.example:443');
  });
});

describe('progress', () => {
  const desc = (n: number, size: number): Descriptor => ({ mediaType: 'x', digest: `sha256:${String(n).repeat(64).slice(0, 64)}` as Digest, size });
  const layer = desc(1, 104_857_600);
  const config = desc(2, 100);

  it("formats sizes and bars as docker's jsonmessage does", () => {
    assert.equal(humanSize(0), '0B');
    assert.equal(humanSize(52_428_800), '52.43MB');
    assert.equal(humanSize(104_857_600), '104.9MB');
    assert.equal(progressBar(52_428_800, 104_857_600), `[${'='.repeat(24)}>${' '.repeat(25)}]  52.43MB/104.9MB`);
    assert.equal(progressBar(1, 1), `[${'='.repeat(50)}]       1B/1B`);
  });

  async function run(tty: boolean, quiet = false): Promise<string> {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    const view = new ProgressView(out, { tty, verb: 'push', quiet });
    const events: TransferEvent[] = [
      { type: 'queued', desc: config, role: 'config' },
      { type: 'queued', desc: layer, role: 'layer' },
      { type: 'started', desc: config },
      { type: 'done', desc: config, result: 'uploaded' },
      { type: 'started', desc: layer },
      { type: 'progress', desc: layer, bytes: 52_428_800 },
    ];
    for (const e of events) view.event(e);
    if (tty) await new Promise((r) => setTimeout(r, 150));
    view.event({ type: 'done', desc: layer, result: 'uploaded' });
    view.finish();
    return text;
  }

  it('elsewhere than a terminal: one final line per layer, the config not shown; quiet: nothing', async () => {
    assert.equal(await run(false), '111111111111: Pushed\n');
    assert.equal(await run(false, true), '');
  });
  it('on a terminal: the bar while it runs, redrawn in place, then the final state', async () => {
    const text = await run(true);
    assert.match(text, /111111111111: Pushing \[={24}> {25}\]  52\.43MB\/104\.9MB\n/);
    assert.match(text, /\x1b\[1A\x1b\[2K\r111111111111: Pushed\n$/);
    assert.doesNotMatch(text, /222222222222/);
  });
});
