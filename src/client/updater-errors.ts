/**
 * Errors of the client update that are not about one metadata file (spec §10.1 step 3):
 * the repository does not exist on the server. Bad metadata, transport and pinning failures
 * keep the classes of src/tuf, src/http and src/errors.
 */
import { NotFoundError } from '../errors/index.ts';

/** `<host> does not have trust data for <gun>` (notary's ErrRepositoryNotExist): root.json was 404. */
export class RepositoryNotExistError extends NotFoundError {
  /** What was missing (for callers that test `resource` as on MetaNotFoundError). */
  readonly resource = 'root';
  readonly remote: string;
  readonly gun: string;
  constructor(remote: string, gun: string, options?: ErrorOptions) {
    super(`${remote} does not have trust data for ${gun}`, options);
    this.remote = remote;
    this.gun = gun;
  }
}
