/**
 * The fallback poll of shm/file stores, for writers that cannot ring a doorbell (C processes):
 * each look that finds nothing doubles the next delay (up to 8× the base), so an idle watch
 * costs little; a look that finds a change brings the delay back to the base.
 */
import { TIMER_MAX_MS } from '../abort.js';

export const DEFAULT_POLL_INTERVAL_MS = 10;
/** The longest pollIntervalMs: one timer's longest delay (a longer interval is EINVAL, not a 1 ms poll). */
export const MAX_POLL_INTERVAL_MS = TIMER_MAX_MS;
/** How far an idle fallback poll stretches its interval. */
const MAX_POLL_STRETCH = 8;

export class FallbackPoll {
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private delay = 0;

  constructor(
    private readonly baseMs: number,
    /** LocalWaiter.checkAll (waiter.ts): looks for changes; true when it delivered one. */
    private readonly checkAll: () => boolean,
  ) {}

  start(): void {
    this.running = true;
    this.delay = this.baseMs;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    const timer = setTimeout(() => {
      if (!this.running) return;
      const base = this.baseMs;
      this.delay = this.checkAll() ? base : Math.min(this.delay * 2, base * MAX_POLL_STRETCH, TIMER_MAX_MS);
      this.schedule();
    }, this.delay);
    // Polling alone never keeps the process alive (the waiter holds a keep-alive timer while armed).
    timer.unref();
    this.timer = timer;
  }
}
