import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { BodyTooLargeError, MultipartError, multipartBoundary, parseMediaType, partFileName, readBodyLimited, splitMultipart } from './multipart.ts';

function parts(body: string, boundary = 'XX'): { name: string; body: string }[] {
  return [...splitMultipart(Buffer.from(body, 'latin1'), boundary)].map((p) => ({ name: partFileName(p), body: p.body.toString('latin1') }));
}

test('the notary client upload shape splits into named parts with exact bytes', () => {
  const body =
    '--XX\r\nContent-Disposition: form-data; name="files"; filename="root"\r\nContent-Type: application/octet-stream\r\n\r\n{"signed":{}}\r\n' +
    '--XX\r\nContent-Disposition: form-data; name="files"; filename="targets/releases"\r\n\r\nline1\r\nline2\r\n' +
    '--XX--\r\n';
  assert.deepEqual(parts(body), [
    { name: 'root', body: '{"signed":{}}' },
    { name: 'targets/releases', body: 'line1\r\nline2' },
  ]);
});

test('preamble, LF-only newlines, LWSP after boundaries, epilogue, empty bodies', () => {
  assert.deepEqual(parts('preamble\r\n--XX  \r\nContent-Disposition: form-data; filename=a\r\n\r\nA\r\n--XX--\r\nepilogue'), [{ name: 'a', body: 'A' }]);
  assert.deepEqual(parts('--XX\nContent-Disposition: form-data; filename=a\n\nA\n--XX--\n'), [{ name: 'a', body: 'A' }]);
  assert.deepEqual(parts('--XX\r\nContent-Disposition: form-data; filename=a\r\n\r\n--XX--'), [{ name: 'a', body: '' }]);
  assert.deepEqual(parts('--XX--\r\n'), []);
  assert.deepEqual(parts('--XX\r\n\r\n\r\n--XX--'), [{ name: '', body: '' }]);
  assert.deepEqual(parts('--XX\r\nContent-Disposition: form-data; filename=a\r\n\r\nx\r\n--XXnot-a-boundary\r\n--XX--'), [{ name: 'a', body: 'x\r\n--XXnot-a-boundary' }]);
});

test('broken bodies are MultipartError (truncated, no parts, junk between parts)', () => {
  assert.throws(() => parts(''), MultipartError);
  assert.throws(() => parts('--XX\r\nContent-Disposition: form-data; filename=a\r\n\r\n{"signed":'), /unexpected EOF in part body/);
  assert.throws(() => parts('--XX\r\nContent-Disposition: form-data; filename=a'), /unexpected EOF in part headers/);
  assert.throws(() => parts('--XX\r\nnot a header\r\n\r\nA\r\n--XX--'), /malformed MIME header/);
  assert.throws(() => parts('--XX\r\n\r\nA\r\n--XX\r\n\r\nB\r\n--XX'), MultipartError);
  const it = splitMultipart(Buffer.from('--XX\r\nContent-Disposition: form-data; filename=foo\r\n\r\nA\r\n--XX\r\nbad'), 'XX');
  assert.equal(partFileName(it.next().value as never), 'foo', 'the first part is available before the error');
  assert.throws(() => it.next(), MultipartError);
});

test('Content-Type: form-data and mixed accepted, boundary required', () => {
  assert.equal(multipartBoundary('multipart/form-data; boundary=abc'), 'abc');
  assert.equal(multipartBoundary('Multipart/Mixed; BOUNDARY="a b"'), 'a b');
  assert.equal(multipartBoundary('multipart/form-data'), null);
  assert.equal(multipartBoundary('application/x-www-form-urlencoded'), null);
  assert.equal(multipartBoundary(undefined), null);
  assert.equal(multipartBoundary('multipart/form-data; boundary=a; boundary=b'), null, 'duplicate parameter');
});

test('Content-Disposition filenames as Go mime.ParseMediaType reads them', () => {
  assert.deepEqual(parseMediaType('form-data; name="files"; filename="root.json"')?.params.get('filename'), 'root.json');
  assert.equal(parseMediaType('form-data; filename="a\\"b"')?.params.get('filename'), 'a"b');
  assert.equal(parseMediaType("form-data; filename*=UTF-8''targets%2Fr%C3%A9l")?.params.get('filename'), 'targets/rél');
  assert.equal(parseMediaType('form-data; filename*0="targets/"; filename*1="rel"')?.params.get('filename'), 'targets/rel');
  assert.equal(parseMediaType('form-data; filename=a;')?.params.get('filename'), 'a', 'trailing semicolon ignored');
  assert.equal(parseMediaType('form-data; filename'), null);
  assert.equal(parseMediaType('form-data; filename="unterminated'), null);
  assert.equal(parseMediaType(''), null);
});

test('readBodyLimited enforces the limit from Content-Length and while streaming', async () => {
  assert.equal((await readBodyLimited(Readable.from([Buffer.from('ab'), Buffer.from('c')]), 3)).toString(), 'abc');
  await assert.rejects(readBodyLimited(Readable.from([Buffer.from('ab'), Buffer.from('cd')]), 3), BodyTooLargeError);
  let pulled = false;
  const lazy = (async function* () {
    pulled = true;
    yield Buffer.from('x');
  })();
  await assert.rejects(readBodyLimited(lazy, 3, 4), BodyTooLargeError);
  assert.equal(pulled, false, 'an oversize Content-Length is refused before reading');
});
