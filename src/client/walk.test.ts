import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sha256Hex } from '../canonical/index.ts';
import { TestRepo } from '../../test/support/tuf-repo.ts';
import { TrustedSet } from './trusted-set.ts';
import type { TrustedRepo } from './types.ts';
import {
  NoSuchTargetError,
  dockerDigest,
  getDockerTarget,
  getTargetByName,
  listDockerTargets,
  listTargets,
  restrictPaths,
  walkTargets,
} from './walk.ts';

const NOW = new Date('2030-03-01T12:00:00Z');

/** Verify every role of `repo` (delegations pre-order, as the updater loads them). */
function verified(repo: TestRepo): TrustedRepo {
  const set = TrustedSet.bootstrap({ gun: repo.gun, now: NOW, pinning: () => ({}), cachedRoot: repo.bytes('root') });
  set.updateTimestamp(repo.bytes('timestamp'), null);
  set.updateSnapshot(repo.bytes('snapshot'), null);
  const queue = [{ name: 'targets', paths: [''] }];
  while (queue.length > 0) {
    const role = queue.shift() as { name: string; paths: string[] };
    if (!repo.roles().includes(role.name)) continue;
    set.updateTargets(role.name, repo.bytes(role.name), null);
    queue.unshift(...set.children(role).map((c) => ({ name: c.name, paths: [...c.paths] })));
  }
  return set.finish();
}

function names(list: { name: string; role: string }[]): string[][] {
  return list.map((t) => [t.name, t.role]);
}

describe('target resolution (§10.3)', () => {
  it('lists targets of the whole tree; a name listed twice comes from the first role in BFS order', () => {
    const repo = TestRepo.create({ gun: 'example.com/walk', now: NOW });
    repo.addDelegation('targets', 'targets/a');
    repo.addDelegation('targets', 'targets/b');
    repo.addDelegation('targets/a', 'targets/a/c');
    repo.addTarget('targets', 'top', 'x');
    repo.addTarget('targets/a', 'shared', 'from a');
    repo.addTarget('targets/b', 'shared', 'from b');
    repo.addTarget('targets/a/c', 'deep', 'from c');
    repo.addTarget('targets/a/c', 'bfs', 'from c');
    repo.addTarget('targets/b', 'bfs', 'from b');
    repo.publish('targets', 'targets/a', 'targets/b', 'targets/a/c');
    const trusted = verified(repo);
    assert.deepEqual(names(listTargets(trusted)), [
      ['bfs', 'targets/b'],
      ['deep', 'targets/a/c'],
      ['shared', 'targets/a'],
      ['top', 'targets'],
    ]);
    assert.equal(getTargetByName(trusted, 'bfs').role, 'targets/b');
    const t = getTargetByName(trusted, 'shared');
    assert.equal(t.length, 'from a'.length);
    assert.equal(Buffer.from(t.hashes.get('sha256') as Uint8Array).toString('hex'), sha256Hex(new TextEncoder().encode('from a')));
  });

  it('effective paths: a child keeps only paths under its parent paths, targets outside them are invisible', () => {
    assert.deepEqual(restrictPaths(['app/', 'lib/'], ['app/x', 'other/', 'lib']), ['app/x']);
    assert.deepEqual(restrictPaths([''], ['a', '']), ['a', '']);
    assert.deepEqual(restrictPaths(['a/'], []), []);
    const repo = TestRepo.create({ gun: 'example.com/walk', now: NOW });
    repo.addDelegation('targets', 'targets/a', { paths: ['app/'] });
    repo.addDelegation('targets/a', 'targets/a/b', { paths: ['app/x', 'other/'] });
    repo.addDelegation('targets', 'targets/none', { paths: [] });
    repo.addTarget('targets/a', 'app/ok', '1');
    repo.addTarget('targets/a', 'lib/not-mine', '2');
    repo.addTarget('targets/a/b', 'app/x1', '3');
    repo.addTarget('targets/a/b', 'other/z', '4');
    repo.addTarget('targets/none', 'anything', '5');
    repo.publish('targets', 'targets/a', 'targets/a/b', 'targets/none');
    const trusted = verified(repo);
    assert.deepEqual(names(listTargets(trusted)), [
      ['app/ok', 'targets/a'],
      ['app/x1', 'targets/a/b'],
    ]);
    assert.throws(() => getTargetByName(trusted, 'other/z'), (e) => e instanceof NoSuchTargetError && e.message === 'No valid trust data for other/z');
    assert.throws(() => getTargetByName(trusted, 'anything'), NoSuchTargetError);
    assert.throws(() => getTargetByName(trusted, 'lib/not-mine'), NoSuchTargetError);
  });

  it('role priority: the first listed role wins, other listed roles and their subtrees are skipped in its walk', () => {
    const repo = TestRepo.create({ gun: 'example.com/walk', now: NOW });
    repo.addDelegation('targets', 'targets/releases');
    repo.addDelegation('targets', 'targets/alice');
    repo.addDelegation('targets/releases', 'targets/releases/qa');
    repo.addTarget('targets', 'v1', 'admin');
    repo.addTarget('targets/releases', 'v1', 'released');
    repo.addTarget('targets/releases/qa', 'qa-only', 'qa');
    repo.addTarget('targets/alice', 'alice-only', 'alice');
    repo.publish('targets', 'targets/releases', 'targets/alice', 'targets/releases/qa');
    const trusted = verified(repo);
    assert.equal(getTargetByName(trusted, 'v1', ['targets/releases', 'targets']).role, 'targets/releases');
    assert.equal(getTargetByName(trusted, 'v1', ['targets', 'targets/releases']).role, 'targets');
    assert.equal(getTargetByName(trusted, 'v1').role, 'targets');
    // walking from targets with targets/releases listed too skips releases' subtree
    assert.equal(getTargetByName(trusted, 'qa-only', ['targets/releases', 'targets']).role, 'targets/releases/qa');
    assert.equal(getTargetByName(trusted, 'qa-only', ['targets', 'targets/releases']).role, 'targets/releases/qa');
    const fromTargets: string[] = [];
    walkTargets(trusted, '', 'targets', (_m, r) => void fromTargets.push(r.name), ['targets/releases']);
    assert.deepEqual(fromTargets, ['targets', 'targets/alice']);
    assert.equal(getTargetByName(trusted, 'alice-only', ['targets/releases', 'targets']).role, 'targets/alice');
    // the walk from a role only visits its subtree, crossing its ancestors
    const visited: string[] = [];
    walkTargets(trusted, '', 'targets/releases', (_m, r) => void visited.push(r.name));
    assert.deepEqual(visited, ['targets/releases', 'targets/releases/qa']);
    assert.deepEqual(names(listTargets(trusted, ['targets/releases', 'targets'])), [
      ['alice-only', 'targets/alice'],
      ['qa-only', 'targets/releases/qa'],
      ['v1', 'targets/releases'],
    ]);
  });

  it("docker's rule: targets/releases then targets, anything else refused", () => {
    const repo = TestRepo.create({ gun: 'example.com/walk', now: NOW });
    repo.addDelegation('targets', 'targets/releases');
    repo.addDelegation('targets', 'targets/alice');
    repo.addTarget('targets', 'admin', 'a');
    repo.addTarget('targets/releases', 'v1', 'r');
    repo.addTarget('targets/alice', 'alice-only', 'x');
    repo.publish('targets', 'targets/releases', 'targets/alice');
    const trusted = verified(repo);
    assert.equal(getDockerTarget(trusted, 'v1').role, 'targets/releases');
    assert.equal(getDockerTarget(trusted, 'admin').role, 'targets');
    assert.throws(() => getDockerTarget(trusted, 'alice-only'), NoSuchTargetError);
    assert.deepEqual(names(listDockerTargets(trusted)), [
      ['admin', 'targets'],
      ['v1', 'targets/releases'],
    ]);
    assert.equal(dockerDigest(getDockerTarget(trusted, 'v1')), 'sha256:' + sha256Hex(new TextEncoder().encode('r')));
  });

  it('a delegation that did not load (skipped) is not walked', () => {
    const repo = TestRepo.create({ gun: 'example.com/walk', now: NOW });
    repo.addDelegation('targets', 'targets/a');
    repo.addDelegation('targets', 'targets/b');
    repo.addTarget('targets/a', 'in-a', '1');
    repo.addTarget('targets/b', 'in-b', '2');
    repo.publish('targets', 'targets/a', 'targets/b');
    const full = verified(repo);
    // drop targets/b from the loaded roles (as a skipped delegation would be)
    const partial: TrustedRepo = { ...full, targets: new Map([...full.targets].filter(([r]) => r !== 'targets/b')) };
    assert.deepEqual(names(listTargets(partial)), [['in-a', 'targets/a']]);
    assert.throws(() => getTargetByName(partial, 'in-b'), NoSuchTargetError);
  });
});
