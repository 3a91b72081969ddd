import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { goJsonSyntaxError } from './go-json-check.ts';

const vectors = JSON.parse(readFileSync(new URL('../../test/cli/fixtures/go-json-errors.json', import.meta.url), 'utf8')) as { in: string; err: string }[];

describe("goJsonSyntaxError (Go's encoding/json syntax errors)", () => {
  it('gives Go’s text, or null for valid JSON, on 834 texts', () => {
    assert.ok(vectors.length > 800);
    for (const v of vectors) assert.equal(goJsonSyntaxError(Buffer.from(v.in, 'utf8')) ?? '', v.err, JSON.stringify(v.in));
  });

  it('the messages notary prints for a bad --custom file or config', () => {
    assert.equal(goJsonSyntaxError(Buffer.from('{bad')), "invalid character 'b' looking for beginning of object key string");
    assert.equal(goJsonSyntaxError(Buffer.from('')), 'unexpected end of JSON input');
    assert.equal(goJsonSyntaxError(Buffer.from('{"a":1} x')), "invalid character 'x' after top-level value");
    assert.equal(goJsonSyntaxError(Buffer.from('{"a":[1,2,{"b":null}]}')), null);
  });
});
