import { SplinterError } from '../../errors.js';

/** Where POSIX shm_open("NAME") puts its objects on Linux. */
export const SHM_DIR = '/dev/shm';
const NAME_MAX = 255;

export interface ResolvedTarget {
  kind: 'shm' | 'file';
  /** What the caller passed. */
  target: string;
  /** The file that holds the store. */
  path: string;
}

/** A target without '/' is a shared-memory name; with one, a file path (persistent mode). */
export function resolveTarget(target: unknown): ResolvedTarget {
  if (typeof target !== 'string') {
    throw new SplinterError('EINVAL', `a store target must be a string (shm name or file path), received ${typeof target}`);
  }
  if (target.length === 0) throw new SplinterError('EINVAL', 'a store target must not be empty');
  if (target.includes('\0')) throw new SplinterError('EINVAL', `a store target must not contain NUL, received ${JSON.stringify(target)}`);
  if (target.includes('/')) return { kind: 'file', target, path: target };
  if (target === '.' || target === '..') {
    throw new SplinterError('EINVAL', `"${target}" is not a usable shared-memory name`);
  }
  const bytes = Buffer.byteLength(target, 'utf8');
  if (bytes > NAME_MAX) {
    throw new SplinterError('EINVAL', `a shared-memory name is at most ${NAME_MAX} bytes, received ${bytes}`);
  }
  return { kind: 'shm', target, path: `${SHM_DIR}/${target}` };
}

/**
 * The umask that SPLINTER_DEFAULT_UMASK asks for during creation (docs/spec/FORMAT.md §4),
 * or undefined when it is not set.
 */
export function creationUmask(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env['SPLINTER_DEFAULT_UMASK'];
  if (raw === undefined || raw === '') return undefined;
  if (!/^0?[0-7]{1,3}$/.test(raw.trim())) {
    throw new SplinterError('EINVAL', `SPLINTER_DEFAULT_UMASK must be an octal umask such as 077, received ${JSON.stringify(raw)}`);
  }
  return Number.parseInt(raw.trim(), 8);
}
