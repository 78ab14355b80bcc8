/**
 * Reads of keys another process writes: a read that meets the writer inside its seqlock gets
 * EAGAIN once the store's retry budget (milliseconds) runs out, which a loaded machine makes
 * likely. A test retries as a user would, up to a generous deadline.
 */
import { isSplinterError } from '../../src/index.js';

const pause = new Int32Array(new SharedArrayBuffer(4));

/** `read()`, again after 1 ms while it throws EAGAIN, for up to `budgetMs` (then its EAGAIN goes up). */
export function retryingEagain<T>(read: () => T, budgetMs = 30_000): T {
  const deadline = Date.now() + budgetMs;
  for (;;) {
    try {
      return read();
    } catch (error) {
      if (!isSplinterError(error, 'EAGAIN') || Date.now() > deadline) throw error;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}
