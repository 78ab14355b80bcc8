/**
 * Low-latency subscriptions: the waiter also checks on every turn of the event loop, in a
 * tight loop for up to SPIN_SLICE_MS, trading a core for the fastest wake-up.
 */

/** How long one low-latency slice may hold the event loop before letting other work run. */
const SPIN_SLICE_MS = 0.5;
/**
 * Looks between two readings of the clock (tens of µs of a 500 µs slice): performance.now()
 * allocates (on Node 20, an hrtime array per call), and a spin reading it on every look made a
 * scavenge every 40 ms.
 */
const LOOKS_PER_CLOCK = 256;
/**
 * Between two full checks the spin reads only the store's global epoch (every write moves it, C's
 * too, just before it releases the slot): reading the cells a producer is writing pulls their
 * lines from its core on every look and made each of its appends 10× slower. A full check every
 * so many looks still catches what moves no epoch (signal pulses).
 */
const LOOKS_PER_FULL_CHECK = 64;

export class Spin {
  private spinning = false;

  constructor(
    /** LocalWaiter.checkAll (waiter.ts): looks for changes; true when it delivered one. */
    private readonly checkAll: () => boolean,
    /** Some low-latency subscription still wants the spin. */
    private readonly wanted: () => boolean,
    /** The waiter is gone: no further slice. */
    private readonly disposed: () => boolean,
    /** The low word of the store's global epoch (BusLine.globalEpochLow). */
    private readonly changes: () => number,
  ) {}

  /**
   * Each turn checks until a change is delivered (so its reader runs at once) or the slice
   * ends, then lets the event loop run other work before the next slice.
   */
  start(): void {
    if (this.spinning) return;
    this.spinning = true;
    const turn = (): void => {
      if (!this.wanted() || this.disposed()) {
        this.spinning = false;
        return;
      }
      const until = performance.now() + SPIN_SLICE_MS;
      // The epoch is read before each check: a write after it shows as a new value at a later look.
      let seen = this.changes();
      let check = true;
      // Spinning: the caller asked to trade a core for latency.
      for (let looks = 1; ; looks++) {
        if (check && (this.checkAll() || !this.wanted())) break;
        if (looks % LOOKS_PER_CLOCK === 0 && performance.now() >= until) break;
        const now = this.changes();
        check = now !== seen || looks % LOOKS_PER_FULL_CHECK === 0;
        seen = now;
      }
      setImmediate(turn);
    };
    setImmediate(turn);
  }
}
