import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commandWord, runsNotaryCommand } from './index.ts';

describe('runsNotaryCommand: the command word after the global flags', () => {
  it('finds notary commands behind global flags and their values', () => {
    assert.equal(runsNotaryCommand(['list', 'example.com/app']), true);
    assert.equal(runsNotaryCommand(['-s', 'https://h:4443', '--tlscacert', 'ca.crt', '-d', '/t', 'list', 'g']), true);
    assert.equal(runsNotaryCommand(['--server=https://h', '-D', 'key', 'list']), true);
    assert.equal(runsNotaryCommand(['-Dv', 'delegation', 'list', 'g']), true);
    assert.equal(runsNotaryCommand(['-Ds', 'list', 'verify', 'g']), true); // `list` is the server here
    assert.equal(runsNotaryCommand(['-slist', 'publish', 'g']), true);
    assert.equal(runsNotaryCommand(['-c', 'config.json', 'init', 'g']), true);
  });

  it('anything else needs the whole program', () => {
    assert.equal(runsNotaryCommand([]), false);
    assert.equal(runsNotaryCommand(['--help']), false);
    assert.equal(runsNotaryCommand(['help', 'list']), false);
    assert.equal(runsNotaryCommand(['trust', 'pin', 'g', 'id']), false);
    assert.equal(runsNotaryCommand(['-s', 'list', 'signer']), false);
    assert.equal(runsNotaryCommand(['--', 'list']), false);
    assert.equal(runsNotaryCommand(['server', '--config', 'x']), false);
  });
});

describe('commandWord: the first word after the global flags and their values', () => {
  it('skips flags, their values and clusters of short flags', () => {
    assert.equal(commandWord(['push', 'x']), 'push');
    assert.equal(commandWord(['-s', 'https://h', '-D', 'trust', 'sign', 'x:1']), 'trust');
    assert.equal(commandWord(['--server=https://h', 'serve']), 'serve');
    assert.equal(commandWord(['-Ds', 'list', 'gc']), 'gc');
  });
  it('none without a word, or after --', () => {
    assert.equal(commandWord([]), undefined);
    assert.equal(commandWord(['--help']), undefined);
    assert.equal(commandWord(['-s', 'https://h']), undefined);
    assert.equal(commandWord(['--', 'push']), undefined);
  });
});
