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
  it('writes what formatTabs writes for the same rows, on the direct path and off it', () => {
    const cells = ['', 'a', 'ab', 'abcd', 'abcdefgh', 'é', '日本語', '😀x', 'targets/releases', 'x\ty', 'two\nlines'];
    let seed = 7;
    const pick = (): string => cells[(seed = (seed * 1103515245 + 12345) % 2147483648) % cells.length] as string;
    for (let t = 0; t < 300; t++) {
      const n = 1 + (t % 4);
      const columns = Array.from({ length: n }, () => pick().replace(/[\t\n]/g, '') || 'H');
      const rows = Array.from({ length: t % 6 }, () => Array.from({ length: t % 7 === 0 ? n - 1 : n }, pick));
      const text = [columns, columns.map((c) => '-'.repeat(Buffer.byteLength(c))), ...rows].map((r) => r.join('\t') + '\n').join('');
      assert.equal(formatTable(columns, rows), formatTabs(text), JSON.stringify({ columns, rows }));
    }
  });

  it('writes the header, dashes as long as each header, then rows', () => {
    assert.equal(
      formatTable(['NAME', 'SIZE (BYTES)'], [['v1', '11']]),
      'NAME    SIZE (BYTES)\n----    ------------\nv1      11\n',
    );
  });
});
