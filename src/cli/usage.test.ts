import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DELEGATION_COMMAND, KEY_COMMAND, OUTPUT_FLAG, READ_COMMANDS, STAGE_COMMANDS } from './specs.ts';
import { commandName, flagUsages, usageText, type CommandSpec } from './usage.ts';

const home = mkdtempSync(join(tmpdir(), 'vouch-usage-'));
after(() => rmSync(home, { recursive: true, force: true }));

/** The usage part of `notary <path> --help` from the real notary 0.7 binary. */
function notaryUsage(path: readonly string[]): string {
  const out = execFileSync('notary', [...path, '--help'], { env: { PATH: process.env['PATH'], HOME: home }, encoding: 'utf8', timeout: 20_000 });
  return out.slice(out.indexOf('Usage:'));
}

/** vouch's spec without its additions to notary (`--output json`). */
function asNotary(spec: CommandSpec): CommandSpec {
  const flags = (spec.flags ?? []).filter((f) => f !== OUTPUT_FLAG);
  return { ...spec, flags, ...(spec.subcommands === undefined ? {} : { subcommands: spec.subcommands.map(asNotary) }) };
}

function* walk(specs: readonly CommandSpec[], parents: readonly string[]): Generator<[CommandSpec, string[]]> {
  for (const s of specs) {
    yield [s, [...parents]];
    yield* walk(s.subcommands ?? [], [...parents, commandName(s)]);
  }
}

describe('usage texts', () => {
  it('are the notary 0.7 CLI’s, word for word and space for space, for every command', () => {
    let checked = 0;
    for (const [spec, parents] of walk([...STAGE_COMMANDS, ...READ_COMMANDS, KEY_COMMAND, DELEGATION_COMMAND], [])) {
      const expected = notaryUsage([...parents, commandName(spec)]);
      assert.equal(usageText(asNotary(spec), ['notary', ...parents]), expected, `notary ${[...parents, commandName(spec)].join(' ')}`);
      checked++;
    }
    assert.equal(checked, 2 + 12 + 7 + 4);
  });

  it('pflag layout: sorted flags, descriptions aligned two spaces past the longest, defaults shown', () => {
    assert.equal(
      flagUsages([
        { name: 'roles', short: 'r', kind: 'strings', help: 'Roles' },
        { name: 'all', kind: 'bool', help: 'All' },
        { name: 'role', short: 'o', kind: 'string', help: 'Role', default: 'root' },
      ]),
      '      --all             All\n  -o, --role string     Role (default "root")\n  -r, --roles strings   Roles',
    );
  });
});
