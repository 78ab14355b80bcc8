/** The token file of `--token-file`: the owner's alone (as ssh wants its keys), read bounded, one line. */
import fs from 'node:fs';
import { SplinterError } from '../errors.js';

const MAX_TOKEN_FILE_BYTES = 4096;

/**
 * The token in `path`, its trailing newline trimmed.
 * @throws {SplinterError} ENOENT; EPERM when the group or others may read it; EINVAL when it is not a regular file, is
 *   empty, longer than 4096 bytes, or holds whitespace or control characters inside.
 */
export function readTokenFile(path: string): string {
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SplinterError('ENOENT', `the token file ${path} does not exist`);
    if (code === 'ELOOP') throw new SplinterError('EINVAL', `the token file ${path} is a symbolic link; name the file itself`);
    throw new SplinterError('EACCES', `cannot open the token file ${path}: ${code ?? String(error)}`);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new SplinterError('EINVAL', `the token file ${path} is not a regular file`);
    if ((stat.mode & 0o077) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
      throw new SplinterError('EPERM', `the token file ${path} may be read or written by its group or others (mode ${mode}); make it the owner's alone: chmod 600 ${path}`);
    }
    const buffer = Buffer.alloc(MAX_TOKEN_FILE_BYTES + 1);
    let size = 0;
    for (;;) {
      const n = fs.readSync(fd, buffer, size, buffer.length - size, null);
      if (n === 0) break;
      size += n;
      if (size > MAX_TOKEN_FILE_BYTES) throw new SplinterError('EINVAL', `the token file ${path} is over ${MAX_TOKEN_FILE_BYTES} bytes; a token is one line`);
    }
    const token = buffer.toString('utf8', 0, size).replace(/\r?\n$/, '');
    checkToken(token, `the token in ${path}`);
    return token;
  } finally {
    fs.closeSync(fd);
  }
}

/** A token: 1..4096 printable ASCII characters, no space (it travels in a header). */
export function checkToken(token: unknown, what: string): string {
  if (typeof token !== 'string' || token.length === 0) throw new SplinterError('EINVAL', `${what} is empty; a token is one line of printable text`);
  if (token.length > MAX_TOKEN_FILE_BYTES || !/^[\x21-\x7e]+$/.test(token)) {
    throw new SplinterError('EINVAL', `${what} must be 1..${MAX_TOKEN_FILE_BYTES} printable ASCII characters without spaces (it travels in an Authorization header), received ${token.length} characters`);
  }
  return token;
}
