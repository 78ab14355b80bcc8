/**
 * The bridge's warnings, bounded: at most PER_WINDOW lines are said per window, and what the window
 * held back is summed up in one line when it ends; warnings of things skipped are said once each
 * (until many others have pushed them out of memory). A flood of bad records, or of failed sends
 * when a connection drops under many keys, costs a few lines, not a line each, and nothing goes
 * without a word.
 */

const PER_WINDOW = 10;
const WINDOW_MS = 10_000;
/** Warnings remembered as said; past this many the memory starts over (a repeat may be said again). */
const REMEMBERED = 4096;

export class Warnings {
  private windowStart = Number.NEGATIVE_INFINITY;
  private saidInWindow = 0;
  private heldBack = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly said = new Set<string>();

  constructor(
    private readonly say: (message: string) => void,
    /** What the summary line says was held back, e.g. "more skipped". */
    private readonly heldBackAs: string,
    /** Say each message once only (a record skipped); false for failures that may come again (a send). */
    private readonly once: boolean,
    private readonly windowMs = WINDOW_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  warn(message: string): void {
    if (this.once) {
      if (this.said.has(message)) return;
      if (this.said.size >= REMEMBERED) this.said.clear();
      this.said.add(message);
    }
    const now = this.now();
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.saidInWindow = 0;
    }
    if (this.saidInWindow < PER_WINDOW) {
      this.saidInWindow++;
      this.say(message);
      return;
    }
    this.heldBack++;
    this.timer ??= setTimeout(() => this.sumUp(), Math.max(0, this.windowStart + this.windowMs - now)).unref();
  }

  private sumUp(): void {
    this.timer = undefined;
    const count = this.heldBack;
    this.heldBack = 0;
    if (count === 0) return;
    // The summary opens a new window, so a flood still says at most PER_WINDOW + 1 lines per window.
    this.windowStart = this.now();
    this.saidInWindow = 1;
    this.say(`${count} ${this.heldBackAs} in the last ${this.windowMs / 1000} s, not shown one by one`);
  }

  /** Says what is held back now, and stops the timer. */
  close(): void {
    clearTimeout(this.timer);
    this.sumUp();
  }
}
