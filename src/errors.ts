import { types } from 'node:util';

/** Stable error codes; each names a failure a caller can act on. */
export type SplinterErrorCode =
  | 'EAGAIN' // a slot stayed contested (odd epoch) past the retry budget, or a stream producer is held by its consumers: retry later
  | 'ENOENT' // the key, store or target does not exist
  | 'EEXIST' // create found the target already there (or with another geometry)
  | 'EMSGSIZE' // a value outside 1..maxValueSize, or a buffer too small
  | 'ENOSPC' // no free slot (or no free bid record); no room on the file system for a new store
  | 'EINVAL' // a bad argument: key too long or with NUL, group >= 64, bad geometry, …
  | 'EPROTOTYPE' // the slot's type does not allow the operation
  | 'ENOMEM' // the value arena cannot hold what was asked
  | 'ENOTSUP' // the store or this machine cannot do it
  | 'ETIMEDOUT' // a wait ran past its deadline
  | 'ECORRUPT' // the store's bytes break the format
  | 'ECONNREFUSED' // a server (the bridge's Redis) could not be reached, or refused us
  | 'ECLOSED' // the store was closed
  | 'ELOOP' // a shared-memory name is a symbolic link: refused, as C's shm_open refuses it
  | 'EACCES' // the system denied access to the store's file (its mode, or the folder's)
  | 'EPERM' // a store another user owns, or others may write, opened without trustShared
  | 'EMFILE' // the process or the system ran out of file descriptors: close some and retry
  | 'EBUSY' // a store file another process is creating right now (no magic yet): retry later
  | 'ESTALE'; // the store's name was unlinked or now leads to another store: reopen it by name

/** The one error class of the library: `code` is stable, `message` says what was expected and what was received. */
export class SplinterError extends Error {
  override readonly name = 'SplinterError';
  readonly code: SplinterErrorCode;

  constructor(code: SplinterErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.code = code;
  }
}

/** Type guard that also narrows on a code: `isSplinterError(e, 'ENOENT')`. */
export function isSplinterError(error: unknown, code?: SplinterErrorCode): error is SplinterError {
  return error instanceof SplinterError && (code === undefined || error.code === code);
}

/** A received value as an error message shows it: strings quoted and cut at 40 characters, objects by class name. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  // A Proxy is named without running its traps: it is not the typed array it may wrap.
  if (types.isProxy(value)) return 'a Proxy (pass the object it wraps)';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return String(value);
}

/** The EAGAIN of an operation whose slot stayed contested past the retry budget. */
export function contested(what: string, key: string, budgetMs: number): SplinterError {
  return new SplinterError(
    'EAGAIN',
    `${what} "${key}": the slot stayed busy (odd epoch: a writer is inside, or died there) for ${budgetMs} ms; retry later`,
  );
}
