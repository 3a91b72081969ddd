import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DownloadError, NotFoundError } from '../errors/index.ts';
import { MetaNotFoundError } from '../http/client-errors.ts';
import { isRepositoryMissing } from './repo-load.ts';
import { RepositoryNotExistError } from './updater-errors.ts';

describe('isRepositoryMissing (spec §10.4 step 1)', () => {
  it('is true for the updater\'s RepositoryNotExistError and 404s on root', () => {
    assert.equal(isRepositoryMissing(new RepositoryNotExistError('127.0.0.1:4443', 'example.com/app')), true);
    for (const r of ['root', '2.root', 'root.ab12']) assert.equal(isRepositoryMissing(new MetaNotFoundError(r)), true, r);
    assert.equal(isRepositoryMissing(new NotFoundError('gone')), true);
  });

  it('is false for other 404s and other failures', () => {
    for (const r of ['timestamp', 'snapshot.ab12', 'targets/rootish']) assert.equal(isRepositoryMissing(new MetaNotFoundError(r)), false, r);
    assert.equal(isRepositoryMissing(new DownloadError('unable to reach trust server at this time: 503.', 503)), false);
    assert.equal(isRepositoryMissing(new Error('root')), false);
  });
});
