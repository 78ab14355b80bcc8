/**
 * The hybrid logical clock that orders writes across hosts: a stamp is the wall time in ms and a
 * counter, never smaller than any stamp this host has made or seen, so a write made after another
 * was seen always carries the larger stamp, whatever the hosts' clocks say.
 */

/** A point of the clock: wall time in ms since the epoch (48 bits), and a counter within that ms (16 bits). */
export interface Stamp {
  readonly wall: number;
  readonly counter: number;
}

const WALL_HEX = 12;
const COUNTER_HEX = 4;
const COUNTER_MAX = 0xffff;
/** The width of a stamp's text form: 12 hex digits of wall time, 4 of counter. */
export const STAMP_CHARS = WALL_HEX + COUNTER_HEX;

export const ZERO_STAMP: Stamp = { wall: 0, counter: 0 };

export class HybridClock {
  private last: Stamp = ZERO_STAMP;

  constructor(private readonly wallNow: () => number = Date.now) {}

  /** A stamp larger than every stamp made or observed so far. */
  now(): Stamp {
    const wall = this.wallNow();
    const last = this.last;
    if (wall > last.wall) this.last = { wall, counter: 0 };
    else if (last.counter < COUNTER_MAX) this.last = { wall: last.wall, counter: last.counter + 1 };
    else this.last = { wall: last.wall + 1, counter: 0 }; // 65,536 stamps in one ms: borrow the next ms
    return this.last;
  }

  /** Takes in a stamp from another host, so later local stamps are larger. */
  observe(stamp: Stamp): void {
    if (compareStamps(stamp, this.last) > 0) this.last = stamp;
  }
}

/** Negative, zero or positive as `a` is before, at or after `b`. */
export function compareStamps(a: Stamp, b: Stamp): number {
  return a.wall !== b.wall ? a.wall - b.wall : a.counter - b.counter;
}

/** The fixed-width hex text form (the Lua script on the Redis side reads it back as two numbers). */
export function stampText(stamp: Stamp): string {
  return stamp.wall.toString(16).padStart(WALL_HEX, '0') + stamp.counter.toString(16).padStart(COUNTER_HEX, '0');
}

/** Reads the text form; undefined when it is not one. */
export function parseStamp(text: string): Stamp | undefined {
  if (text.length !== STAMP_CHARS || !/^[0-9a-f]+$/.test(text)) return undefined;
  return { wall: Number.parseInt(text.slice(0, WALL_HEX), 16), counter: Number.parseInt(text.slice(WALL_HEX), 16) };
}
