import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { errorDetail, errorText, pflagMessage, splitCsv } from './command.ts';
import { decodeGoHex, parseGoInt64 } from './go-parse.ts';
import { askConfirm, lineByLine, readAll, readLine } from './io.ts';
import { rfc3339Local, CliLogger } from './log.ts';
import { firstContactReport } from './session.ts';

function input(text: string): PassThrough {
  const s = new PassThrough();
  s.end(text);
  return s;
}

describe('flag parsing as pflag does it', () => {
  it('string slices are CSV records, repeatable', () => {
    assert.deepEqual(splitCsv('a/,b/'), ['a/', 'b/']);
    assert.deepEqual(splitCsv(''), []);
    assert.deepEqual(splitCsv('"x,y",z'), ['x,y', 'z']);
    assert.deepEqual(splitCsv('a,'), ['a', '']);
  });

  it("commander's parse errors in pflag's words", () => {
    assert.equal(pflagMessage("error: unknown option '--bogus'"), 'unknown flag: --bogus');
    assert.equal(pflagMessage("error: unknown option '-x'"), "unknown shorthand flag: 'x' in -x");
    assert.equal(pflagMessage("error: option '-r, --roles <strings>' argument missing", ['list', 'g', '--roles']), 'flag needs an argument: --roles');
    assert.equal(pflagMessage("error: option '-r, --roles <strings>' argument missing", ['list', 'g', '-r']), "flag needs an argument: 'r' in -r");
    assert.equal(pflagMessage("error: option '--paths <strings>' argument missing"), 'flag needs an argument: --paths');
    assert.equal(
      pflagMessage(`error: option '-n, --number <ints>' argument 'x' is invalid. invalid argument "x" for "-n, --number" flag: strconv.Atoi: parsing "x": invalid syntax`),
      'invalid argument "x" for "-n, --number" flag: strconv.Atoi: parsing "x": invalid syntax',
    );
  });

  it("notary's text of an error wins over a prefixed message", () => {
    const err = new Error('targets: no valid signatures');
    Object.defineProperty(err, 'notaryMessage', { value: 'no valid signatures' });
    assert.equal(errorText(err), 'no valid signatures');
    assert.equal(errorText(new Error('plain')), 'plain');
  });

  it("the library's fuller text (the role, a size limit) is the detail, also through causes", () => {
    const err = new Error('timestamp: version 3 is lower than current version 5');
    Object.defineProperty(err, 'notaryMessage', { value: 'version 3 is lower than current version 5' });
    assert.equal(errorDetail(err), 'timestamp: version 3 is lower than current version 5');
    assert.equal(errorDetail(new Error('wrapped', { cause: err })), 'timestamp: version 3 is lower than current version 5');
    const big = Object.assign(new Error('snapshot: trust server returned a bad response.'), { limit: 1234 });
    Object.defineProperty(big, 'notaryMessage', { value: 'trust server returned a bad response.' });
    assert.equal(errorDetail(big), 'snapshot: trust server returned a bad response. (more than the 1234 bytes allowed)');
    assert.equal(errorDetail(new Error('valid signatures did not meet threshold for timestamp')), undefined);
  });
});

describe("Go's parsers", () => {
  it('strconv.ParseInt(s, 0, 64)', () => {
    assert.equal(parseGoInt64('11'), 11);
    assert.equal(parseGoInt64('0x0b'), 11);
    assert.equal(parseGoInt64('013'), 11);
    assert.equal(parseGoInt64('0o13'), 11);
    assert.equal(parseGoInt64('0b1011'), 11);
    assert.equal(parseGoInt64('1_000'), 1000);
    assert.equal(parseGoInt64('-5'), -5);
    assert.throws(() => parseGoInt64('ten'), { message: 'strconv.ParseInt: parsing "ten": invalid syntax' });
    assert.throws(() => parseGoInt64('1__0'), { message: 'strconv.ParseInt: parsing "1__0": invalid syntax' });
    assert.throws(() => parseGoInt64('09'), /invalid syntax/);
    assert.throws(() => parseGoInt64('9223372036854775808'), { message: 'strconv.ParseInt: parsing "9223372036854775808": value out of range' });
  });

  it('hex.DecodeString', () => {
    assert.deepEqual([...decodeGoHex('0aFF')], [10, 255]);
    assert.throws(() => decodeGoHex('zz'), { message: "encoding/hex: invalid byte: U+007A 'z'" });
    assert.throws(() => decodeGoHex('abc'), { message: 'encoding/hex: odd length hex string' });
  });
});

describe('standard input', () => {
  it("askConfirm is notary's: one word, y or yes in any case", async () => {
    for (const [text, want] of [['yes\n', true], ['Y\n', true], ['YES', true], ['no\n', false], ['\n', false], ['', false], ['yes please\n', false]] as const) {
      assert.equal(await askConfirm(input(text)), want, JSON.stringify(text));
    }
  });

  it('readLine keeps what follows the line for the next read', async () => {
    const s = input('first\r\nsecond\nrest of it');
    assert.equal(await readLine(s), 'first');
    assert.equal(await readLine(s), 'second');
    assert.equal((await readAll(s)).toString(), 'rest of it');
    assert.equal(await readLine(s), null);
  });

  it('lineByLine hands out one line per chunk', async () => {
    const lines = lineByLine(input('a\nb\nc'));
    const chunks: string[] = [];
    for await (const chunk of lines) chunks.push(String(chunk));
    assert.deepEqual(chunks, ['a\n', 'b\n', 'c\n']);
  });
});

describe('log lines and the first-contact report', () => {
  it("logrus's text format on standard error, at notary's levels", () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const log = new CliLogger(out, CliLogger.levelFor({ verbose: true }), () => new Date(Date.UTC(2026, 0, 2, 3, 4, 5)));
    log.debug('hidden');
    log.info('continuing in offline mode');
    log.error('could not reach https://x: refused');
    out.end();
    const time = rfc3339Local(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)));
    assert.equal(
      text,
      `time="${time}" level=info msg="continuing in offline mode"\ntime="${time}" level=error msg="could not reach https://x: refused"\n`,
    );
    assert.equal(CliLogger.levelFor({}), 'warning');
    assert.equal(CliLogger.levelFor({ debug: true, verbose: true }), 'debug');
  });

  it('names the key, the certificate fingerprint and the pin command', () => {
    const keyId = 'a'.repeat(64);
    const text = firstContactReport({
      gun: 'example.com/app',
      rootVersion: 1,
      trustedBy: 'tofu',
      keys: [{ keyId, certSha256: 'b'.repeat(64), commonName: 'example.com/app', notAfter: new Date('2036-01-01T00:00:00Z') }],
    });
    assert.match(text, /^First contact with example\.com\/app: root \(version 1\) trusted on first use\.\n/);
    assert.match(text, new RegExp(`root key ID: +${keyId}\\n`));
    assert.match(text, /certificate SHA-256: +b{64}\n/);
    assert.match(text, new RegExp(`\\n  vouch trust pin example\\.com/app ${keyId}\\n$`));
    const pinned = firstContactReport({ gun: 'g', rootVersion: 2, trustedBy: 'certs', keys: [] });
    assert.equal(pinned, 'First contact with g: root (version 2) matches the pinned key.\n');
  });
});
