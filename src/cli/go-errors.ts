/**
 * Go's texts for file-system errors (`*os.PathError`: `open /x: no such file or directory`),
 * so that messages notary builds from them read the same in vouch. Node's `ENOENT: no such
 * file or directory, open '/x'` carries the same facts in another order.
 *
 * @example
 *   goPathError('open', '/nonexist', err) // 'open /nonexist: no such file or directory'
 */

/** strerror texts as Go's syscall.Errno.Error() prints them on Linux. */
const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  EEXIST: 'file exists',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  EMFILE: 'too many open files',
};

/** `<op> <path>: <errno text>` for a Node fs error; other errors keep their message. */
export function goPathError(op: string, path: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const text = code !== undefined ? ERRNO_TEXT[code] : undefined;
  if (text !== undefined) return `${op} ${path}: ${text}`;
  return err instanceof Error ? err.message : String(err);
}

/** True for a Node "file does not exist" error. */
export function isNotExist(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}
