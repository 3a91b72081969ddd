import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { formatTable, formatTabs } from './tabwriter.ts';

const vectors = JSON.parse(readFileSync(new URL('../../test/cli/fixtures/tabwriter-go.json', import.meta.url), 'utf8')) as { in: string; out: string }[];

describe('formatTabs (Go text/tabwriter, minwidth 4, padding 4)', () => {
  it('matches Go byte for byte on 300 generated texts', () => {
    assert.equal(vectors.length, 300);
    for (const v of vectors) assert.equal(formatTabs(v.in), v.out, JSON.stringify(v.in));
  });

  it('pads empty tab-terminated cells but never the trailing cell (notary delegation list)', () => {
    const text = 'ROLE\tPATHS\tKEY IDS\tTHRESHOLD\n----\t-----\t-------\t---------\ntargets/alice\ta/\tk1\t1\n\tb/\t\t\n';
    assert.equal(
      formatTabs(text),
      'ROLE             PATHS    KEY IDS    THRESHOLD\n' +
        '----             -----    -------    ---------\n' +
        'targets/alice    a/       k1         1\n' +
        '                 b/                  \n',
    );
  });

  it('starts a new column block when a line has fewer cells', () => {
    assert.equal(formatTabs('a\tb\tc\nlonger line\nxx\ty\tz\n'), 'a    b    c\nlonger line\nxx    y    z\n');
  });
});

describe('formatTable', () => {
  it('writes the header, dashes as long as each header, then rows', () => {
    assert.equal(
      formatTable(['NAME', 'SIZE (BYTES)'], [['v1', '11']]),
      'NAME    SIZE (BYTES)\n----    ------------\nv1      11\n',
    );
  });
});
