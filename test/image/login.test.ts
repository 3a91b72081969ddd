/**
 * `vouch login`/`logout` next to docker 28's client-side login (what it does with no engine):
 * against distribution's docker-registry behind a token service that hands out plain tokens
 * (the login is kept as `auth` = user:password) and against `vouch serve`, whose token service
 * hands out refresh tokens (kept as an `identitytoken`, no password) — each time the config.json
 * entry vouch writes is the one docker writes, other settings in the file survive, and the login
 * is what `vouch push`/`pull` then use. Plus docker's refusals (wrong password, no terminal,
 * conflicting flags) and a credential helper (`credsStore`) storing and erasing instead of the file.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeResult, runCommand, type RunResult } from '../support/exec.ts';
import { removeDir, tempDir } from '../support/pki.ts';
import { VOUCH_BIN } from '../support/servers.ts';
import { startRegistry, startTokenService, USERS, type RunningRegistry, type TokenService } from '../registry/support.ts';
import { ADMIN_PASSWORD, startServeProcess, type ServeProcess } from '../serve/support.ts';
import { buildLayout } from './support.ts';

interface Cli {
  readonly configDir: string;
  vouch(args: readonly string[], input?: string): Promise<RunResult>;
  docker(args: readonly string[], input?: string): Promise<RunResult>;
  config(): Promise<{ auths: Record<string, Record<string, string>> } & Record<string, unknown>>;
}

async function cli(home: string, caFor?: { host: string; caFile: string }, extraEnv: Record<string, string> = {}): Promise<Cli> {
  const configDir = join(home, 'docker-config');
  await mkdir(configDir, { recursive: true });
  if (caFor !== undefined) {
    await mkdir(join(configDir, 'tls', caFor.host), { recursive: true });
    await writeFile(join(configDir, 'tls', caFor.host, 'ca.crt'), await readFile(caFor.caFile));
  }
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, DOCKER_CONFIG: configDir, DOCKER_HOST: 'unix:///nonexistent/docker.sock', ...extraEnv };
  return {
    configDir,
    vouch: (args, input) => runCommand(process.execPath, ['--disable-warning=ExperimentalWarning', VOUCH_BIN, ...args], { env, cwd: home, ...(input === undefined ? {} : { input }), timeoutMs: 120_000 }),
    docker: (args, input) => runCommand('docker', args, { env, cwd: home, ...(input === undefined ? {} : { input }), timeoutMs: 120_000 }),
    config: async () => JSON.parse(await readFile(join(configDir, 'config.json'), 'utf8')) as { auths: Record<string, Record<string, string>> },
  };
}

function ok(r: RunResult, what: string): RunResult {
  assert.equal(r.code, 0, describeResult([what], r));
  return r;
}

describe('vouch login and logout', { timeout: 300_000 }, () => {
  let dir: string;
  let tokens: TokenService;
  let reg: RunningRegistry;
  let serve: ServeProcess;
  const alicePass = USERS['alice']?.password ?? '';

  before(async () => {
    dir = await tempDir('image-login');
    tokens = await startTokenService();
    reg = await startRegistry('docker-registry', { storageDir: join(dir, 'registry'), auth: tokens });
    serve = await startServeProcess(join(dir, 'serve'));
  });
  after(async () => {
    await reg?.stop();
    await tokens?.stop();
    await serve?.stop();
    if (dir !== undefined) await removeDir(dir);
  });

  it('a token-auth registry: the same config.json entry as docker login, other settings kept; push works with it; logout removes it', async () => {
    const v = await cli(join(dir, 'v1'));
    const d = await cli(join(dir, 'd1'));
    await writeFile(join(v.configDir, 'config.json'), JSON.stringify({ psFormat: 'table {{.ID}}', auths: { 'other.example': { auth: 'eDp5' } } }));
    const r = ok(await v.vouch(['login', '-u', 'alice', '--password-stdin', reg.host], `${alicePass}\n`), 'vouch login');
    assert.equal(r.stdout, 'Login Succeeded\n');
    ok(await d.docker(['login', '-u', 'alice', '--password-stdin', reg.host], `${alicePass}\n`), 'docker login');
    const mine = await v.config();
    assert.deepEqual(mine.auths[reg.host], (await d.config()).auths[reg.host]);
    assert.deepEqual(mine.auths[reg.host], { auth: Buffer.from(`alice:${alicePass}`).toString('base64') });
    assert.equal(mine['psFormat'], 'table {{.ID}}');
    assert.deepEqual(mine.auths['other.example'], { auth: 'eDp5' });

    const img = await buildLayout(join(dir, 'img1'), { tag: 'v1', layers: [{ files: 1, bytes: 1000 }] });
    ok(await v.vouch(['push', '-i', img.dir, `${reg.host}/team/app:v1`]), 'vouch push with the login');
    ok(await v.vouch(['pull', '-o', join(dir, 'pulled1'), `${reg.host}/team/app:v1`]), 'vouch pull with the login');

    const out = ok(await v.vouch(['logout', reg.host]), 'vouch logout');
    const dout = ok(await d.docker(['logout', reg.host]), 'docker logout');
    assert.equal(out.stdout, dout.stdout);
    assert.equal((await v.config()).auths[reg.host], undefined);
    const denied = await v.vouch(['push', '-i', img.dir, `${reg.host}/team/app:v2`]);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /unauthorized|denied/i);
  });

  it("vouch serve: an identity token is kept instead of the password, as docker keeps it, and it opens the registry", async () => {
    const host = serve.host;
    const v = await cli(join(dir, 'v2'), { host, caFile: serve.caFile });
    const d = await cli(join(dir, 'd2'), { host, caFile: serve.caFile });
    ok(await v.vouch(['login', '-u', 'admin', '--password-stdin', host], `${ADMIN_PASSWORD}\n`), 'vouch login');
    ok(await d.docker(['login', '-u', 'admin', '--password-stdin', host], `${ADMIN_PASSWORD}\n`), 'docker login');
    const mine = (await v.config()).auths[host] ?? {};
    const theirs = (await d.config()).auths[host] ?? {};
    assert.deepEqual(Object.keys(mine).sort(), Object.keys(theirs).sort());
    assert.equal(mine['auth'], theirs['auth']);
    assert.equal(mine['auth'], Buffer.from('admin:').toString('base64'));
    assert.ok((mine['identitytoken'] ?? '').length > 20);
    // the saved login is tried first when no user is given
    const again = ok(await v.vouch(['login', host]), 'vouch login again');
    assert.equal(again.stdout, 'Authenticating with existing credentials...\nLogin Succeeded\n');
    const img = await buildLayout(join(dir, 'img2'), { tag: 'v1', layers: [{ files: 1, bytes: 1000 }] });
    ok(await v.vouch(['push', '-i', img.dir, `${host}/team/app:v1`]), 'vouch push with the identity token');
    // docker's login works for vouch too
    ok(await d.vouch(['pull', '-o', join(dir, 'pulled2.tar'), `${host}/team/app:v1`]), "vouch pull with docker's login");
  });

  it("refuses as docker does: a wrong password, no terminal, conflicting flags", async () => {
    const v = await cli(join(dir, 'v3'));
    const wrong = await v.vouch(['login', '-u', 'alice', '--password-stdin', reg.host], 'nope\n');
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /unauthorized: incorrect username or password/);
    const tty = await v.vouch(['login', reg.host]);
    assert.equal(tty.code, 1);
    assert.equal(tty.stderr, 'Error: Cannot perform an interactive login from a non TTY device\n');
    const both = await v.vouch(['login', '-u', 'alice', '-p', 'x', '--password-stdin', reg.host], 'y\n');
    assert.equal(both.stderr, 'WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n--password and --password-stdin are mutually exclusive\n');
    const nouser = await v.vouch(['login', '--password-stdin', reg.host], 'y\n');
    assert.equal(nouser.stderr, 'Must provide --username with --password-stdin\n');
  });

  it('stores through the credential helper config.json names, and reads it back for a pull', async () => {
    const home = join(dir, 'v4');
    const bin = join(home, 'bin');
    await mkdir(bin, { recursive: true });
    const store = join(home, 'helper-store.json');
    // a tiny docker-credential helper keeping one secret per server in a JSON file
    await writeFile(
      join(bin, 'docker-credential-vouchtest'),
      `#!/bin/sh\nexec ${process.execPath} -e '${[
        `const fs=require("fs");const f=${JSON.stringify(store)};let db={};try{db=JSON.parse(fs.readFileSync(f,"utf8"))}catch{}`,
        'const input=fs.readFileSync(0,"utf8");const a=process.argv[1];',
        'if(a==="store"){const c=JSON.parse(input);db[c.ServerURL]=c;fs.writeFileSync(f,JSON.stringify(db))}',
        'else if(a==="get"){const c=db[input.trim()];if(!c){process.stdout.write("credentials not found in native keychain");process.exit(1)}process.stdout.write(JSON.stringify(c))}',
        'else if(a==="erase"){delete db[input.trim()];fs.writeFileSync(f,JSON.stringify(db))}',
      ].join('')}' "$1"\n`,
    );
    await chmod(join(bin, 'docker-credential-vouchtest'), 0o755);
    const v = await cli(home, undefined, { PATH: `${bin}:${process.env['PATH'] ?? '/usr/bin:/bin'}` });
    await writeFile(join(v.configDir, 'config.json'), JSON.stringify({ credsStore: 'vouchtest' }));
    ok(await v.vouch(['login', '-u', 'alice', '--password-stdin', reg.host], `${alicePass}\n`), 'vouch login with a helper');
    const saved = JSON.parse(await readFile(store, 'utf8')) as Record<string, { Username: string; Secret: string }>;
    assert.deepEqual(saved[reg.host], { ServerURL: reg.host, Username: 'alice', Secret: alicePass });
    assert.equal(JSON.stringify((await v.config()).auths[reg.host]), '{}', 'no secret in config.json');
    ok(await v.vouch(['pull', '-o', join(dir, 'pulled4'), `${reg.host}/team/app:v1`]), 'vouch pull through the helper');
    ok(await v.vouch(['logout', reg.host]), 'vouch logout');
    assert.deepEqual(JSON.parse(await readFile(store, 'utf8')), {});
  });
});
