import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { addCertPin } from './config-pin.ts';
import { DEFAULT_SERVER_URL, homeExpand, loadClientConfig } from './config.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-cli-config-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ID1 = 'a'.repeat(64);
const ID2 = 'b'.repeat(64);

describe('loadClientConfig (spec §9.5)', () => {
  it('defaults: ~/.notary and https://notary-server:4443 when the default file is missing', async () => {
    const home = join(dir, 'home-defaults');
    const cfg = await loadClientConfig({}, { env: { HOME: home }, cwd: '/' });
    assert.equal(cfg.trustDir, join(home, '.notary'));
    assert.equal(cfg.serverUrl, DEFAULT_SERVER_URL);
    assert.equal(cfg.configFile, join(home, '.notary', 'config.json'));
    assert.equal(cfg.configFileExists, false);
    assert.deepEqual(cfg.tls, {});
  });

  it('an explicit -c file must exist (notary text)', async () => {
    await assert.rejects(loadClientConfig({ configFile: 'cfg/none.json' }, { env: { HOME: dir }, cwd: dir }), {
      message: 'error opening config file: open cfg/none.json: no such file or directory',
    });
  });

  it('unsupported extensions and bad JSON are refused like viper refuses them', async () => {
    await writeFile(join(dir, 'c.txt'), 'x');
    await assert.rejects(loadClientConfig({ configFile: join(dir, 'c.txt') }, { env: { HOME: dir }, cwd: dir }), {
      message: 'error opening config file: Unsupported Config Type "txt"',
    });
    await writeFile(join(dir, 'bad.json'), '{bad');
    await assert.rejects(loadClientConfig({ configFile: join(dir, 'bad.json') }, { env: { HOME: dir }, cwd: dir }), { message: "error opening config file: While parsing config: invalid character 'b' looking for beginning of object key string" });
  });

  it('JSON: ~ expanded, TLS paths relative to the config dir, trust_dir relative to the working dir', async () => {
    const cdir = join(dir, 'cfgjson');
    await mkdir(cdir, { recursive: true });
    await writeFile(
      join(cdir, 'config.json'),
      JSON.stringify({
        trust_dir: 'td',
        Remote_Server: { url: 'https://trust.example:4443', root_ca: 'ca.crt', tls_client_cert: '~/c.crt', tls_client_key: '/abs/c.key', skipTLSVerify: true },
        trust_pinning: { certs: { 'example.com/app': [ID1] }, ca: { 'example.com/': '/ca.pem' }, disable_tofu: true },
      }),
    );
    const cfg = await loadClientConfig({ configFile: 'cfgjson/config.json' }, { env: { HOME: '/home/u' }, cwd: dir });
    assert.equal(cfg.trustDir, join(dir, 'td'));
    assert.equal(cfg.trustDirDisplay, 'td', 'notary prints a relative trust_dir as it is written');
    assert.equal(cfg.serverUrl, 'https://trust.example:4443');
    assert.deepEqual(cfg.tls, { rootCA: join(cdir, 'ca.crt'), clientCert: '/home/u/c.crt', clientKey: '/abs/c.key', skipTLSVerify: true });
    assert.deepEqual(cfg.trustPinning(), { certs: { 'example.com/app': [ID1] }, ca: { 'example.com/': '/ca.pem' }, disableTofu: true });
  });

  it('YAML works too, and flags win (relative to the working dir)', async () => {
    const file = join(dir, 'c.yaml');
    await writeFile(file, 'trust_dir: ~/yaml-trust\nremote_server:\n  url: https://from-config:1\n  root_ca: ca.crt\n');
    const e = { env: { HOME: '/home/u' }, cwd: '/work' };
    const cfg = await loadClientConfig({ configFile: file }, e);
    assert.equal(cfg.trustDir, '/home/u/yaml-trust');
    assert.equal(cfg.tls.rootCA, join(dir, 'ca.crt'));
    const flagged = await loadClientConfig({ configFile: file, trustDir: 'd', server: 'https://flag:2', tlscacert: 'x/ca.pem', tlscert: 'c', tlskey: 'k' }, e);
    assert.equal(flagged.trustDir, '/work/d');
    assert.equal(flagged.serverUrl, 'https://flag:2');
    assert.deepEqual(flagged.tls, { rootCA: '/work/x/ca.pem', clientCert: '/work/c', clientKey: '/work/k' });
  });

  it('a malformed trust_pinning.certs fails only when pinning is read', async () => {
    const file = join(dir, 'badpin.json');
    await writeFile(file, JSON.stringify({ trust_pinning: { certs: { 'example.com/app': 'not-a-list' } } }));
    const cfg = await loadClientConfig({ configFile: file }, { env: { HOME: dir }, cwd: dir });
    assert.throws(() => cfg.trustPinning(), { message: 'invalid format for trust_pinning.certs' });
  });

  it('homeExpand only touches a leading ~ or ~/', () => {
    assert.equal(homeExpand('/h', '~'), '/h');
    assert.equal(homeExpand('/h', '~/x'), '/h/x');
    assert.equal(homeExpand('/h', '~x'), '~x');
    assert.equal(homeExpand('/h', 'a/~'), 'a/~');
  });
});

describe('addCertPin (vouch trust pin)', () => {
  it('creates the config file and its directory, private', async () => {
    const file = join(dir, 'new-home', '.notary', 'config.json');
    const r = await addCertPin(file, 'example.com/app', ID1);
    assert.deepEqual(r, { created: true, alreadyPinned: false, keyIds: [ID1] });
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { trust_pinning: { certs: { 'example.com/app': [ID1] } } });
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const cfg = await loadClientConfig({ configFile: file }, { env: { HOME: dir }, cwd: dir });
    assert.deepEqual(cfg.trustPinning().certs, { 'example.com/app': [ID1] });
  });

  it('keeps other settings, appends to an existing list, and is idempotent', async () => {
    const file = join(dir, 'existing.json');
    await writeFile(file, JSON.stringify({ trust_dir: '/t', Trust_Pinning: { Certs: { 'example.com/app': [ID1] }, disable_tofu: false } }), { mode: 0o644 });
    assert.deepEqual(await addCertPin(file, 'example.com/app', ID2), { created: false, alreadyPinned: false, keyIds: [ID1, ID2] });
    assert.deepEqual(await addCertPin(file, 'example.com/app', ID2), { created: false, alreadyPinned: true, keyIds: [ID1, ID2] });
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { trust_dir: '/t', Trust_Pinning: { Certs: { 'example.com/app': [ID1, ID2] }, disable_tofu: false } });
    assert.equal((await stat(file)).mode & 0o777, 0o644);
  });

  it('edits YAML in place, keeping comments', async () => {
    const file = join(dir, 'pin.yaml');
    await writeFile(file, '# my settings\ntrust_dir: /t # the dir\n');
    await addCertPin(file, 'example.com/app', ID1);
    const text = await readFile(file, 'utf8');
    assert.match(text, /^# my settings\ntrust_dir: \/t # the dir\n/);
    const cfg = await loadClientConfig({ configFile: file }, { env: { HOME: dir }, cwd: dir });
    assert.deepEqual(cfg.trustPinning().certs, { 'example.com/app': [ID1] });
  });

  it('refuses a trust_pinning that is not a map instead of overwriting it', async () => {
    const file = join(dir, 'weird.json');
    await writeFile(file, JSON.stringify({ trust_pinning: 'x' }));
    await assert.rejects(addCertPin(file, 'example.com/app', ID1), /trust_pinning in the config file is not a map/);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { trust_pinning: 'x' });
  });
});
