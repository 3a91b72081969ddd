import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { PassphraseError } from '../errors/index.ts';
import type { PassphraseRetriever } from './client-types.ts';
import { createPassphraseRetriever } from './passphrase.ts';
import { envPassphrase, envPassphraseRetriever, passphraseEnvNames } from './passphrase-env.ts';
import {
  DOCKER_ALIAS_MAP,
  displayKeyName,
  PASSPHRASE_INCORRECT,
  PASSPHRASE_TOO_SHORT,
  PASSPHRASES_DO_NOT_MATCH,
  ROOT_KEY_GENERATION_WARNING,
  terminalPassphraseRetriever,
} from './passphrase-terminal.ts';

const ID = '3293149a7c2b7e5ec3b2d7bcd2cf3b7a5f5cc0a5c3f4a1b0c9d8e7f6a5b4c3d2';

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}

/** A terminal whose keyboard input is given up front. */
function terminal(typed: string, extra: Partial<Parameters<typeof terminalPassphraseRetriever>[0]> = {}) {
  const input = new PassThrough();
  input.end(typed);
  const out = sink();
  const retriever = terminalPassphraseRetriever({ input, output: out.stream, isTTY: true, ...extra });
  return { retriever, output: out.text };
}

const req = (alias: string, createNew: boolean, attempt = 0, keyName = ID) => ({ keyName, alias, createNew, attempt });

describe('environment passphrases (spec §9.3)', () => {
  it('names the variables per alias, notary first', () => {
    assert.deepEqual(passphraseEnvNames('root'), ['NOTARY_ROOT_PASSPHRASE', 'DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE']);
    assert.deepEqual(passphraseEnvNames('targets'), ['NOTARY_TARGETS_PASSPHRASE', 'DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE']);
    assert.deepEqual(passphraseEnvNames('snapshot'), ['NOTARY_SNAPSHOT_PASSPHRASE', 'DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE']);
    assert.deepEqual(passphraseEnvNames('timestamp'), ['DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE']);
    assert.deepEqual(passphraseEnvNames('targets/releases'), ['NOTARY_DELEGATION_PASSPHRASE', 'DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE']);
    assert.deepEqual(passphraseEnvNames('alice'), ['NOTARY_DELEGATION_PASSPHRASE', 'DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE']);
    assert.deepEqual(passphraseEnvNames('delegation'), ['NOTARY_DELEGATION_PASSPHRASE', 'DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE']);
  });

  it('prefers notary\'s variable, falls back to docker\'s, ignores empty values', () => {
    const env = { NOTARY_ROOT_PASSPHRASE: 'n-root', DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE: 'd-root', DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: 'd-repo', NOTARY_TARGETS_PASSPHRASE: '' };
    assert.deepEqual(envPassphrase('root', env), { name: 'NOTARY_ROOT_PASSPHRASE', value: 'n-root' });
    assert.deepEqual(envPassphrase('targets', env), { name: 'DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE', value: 'd-repo' });
    assert.deepEqual(envPassphrase('alice', env)?.value, 'd-repo');
    assert.equal(envPassphrase('root', { DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: 'x' }), undefined, 'root never uses the repository passphrase');
  });

  it('offers the value on the first two calls and gives up on the third', async () => {
    const r = envPassphraseRetriever({ NOTARY_TARGETS_PASSPHRASE: 'tp' });
    assert.equal(await r(req('targets', false, 0)), 'tp');
    assert.equal(await r(req('targets', false, 1)), 'tp');
    await assert.rejects(r(req('targets', false, 2)), PassphraseError);
  });

  it('without a variable: PassphraseError at once, naming the variables', async () => {
    const r = envPassphraseRetriever({});
    await assert.rejects(r(req('snapshot', true)), (e: unknown) => e instanceof PassphraseError && /NOTARY_SNAPSHOT_PASSPHRASE or DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE/.test(e.message));
  });
});

describe('terminal prompts (spec §9.3, notary\'s texts)', () => {
  it('new root key: warning paragraph, enter, repeat; the passphrase is returned trimmed', async () => {
    const { retriever, output } = terminal('  a-long-passphrase \na-long-passphrase\n');
    assert.equal(await retriever(req('root', true)), 'a-long-passphrase');
    assert.equal(
      output(),
      `${ROOT_KEY_GENERATION_WARNING}\nEnter passphrase for new root key with ID 3293149: \nRepeat passphrase for new root key with ID 3293149: \n`,
    );
    assert.match(ROOT_KEY_GENERATION_WARNING, /^You are about to create a new root signing key passphrase\. This passphrase\nwill be used/);
    assert.equal(ROOT_KEY_GENERATION_WARNING.split('\n').length, 6);
  });

  it('new key: too short, then mismatch, then success (CRLF line ends accepted)', async () => {
    const { retriever, output } = terminal('short\r\nlong-enough-1\r\nlong-enough-2\r\nlong-enough-3\r\nlong-enough-3\r\n');
    assert.equal(await retriever(req('targets', true)), 'long-enough-3');
    const enter = 'Enter passphrase for new targets key with ID 3293149: \n';
    const repeat = 'Repeat passphrase for new targets key with ID 3293149: \n';
    assert.equal(output(), `${enter}${PASSPHRASE_TOO_SHORT}\n${enter}${repeat}${PASSPHRASES_DO_NOT_MATCH}\n${enter}${repeat}`);
  });

  it('new key: gives up after 12 rounds', async () => {
    const { retriever } = terminal('x\n'.repeat(20));
    await assert.rejects(retriever(req('targets', true)), /maximum number of passphrase attempts exceeded/);
  });

  it('existing key: prompt, "incorrect" on retries, gives up after 3 retries', async () => {
    const { retriever, output } = terminal('p0\np1\np2\np3\np4\n');
    assert.equal(await retriever(req('snapshot', false, 0)), 'p0');
    assert.equal(await retriever(req('snapshot', false, 1)), 'p1');
    assert.equal(await retriever(req('snapshot', false, 2)), 'p2');
    assert.equal(await retriever(req('snapshot', false, 3)), 'p3');
    await assert.rejects(retriever(req('snapshot', false, 4)), PassphraseError);
    const ask = 'Enter passphrase for snapshot key with ID 3293149: \n';
    assert.equal(output(), ask + `${PASSPHRASE_INCORRECT}\n${ask}`.repeat(3));
  });

  it('caches per alias: attempt 0 reuses what was typed before, without a prompt', async () => {
    const { retriever, output } = terminal('first-pass\nsecond-pass\n');
    assert.equal(await retriever(req('targets', false, 0)), 'first-pass');
    const before = output();
    assert.equal(await retriever(req('targets', false, 0, 'abcdef0123456789')), 'first-pass');
    assert.equal(output(), before);
    assert.equal(await retriever(req('targets', false, 1)), 'second-pass');
  });

  it('docker\'s alias map shows "repository" for targets; names with a path show the prefix', async () => {
    const { retriever, output } = terminal('pw\n', { aliasMap: DOCKER_ALIAS_MAP });
    await retriever(req('targets', false, 0, `example.com/app/${ID}`));
    assert.equal(output(), 'Enter passphrase for repository key with ID 3293149 (example.com/app): \n');
    assert.equal(displayKeyName(ID), '3293149');
    assert.equal(displayKeyName('short'), '');
    assert.equal(displayKeyName(''), '');
  });

  it('a name too short for an ID prompts without one (docker key load: alias "encrypted")', async () => {
    const { retriever, output } = terminal('pw\n');
    await retriever(req('encrypted', false, 0, ''));
    assert.equal(output(), 'Enter passphrase for encrypted key: \n');
  });

  it('no terminal: PassphraseError at once naming the variables, nothing read or written', async () => {
    const input = new PassThrough(); // never ends: reading would hang
    const out = sink();
    const r = terminalPassphraseRetriever({ input, output: out.stream, isTTY: false });
    await assert.rejects(r(req('root', true)), (e: unknown) => e instanceof PassphraseError && /NOTARY_ROOT_PASSPHRASE or DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE/.test(e.message));
    assert.equal(out.text(), '');
  });

  it('end of input is a PassphraseError, not a hang', async () => {
    const { retriever } = terminal('no-newline');
    await assert.rejects(retriever(req('targets', false)), /end of input/);
    const empty = terminal('');
    await assert.rejects(empty.retriever(req('targets', false)), /end of input/);
  });

  it('hidden input: raw mode while reading, restored after; backspace edits, Ctrl-C aborts', async () => {
    const input = new PassThrough() as PassThrough & { isTTY: boolean; isRaw: boolean; setRawMode: (m: boolean) => void };
    const modes: boolean[] = [];
    input.isTTY = true;
    input.isRaw = false;
    input.setRawMode = (m: boolean) => {
      modes.push(m);
      input.isRaw = m;
    };
    const out = sink();
    const r = terminalPassphraseRetriever({ input, output: out.stream, isTTY: true });
    const pending = r(req('targets', false));
    input.write('secreX');
    input.write('\u007ft\r');
    assert.equal(await pending, 'secret');
    assert.deepEqual(modes, [true, false]);
    assert.ok(!out.text().includes('secret'), 'the passphrase is never echoed');
    const aborted = r(req('targets', false, 1));
    input.write('ab\u0003');
    await assert.rejects(aborted, /interrupted/);
    assert.equal(input.isRaw, false);
  });

  it('input arriving in pieces is joined, and multi-byte characters survive chunk boundaries', async () => {
    const input = new PassThrough();
    const out = sink();
    const r = terminalPassphraseRetriever({ input, output: out.stream, isTTY: true });
    const pending = r(req('alice', false));
    const bytes = Buffer.from('pässword\n', 'utf8');
    input.write(bytes.subarray(0, 2));
    input.write(bytes.subarray(2));
    assert.equal(await pending, 'pässword');
  });
});

describe('createPassphraseRetriever: environment first, then terminal', () => {
  it('uses the variable when set, otherwise prompts', async () => {
    const input = new PassThrough();
    input.end('typed-pass\n');
    const out = sink();
    const r: PassphraseRetriever = createPassphraseRetriever({ env: { NOTARY_ROOT_PASSPHRASE: 'env-root' }, input, output: out.stream, isTTY: true });
    assert.equal(await r(req('root', true)), 'env-root');
    assert.equal(out.text(), '', 'no warning or prompt when the variable is used');
    assert.equal(await r(req('targets', false)), 'typed-pass');
    assert.match(out.text(), /Enter passphrase for targets key/);
  });

  it('no variable and no terminal: refuses at once', async () => {
    const r = createPassphraseRetriever({ env: {} });
    await assert.rejects(r(req('alice', false)), /NOTARY_DELEGATION_PASSPHRASE/);
  });

  it('an environment passphrase that keeps failing gives up instead of falling back to the terminal', async () => {
    const input = new PassThrough();
    const r = createPassphraseRetriever({ env: { DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: 'x' }, input, output: sink().stream, isTTY: true });
    await assert.rejects(r(req('targets', false, 2)), PassphraseError);
  });
});
