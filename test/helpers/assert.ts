import type { Test } from 'tap';
import { isSplinterError, type SplinterError, type SplinterErrorCode } from '../../src/index.js';

export type { Test };

/** Asserts that `fn` throws a SplinterError with `code` (and nothing else). */
export function throwsCode(t: Test, fn: () => unknown, code: SplinterErrorCode, what: string): SplinterError | undefined {
  try {
    fn();
    t.fail(`${what}: expected ${code}, nothing was thrown`);
  } catch (error) {
    t.ok(isSplinterError(error, code), `${what}: ${code}${isSplinterError(error) ? ` (${error.message})` : `, but got ${String(error)}`}`);
    if (isSplinterError(error)) return error;
  }
  return undefined;
}


