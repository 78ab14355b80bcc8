/**
 * The bounded retry of a contested slot: a few tight spins (a writer is usually out of
 * its seqlock within nanoseconds), then short sleeps, until the budget is spent.
 * One instance per store handle, reset at the start of each operation.
 */
import { sleepSync } from './sleep.js';

const TIGHT_SPINS = 64;
const SLEEP_MS = 0.02;

export class Backoff {
  private spins = 0;
  private deadline = 0;

  constructor(readonly budgetMs: number) {}

  reset(): void {
    this.spins = 0;
  }

  /** Waits a little before the next attempt; false when the budget is spent. */
  next(): boolean {
    if (this.spins < TIGHT_SPINS) {
      if (this.spins++ === 0) this.deadline = performance.now() + this.budgetMs;
      return true;
    }
    if (performance.now() >= this.deadline) return false;
    sleepSync(SLEEP_MS);
    return true;
  }
}
