/**
 * The real notary 0.7 CLI against each target server (issue "Trust server: a drop-in
 * notary-server", first requirement). Every step asserts what a user sees: exit codes and exact
 * stdout, validated against the real notary-server. Steps within a target run in order and build
 * on each other (one repository per target).
 *
 * Run: ./node_modules/.bin/node --test test/e2e/notary-cli.test.ts
 * Targets: VOUCH_E2E_TARGETS=notary,vouch-memory,vouch-sqlite (default all).
 */
import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { useTarget } from '../support/e2e.ts';
import { NotaryCli } from '../support/notary-cli.ts';
import { makeDelegationKey, type DelegationKey } from '../support/pki.ts';
import { selectedTargets } from '../support/servers.ts';
import { ecdsaPublicJson, keyIdOf } from '../support/tuf-sign.ts';

const HELLO = 'hello world';
const HELLO_SHA = 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9';
const SECOND = 'second file\n';
const SECOND_SHA = 'f957b19529906961933c5c30f8713c500a9bb5d9d0695c40d48c97a26a3594ec';

/** Canonical key ID of a PEM public key or certificate (what notary prints). */
async function canonicalId(pemFile: string): Promise<string> {
  return keyIdOf(ecdsaPublicJson(createPublicKey(await readFile(pemFile, 'utf8'))));
}

function published(gun: string, auto = true): string {
  return `${auto ? 'Auto-publishing' : 'Pushing'} changes to ${gun}\nSuccessfully published changes for repository ${gun}\n`;
}

function listTable(rows: [string, string, string, string][]): string {
  const w = Math.max(4, ...rows.map((r) => r[0].length)) + 4;
  const r3 = Math.max(4, ...rows.map((r) => r[3].length));
  const line = (a: string, b: string, c: string, d: string): string =>
    `${a.padEnd(w)}${b.padEnd(68)}${c.padEnd(16)}${d}`.padEnd(w + 68 + 16 + r3).trimEnd() + '\n';
  return line('NAME', 'DIGEST', 'SIZE (BYTES)', 'ROLE') + line('----', '------', '------------', '----') + rows.map((r) => line(...r)).join('');
}

for (const target of selectedTargets()) {
  describe(`notary CLI against ${target}`, { timeout: 300_000 }, () => {
    const env = useTarget(target, 'notary-cli');
    const gun = 'example.com/e2e/cli';
    let owner: NotaryCli;
    let hello: string;
    let second: string;

    it('init -p publishes an empty repository', async () => {
      owner = await env.notary('owner');
      hello = await env.file('hello.txt', HELLO);
      second = await env.file('second.txt', SECOND);
      const r = await owner.ok('init', '-p', gun);
      assert.equal(r.stdout, published(gun));
      const l = await owner.ok('list', gun);
      assert.equal(l.stdout, '\nNo targets present in this repository.\n\n');
    });

    it('add -p publishes a target', async () => {
      const r = await owner.ok('add', '-p', gun, 'v1', hello);
      assert.equal(r.stdout, `Addition of target "v1" to repository "${gun}" staged for next publish.\n${published(gun)}`);
    });

    it('add and addhash staged, status, reset, publish', async () => {
      let r = await owner.ok('add', gun, 'v2', second);
      assert.equal(r.stdout, `Addition of target "v2" to repository "${gun}" staged for next publish.\n`);
      r = await owner.ok('addhash', gun, 'v3', '11', '--sha256', HELLO_SHA);
      assert.equal(r.stdout, `Addition of target "v3" by sha256 hash to repository "${gun}" staged for next publish.\n`);
      r = await owner.ok('addhash', gun, 'v4', '12', '--sha256', SECOND_SHA);
      r = await owner.ok('status', gun);
      assert.equal(
        r.stdout,
        `Unpublished changes for ${gun}:\n\n` +
          '#    ACTION    SCOPE      TYPE      PATH\n' +
          '-    ------    -----      ----      ----\n' +
          '0    create    targets    target    v2\n' +
          '1    create    targets    target    v3\n' +
          '2    create    targets    target    v4\n',
      );
      r = await owner.ok('reset', gun, '-n', '2');
      assert.equal(r.stdout, `Successfully reset specified changes for repository ${gun}\n`);
      r = await owner.ok('status', gun);
      assert.match(r.stdout, /0 {4}create {4}targets {4}target {4}v2\n1 {4}create {4}targets {4}target {4}v3\n$/);
      r = await owner.ok('publish', gun);
      assert.equal(r.stdout, published(gun, false));
      r = await owner.ok('status', gun);
      assert.equal(r.stdout, `No unpublished changes for ${gun}\n`);
      r = await owner.ok('list', gun);
      assert.equal(
        r.stdout,
        listTable([
          ['v1', HELLO_SHA, '11', 'targets'],
          ['v2', SECOND_SHA, '12', 'targets'],
          ['v3', HELLO_SHA, '11', 'targets'],
        ]),
      );
    });

    it('addhash -p publishes a target by hash', async () => {
      const r = await owner.ok('addhash', '-p', gun, 'v5', '12', '--sha256', SECOND_SHA);
      assert.equal(r.stdout, `Addition of target "v5" by sha256 hash to repository "${gun}" staged for next publish.\n${published(gun)}`);
    });

    it('lookup and verify', async () => {
      let r = await owner.ok('lookup', gun, 'v1');
      assert.equal(r.stdout, `v1 sha256:${HELLO_SHA} 11\n`);
      r = await owner.ok('lookup', gun, 'v5');
      assert.equal(r.stdout, `v5 sha256:${SECOND_SHA} 12\n`);
      r = await owner.ok('verify', gun, 'v1', '-i', hello);
      assert.equal(r.stdout, HELLO);
      r = await owner.run(['verify', gun, 'v1'], { input: HELLO });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, HELLO);
      r = await owner.fails('verify', gun, 'v1', '-i', second);
      assert.equal(r.code, 1);
      // notary checks the listed hashes in map order: either one is reported
      const sha512 = createHash('sha512').update(HELLO).digest('hex');
      assert.ok(
        [HELLO_SHA, sha512].some(
          (h) => r.stdout === `\n* fatal: data not present in the trusted collection, sha${h.length * 4} checksum for v1 did not match: expected ${h}\n`,
        ),
        r.stdout,
      );
      r = await owner.fails('lookup', gun, 'nope');
      assert.equal(r.stdout, '\n* fatal: No valid trust data for nope\n');
    });

    let reader: NotaryCli;

    it('a second client sees the same repository', async () => {
      reader = await env.notary('reader');
      const r = await reader.ok('list', gun);
      assert.equal(
        r.stdout,
        listTable([
          ['v1', HELLO_SHA, '11', 'targets'],
          ['v2', SECOND_SHA, '12', 'targets'],
          ['v3', HELLO_SHA, '11', 'targets'],
          ['v5', SECOND_SHA, '12', 'targets'],
        ]),
      );
    });

    it('remove -p and staged remove then publish', async () => {
      let r = await owner.ok('remove', '-p', gun, 'v1');
      assert.equal(r.stdout, `Removal of v1 from ${gun} staged for next publish.\n${published(gun)}`);
      r = await owner.ok('remove', gun, 'v3');
      assert.equal(r.stdout, `Removal of v3 from ${gun} staged for next publish.\n`);
      r = await owner.ok('publish', gun);
      assert.equal(r.stdout, published(gun, false));
      r = await owner.ok('list', gun);
      assert.equal(
        r.stdout,
        listTable([
          ['v2', SECOND_SHA, '12', 'targets'],
          ['v5', SECOND_SHA, '12', 'targets'],
        ]),
      );
    });

    it('key rotate snapshot -r, timestamp -r, targets and root', async () => {
      let r = await owner.ok('key', 'rotate', gun, 'snapshot', '-r');
      assert.equal(r.stdout, `Successfully rotated snapshot key for repository ${gun}\n`);
      r = await owner.ok('key', 'rotate', gun, 'timestamp', '-r');
      assert.equal(r.stdout, `Successfully rotated timestamp key for repository ${gun}\n`);
      r = await owner.ok('key', 'rotate', gun, 'targets');
      assert.equal(r.stdout, `Successfully rotated targets key for repository ${gun}\n`);
      r = await owner.okWithInput('yes\n', 'key', 'rotate', gun, 'root');
      assert.equal(
        r.stdout,
        'Warning: you are about to rotate your root key.\n\nYou must use your old key to sign this root rotation.\n' +
          `Are you sure you want to proceed?  (yes/no)  Successfully rotated root key for repository ${gun}\n`,
      );
      // the owner keeps publishing with the new keys (snapshot now server-managed)
      r = await owner.ok('add', '-p', gun, 'after-rotate', hello);
      const expected = listTable([
        ['after-rotate', HELLO_SHA, '11', 'targets'],
        ['v2', SECOND_SHA, '12', 'targets'],
        ['v5', SECOND_SHA, '12', 'targets'],
      ]);
      r = await owner.ok('list', gun);
      assert.equal(r.stdout, expected);
      // a client that trusted the old root follows the rotation; a new one bootstraps on the new root
      r = await reader.ok('list', gun);
      assert.equal(r.stdout, expected);
      const fresh = await env.notary('reader-after-rotation');
      r = await fresh.ok('list', gun);
      assert.equal(r.stdout, expected);
    });

    let alice: DelegationKey;
    let bob: DelegationKey;
    let carol: DelegationKey;
    let aliceId: string;
    let bobId: string;
    let carolId: string;

    it('delegation add with an x509 cert and with public keys, then list', async () => {
      alice = await makeDelegationKey(env.dir, 'alice');
      bob = await makeDelegationKey(env.dir, 'bob');
      carol = await makeDelegationKey(env.dir, 'carol');
      aliceId = await canonicalId(alice.certFile);
      bobId = await canonicalId(bob.pubFile);
      carolId = await canonicalId(carol.pubFile);
      let r = await owner.ok('delegation', 'add', gun, 'targets/releases', alice.certFile, '--all-paths');
      assert.equal(
        r.stdout,
        `\nAddition of delegation role targets/releases with keys [${aliceId}], with paths ["" <all paths>], to repository "${gun}" staged for next publish.\n\n`,
      );
      r = await owner.ok('delegation', 'add', gun, 'targets/releases', bob.pubFile);
      assert.equal(r.stdout, `\nAddition of delegation role targets/releases with keys [${bobId}], to repository "${gun}" staged for next publish.\n\n`);
      r = await owner.ok('delegation', 'add', '-p', gun, 'targets/qa', carol.pubFile, '--paths', 'qa/,qa2/');
      assert.equal(
        r.stdout,
        `\nAddition of delegation role targets/qa with keys [${carolId}], with paths [qa/\nqa2/], to repository "${gun}" staged for next publish.\n\n${published(gun)}`,
      );
      r = await owner.ok('delegation', 'list', gun);
      // key IDs of a role are listed in the order of the role's keyids (Go map order)
      const table = (first: string, second: string): string =>
        '\n' +
        'ROLE                PATHS             KEY IDS                                                             THRESHOLD\n' +
        '----                -----             -------                                                             ---------\n' +
        `targets/qa          qa/               ${carolId}    1\n` +
        `                    qa2/                                                                                  \n` +
        `targets/releases    "" <all paths>    ${first}    1\n` +
        `                                      ${second}    \n` +
        '\n';
      assert.ok([table(aliceId, bobId), table(bobId, aliceId)].includes(r.stdout), r.stdout);
    });

    it('delegation remove asks, then removes the role', async () => {
      let r = await owner.run(['delegation', 'remove', gun, 'targets/qa'], { input: 'no\n' });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.equal(r.stdout, '\nAre you sure you want to remove all data for this delegation? (yes/no)\n* fatal: Aborting action.\n');
      r = await owner.okWithInput('yes\n', 'delegation', 'remove', '-p', gun, 'targets/qa');
      assert.equal(
        r.stdout,
        '\nAre you sure you want to remove all data for this delegation? (yes/no)\n\n' +
          `Forced removal (including all keys and paths) of delegation role targets/qa to repository "${gun}" staged for next publish.\n\n${published(gun)}`,
      );
      r = await owner.ok('delegation', 'list', gun);
      assert.doesNotMatch(r.stdout, /targets\/qa/);
      assert.match(r.stdout, /^targets\/releases {4}"" <all paths> {4}[0-9a-f]{64} {4}1$/m);
    });

    it('delegation purge removes a key from every delegation', async () => {
      let r = await owner.ok('delegation', 'purge', '-p', gun, '--key', bobId);
      assert.equal(r.stdout, `Removal of the following keys from all delegations in ${gun} staged for next publish:\n\t- ${bobId}\n${published(gun)}`);
      r = await owner.ok('delegation', 'list', gun);
      assert.equal(
        r.stdout,
        '\n' +
          'ROLE                PATHS             KEY IDS                                                             THRESHOLD\n' +
          '----                -----             -------                                                             ---------\n' +
          `targets/releases    "" <all paths>    ${aliceId}    1\n` +
          '\n',
      );
    });

    let delegate: NotaryCli;

    it('the delegate publishes into targets/releases with its imported key', async () => {
      delegate = await env.notary('delegate');
      let r = await delegate.ok('key', 'import', alice.keyFile, '-r', 'targets/releases');
      r = await delegate.ok('add', '-p', gun, 'rel1', hello, '--roles', 'targets/releases');
      assert.equal(r.stdout, `Addition of target "rel1" to repository "${gun}" staged for next publish.\n${published(gun)}`);
      const expected = listTable([
        ['after-rotate', HELLO_SHA, '11', 'targets'],
        ['rel1', HELLO_SHA, '11', 'targets/releases'],
        ['v2', SECOND_SHA, '12', 'targets'],
        ['v5', SECOND_SHA, '12', 'targets'],
      ]);
      r = await owner.ok('list', gun);
      assert.equal(r.stdout, expected);
      r = await delegate.ok('list', gun, '--roles', 'targets/releases');
      assert.equal(r.stdout, listTable([['rel1', HELLO_SHA, '11', 'targets/releases']]));
      r = await owner.ok('lookup', gun, 'rel1');
      assert.equal(r.stdout, `rel1 sha256:${HELLO_SHA} 11\n`);
      // a delegate may not sign outside its delegation: without the targets key nothing changes
      r = await delegate.fails('add', '-p', gun, 'sneaky', hello);
      assert.equal(r.code, 1);
      r = await delegate.ok('reset', gun, '--all');
      r = await delegate.ok('status', gun);
      assert.equal(r.stdout, `No unpublished changes for ${gun}\n`);
      r = await owner.ok('list', gun);
      assert.equal(r.stdout, expected);
    });

    it('witness re-signs a delegation and targets', async () => {
      let r = await delegate.ok('witness', '-p', gun, 'targets/releases');
      assert.equal(
        r.stdout,
        `The following roles were successfully marked for witnessing on the next publish:\n\t- targets/releases\n${published(gun)}`,
      );
      r = await owner.ok('witness', '-p', gun, 'targets');
      assert.equal(r.stdout, `The following roles were successfully marked for witnessing on the next publish:\n\t- targets\n${published(gun)}`);
      r = await (await env.notary('reader-after-witness')).ok('list', gun);
      assert.match(r.stdout, /^rel1 +b94d27b9\S+ +11 +targets\/releases$/m);
    });

    it('delete --remote removes the repository from the server', async () => {
      let r = await owner.ok('delete', gun, '--remote');
      assert.equal(r.stdout, `Deleting trust data for repository ${gun}\nSuccessfully deleted local and remote trust data for repository ${gun}\n`);
      const host = new URL(env.server.url).host;
      r = await (await env.notary('reader-after-delete')).fails('list', gun);
      assert.equal(r.stdout, `\n* fatal: ${host} does not have trust data for ${gun}\n`);
      r = await owner.fails('list', gun);
      assert.equal(r.stdout, `\n* fatal: ${host} does not have trust data for ${gun}\n`);
      // the GUN can be initialised again from scratch
      r = await owner.ok('init', '-p', gun);
      r = await owner.ok('list', gun);
      assert.equal(r.stdout, '\nNo targets present in this repository.\n\n');
    });
  });
}
