/** A mistake in how the command was called: printed as one line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  /** The command whose usage line should follow the message, if any. */
  readonly command: string | undefined;

  constructor(message: string, command?: string) {
    super(message);
    this.command = command;
  }
}

/**
 * Codes of the CLI's own failures, beside the library's SplinterErrorCode (the same style, so a
 * script matches one set): what `--json` reports as `error.code`.
 */
export type CliErrorCode =
  | 'ENOENT' // the store, the file or the key does not exist
  | 'EACCES' // a file could not be read for want of permission
  | 'EINVAL' // a path that is not what the command needs (a directory, not a store)
  | 'EPROTOTYPE' // the key's type does not allow the operation
  | 'EAGAIN' // a slot stayed locked past the CLI's retry budget
  | 'ETIMEDOUT' // watch --timeout saw nothing
  | 'EBUSY' // drop of a file another process may be creating right now
  | 'ECANCELED'; // the user declined a confirmation

/** The code `--json` reports for a usage error (exit 2). */
export const USAGE_ERROR_CODE = 'EUSAGE';
/** The code `--json` reports for an error the CLI did not expect (a bug): exit 1. */
export const INTERNAL_ERROR_CODE = 'EINTERNAL';

/** A check that failed or a thing that was not found, reported by the CLI itself: exit code 1. */
export class CliFailure extends Error {
  override readonly name = 'CliFailure';

  constructor(
    readonly code: CliErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Edit distance counting a swap of two neighbours as one edit (optimal string alignment), for "did you mean" hints on short words: `gte` is one edit from `get`. */
export function editDistance(a: string, b: string): number {
  // Three rows: the one before the previous is what a transposition looks back at.
  let twoBack: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, twoBack[j - 2]! + 1);
      current.push(d);
    }
    twoBack = previous;
    previous = current;
  }
  return previous[b.length]!;
}

/** The closest candidate within a small distance, as " (did you mean X?)", or ''. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = candidate.startsWith(word) && word.length >= 2 ? 1 : editDistance(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? ` (did you mean ${best}?)` : '';
}
