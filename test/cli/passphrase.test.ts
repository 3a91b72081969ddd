/**
 * Passphrases in the vouch CLI (issue item 3): the notary and docker variables, notary's prompts
 * on a terminal (driven here through injected streams), and without a terminal and without a
 * variable a clear error at once — never a wait for input that cannot come. A refused or
 * abandoned passphrase never leaves a key file half-written or changed.
 *
 * Run: ./node_modules/.bin/node --test test/cli/passphrase.test.ts
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeResult } from '../support/exec.ts';
import { NotaryCli } from '../support/notary-cli.ts';
import { makeDelegationKey, makePki, removeDir, tempDir, type Pki } from '../support/pki.ts';
import { describe2, VouchCli } from './support.ts';

const OFFLINE = 'https://127.0.0.1:1';
const GOOD = 'correct-horse-battery';

describe('vouch passphrases', { timeout: 180_000 }, () => {
  let dir = '';
  let pki: Pki;
  let n = 0;
  before(async () => {
    dir = await tempDir('cli-passphrase');
    pki = await makePki(dir);
  });
  after(async () => {
    await removeDir(dir);
  });

  const fresh = (): VouchCli => new VouchCli({ url: OFFLINE, caFile: pki.caFile, home: join(dir, `home-${++n}`) });
  const noSecrets = (v: VouchCli): NodeJS.ProcessEnv => ({ PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: v.home, TZ: 'UTC' });
  const privateFiles = async (v: VouchCli): Promise<string[]> => {
    try {
      return (await readdir(join(v.trustDir, 'private'), { recursive: true })).map(String).sort();
    } catch {
      return [];
    }
  };

  it('no terminal, no variable: the binary fails at once naming the variables, writes no key', async () => {
    const v = fresh();
    const key = await makeDelegationKey(dir, 'nopass');
    const cases: [string[], RegExp][] = [
      [['init', 'example.com/nopass/app'], /NOTARY_ROOT_PASSPHRASE or DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE/],
      [['key', 'generate'], /^\n\* fatal: Failed to create a new root key: .*NOTARY_ROOT_PASSPHRASE/],
      [['key', 'generate', '-r', 'targets/x'], /NOTARY_DELEGATION_PASSPHRASE or DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE/],
      [['key', 'import', key.keyFile], /NOTARY_DELEGATION_PASSPHRASE/],
    ];
    for (const [args, message] of cases) {
      const started = Date.now();
      // standard input is a pipe with data on it: it must not be read as a passphrase either
      const r = await v.spawn(args, { env: noSecrets(v), input: 'not-a-passphrase\nnot-a-passphrase\n', timeoutMs: 30_000 });
      const took = Date.now() - started;
      assert.equal(r.timedOut, false, describeResult(args, r));
      assert.equal(r.code, 1, describeResult(args, r));
      assert.match(r.stdout, message, describeResult(args, r));
      assert.ok(took < 20_000, `vouch ${args.join(' ')} took ${took} ms`);
      assert.deepEqual(await privateFiles(v), [], `no key file after vouch ${args.join(' ')}`);
    }
  });

  it('the variables of notary and of docker are both used', async () => {
    const v = fresh();
    const dockerOnly = { ...noSecrets(v), DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE: GOOD };
    const r = await v.run(['key', 'generate'], { env: dockerOnly });
    assert.equal(r.code, 0, describe2('vouch key generate', r));
    const id = /keyID: ([0-9a-f]{64})/.exec(r.stdout)?.[1] as string;
    // notary opens the key with the same passphrase given through its own variable
    const notary = new NotaryCli({ url: OFFLINE, caFile: pki.caFile, home: v.home, trustDir: v.trustDir, passphrase: GOOD });
    const passwd = await notary.run(['key', 'passwd', id]);
    assert.equal(passwd.code, 0, describeResult(['notary', 'key', 'passwd', id], passwd));
    const withNotaryVar = await v.run(['key', 'passwd', id], { env: { ...noSecrets(v), NOTARY_ROOT_PASSPHRASE: GOOD } });
    assert.equal(withNotaryVar.code, 0, describe2('vouch key passwd', withNotaryVar));
  });

  it('a wrong passphrase in the environment: refused like notary refuses it, the key file unchanged', async () => {
    const v = fresh();
    const made = await v.run(['key', 'generate', '-r', 'targets/alice'], { env: { ...noSecrets(v), NOTARY_DELEGATION_PASSPHRASE: GOOD } });
    const id = /keyID: ([0-9a-f]{64})/.exec(made.stdout)?.[1] as string;
    const file = join(v.trustDir, 'private', `${id}.key`);
    const before = await readFile(file);
    const wrong = { ...noSecrets(v), NOTARY_DELEGATION_PASSPHRASE: 'wrong-passphrase' };
    const rv = await v.run(['key', 'passwd', id], { env: wrong });
    const notary = new NotaryCli({ url: OFFLINE, caFile: pki.caFile, home: v.home, trustDir: v.trustDir, passphrase: 'wrong-passphrase' });
    const rn = await notary.run(['key', 'passwd', id]);
    assert.equal(rv.code, 1, describe2('vouch', rv));
    assert.equal(rv.stdout, rn.stdout);
    assert.equal(rv.stdout, `\n* fatal: could not retrieve local key for key ID provided: ${id}\n`);
    assert.deepEqual(await readFile(file), before);
    assert.deepEqual(await privateFiles(v), [`${id}.key`]);
  });

  it('on a terminal: notary’s prompts, hidden answers asked twice for a new key, retries on a wrong one', async () => {
    const v = fresh();
    const env = noSecrets(v);
    const gen = await v.run(['key', 'generate'], { env, isTTY: true, input: `short\n${GOOD}\nmismatch-123\n${GOOD}\n${GOOD}\n` });
    assert.equal(gen.code, 0, describe2('vouch key generate', gen));
    const id = /keyID: ([0-9a-f]{64})/.exec(gen.stdout)?.[1] as string;
    const short = id.slice(0, 7);
    assert.equal(
      gen.stdout,
      'You are about to create a new root signing key passphrase. This passphrase\n' +
        'will be used to protect the most sensitive key in your signing system. Please\n' +
        'choose a long, complex passphrase and be careful to keep the password and the\n' +
        'key file itself secure and backed up. It is highly recommended that you use a\n' +
        'password manager to generate the passphrase and keep it safe. There will be no\n' +
        'way to recover this key. You can find the key in your config directory.\n' +
        `Enter passphrase for new root key with ID ${short}: \n` +
        'Passphrase is too short. Please use a password manager to generate and store a good random passphrase.\n' +
        `Enter passphrase for new root key with ID ${short}: \n` +
        `Repeat passphrase for new root key with ID ${short}: \n` +
        'Passphrases do not match. Please retry.\n' +
        `Enter passphrase for new root key with ID ${short}: \n` +
        `Repeat passphrase for new root key with ID ${short}: \n` +
        `Generated new ecdsa root key with keyID: ${id}\n`,
    );
    const file = join(v.trustDir, 'private', `${id}.key`);
    const before = await readFile(file);

    const wrong = await v.run(['key', 'passwd', id], { env, isTTY: true, input: 'nope-1\nnope-2\nnope-3\nnope-4\n' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stdout, new RegExp(`^Enter passphrase for root key with ID ${short}: \\nPassphrase incorrect\\. Please retry\\.\\n`));
    assert.match(wrong.stdout, /\* fatal: could not retrieve local key for key ID provided: /);
    assert.deepEqual(await readFile(file), before, 'wrong passphrases leave the key as it was');

    // the old passphrase is right, then the new one never gets confirmed: nothing is written
    const abandoned = await v.run(['key', 'passwd', id], { env, isTTY: true, input: `${GOOD}\nnew-passphrase-1\nnew-passphrase-2\n` });
    assert.equal(abandoned.code, 1, describe2('abandoned passwd', abandoned));
    assert.deepEqual(await readFile(file), before, 'an abandoned new passphrase leaves the key as it was');

    const changed = await v.run(['key', 'passwd', id], { env, isTTY: true, input: `${GOOD}\nnew-passphrase-1\nnew-passphrase-1\n` });
    assert.equal(changed.code, 0, describe2('vouch key passwd', changed));
    assert.match(changed.stdout, new RegExp(`\\nSuccessfully updated passphrase for key ID: ${id}\\n$`));
    assert.notDeepEqual(await readFile(file), before);
    // notary opens it with the new passphrase only
    const notaryNew = new NotaryCli({ url: OFFLINE, caFile: pki.caFile, home: v.home, trustDir: v.trustDir, passphrase: 'new-passphrase-1' });
    assert.equal((await notaryNew.run(['key', 'passwd', id])).code, 0);
    const notaryOld = new NotaryCli({ url: OFFLINE, caFile: pki.caFile, home: v.home, trustDir: v.trustDir, passphrase: GOOD });
    assert.equal((await notaryOld.run(['key', 'passwd', id])).code, 1);
  });

  it('on a terminal, the yes/no answer comes from standard input through the shared prompt input', async () => {
    const v = fresh();
    const env = noSecrets(v);
    const gen = await v.run(['key', 'generate', '-r', 'targets/bob'], { env: { ...env, NOTARY_DELEGATION_PASSPHRASE: GOOD } });
    const id = /keyID: ([0-9a-f]{64})/.exec(gen.stdout)?.[1] as string;
    const r = await v.run(['key', 'remove', id], { env, isTTY: true, input: 'yes\n' });
    assert.equal(r.code, 0, describe2('vouch key remove', r));
    assert.match(r.stdout, /\(yes\/no\) {2}\nDeleted /);
    assert.deepEqual(await privateFiles(v), []);
  });
});
