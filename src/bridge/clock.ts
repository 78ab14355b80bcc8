/**
 * The hybrid logical clock that orders writes across hosts: a stamp is the wall time in ms and a
 * counter, never smaller than any stamp this host has made or seen, so a write made after another
 * was seen always carries the larger stamp, whatever the hosts' clocks say.
 *
 * The wall time is Redis's (the bridge gives the clock its estimate of Redis's TIME), so every
 * bridge stamps against one clock and a host whose own clock is off changes nothing. A stamp more
 * than FUTURE_LIMIT_MS past that time is not taken in: one bad record cannot drag every later
 * stamp with it, nor push the 48-bit wall field past its end.
 */

/** A point of the clock: wall time in ms since the epoch (48 bits), and a counter within that ms (16 bits). */
export interface Stamp {
  readonly wall: number;
  readonly counter: number;
}

const WALL_HEX = 12;
const COUNTER_HEX = 4;
const COUNTER_MAX = 0xffff;
/** The largest wall time a stamp can carry (the year 10889). */
export const WALL_MAX = 0xffff_ffff_ffff;
/** The width of a stamp's text form: 12 hex digits of wall time, 4 of counter. */
export const STAMP_CHARS = WALL_HEX + COUNTER_HEX;
/** How far past Redis's time a stamp may be and still be taken (the put script uses the same bound). */
export const FUTURE_LIMIT_MS = 60_000;

export const ZERO_STAMP: Stamp = { wall: 0, counter: 0 };

/** `wall` as a whole number of ms within the stamp's 48 bits (a wall source that misbehaves is pinned to the ends). */
function clampWall(wall: number): number {
  if (!(wall > 0)) return 0; // NaN too
  return wall >= WALL_MAX ? WALL_MAX : Math.floor(wall);
}

export class HybridClock {
  private last: Stamp = ZERO_STAMP;

  constructor(private readonly wallNow: () => number = Date.now) {}

  /**
   * A stamp larger than every stamp made or observed so far. Only at the very end of 48-bit time
   * (wall WALL_MAX, counter 0xffff) would it repeat the last one: observe() never takes in a stamp
   * near it, so reaching it needs the wall source itself to say the year 10889.
   */
  now(): Stamp {
    const wall = clampWall(this.wallNow());
    const last = this.last;
    if (wall > last.wall) this.last = { wall, counter: 0 };
    else if (last.counter < COUNTER_MAX) this.last = { wall: last.wall, counter: last.counter + 1 };
    else if (last.wall < WALL_MAX) this.last = { wall: last.wall + 1, counter: 0 }; // 65,536 stamps in one ms: borrow the next ms
    return this.last;
  }

  /** True when `stamp` is more than FUTURE_LIMIT_MS past the wall time now: a record that cannot be taken. */
  tooFarAhead(stamp: Stamp): boolean {
    return stamp.wall > clampWall(this.wallNow()) + FUTURE_LIMIT_MS;
  }

  /** Takes in a stamp from another host, so later local stamps are larger; returns false (and ignores it) when it is too far ahead. */
  observe(stamp: Stamp): boolean {
    if (this.tooFarAhead(stamp)) return false;
    if (compareStamps(stamp, this.last) > 0) this.last = stamp;
    return true;
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
