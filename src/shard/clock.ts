/**
 * The tick clock of Logic Shard bids (docs/shards.md, "The clock").
 *
 * C stamps `claimed_at` with the CPU cycle counter (rdtsc, cntvct_el0), which JavaScript
 * cannot read. Ours defaults to CLOCK_MONOTONIC in nanoseconds, the one clock every
 * process on the host reads alike; a handle can be given any other u64 tick source.
 */
import { describe, SplinterError } from '../errors.js';
import { U64_MAX } from '../layout/constants.js';
import { toU64 } from '../store/values/u64-bytes.js';

/** A source of u64 ticks; every process judging the same bids must read the same clock. */
export type ShardClock = () => bigint;

/**
 * A bid duration that no clock expires: `now - claimedAt >= 2^64 - 1` holds only at the
 * single tick `now = claimedAt - 1`. Bids with it are judged alike by processes on any clock.
 */
export const SHARD_FOREVER = U64_MAX;

/** CLOCK_MONOTONIC in nanoseconds (libuv's uv_hrtime): shared by every process on the host, never set back. */
export const monotonicClock: ShardClock = () => process.hrtime.bigint();

/** One reading of a foreign tick counter and of CLOCK_MONOTONIC (ns) taken at the same instant. */
export interface ClockPair {
  ticks: bigint;
  monotonicNs: bigint;
}

/** Reads a clock, refusing anything but a u64 bigint (a broken clock must not produce silent bids). */
export function readClock(clock: ShardClock): bigint {
  const ticks: unknown = clock();
  if (typeof ticks !== 'bigint' || ticks < 0n || ticks > U64_MAX) {
    throw new SplinterError('EINVAL', `the shard clock must return a u64 bigint, it returned ${describe(ticks)}`);
  }
  return ticks;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

/**
 * A clock that reads CLOCK_MONOTONIC and maps it onto a foreign tick counter (the C library's
 * rdtsc, for instance) through two pairs that a process of that clock took: the line through
 * them, in exact integer arithmetic. Invariant counters and CLOCK_MONOTONIC are both
 * system-wide and advance at fixed rates, so the map holds for every process on the host;
 * NTP slewing of CLOCK_MONOTONIC makes it drift by parts per million, so take new pairs now
 * and then (docs/shards.md).
 */
export function calibratedClock(first: ClockPair, second: ClockPair, source: ShardClock = monotonicClock): ShardClock {
  const t0 = toU64(first?.ticks, 'first.ticks');
  const n0 = toU64(first?.monotonicNs, 'first.monotonicNs');
  const t1 = toU64(second?.ticks, 'second.ticks');
  const n1 = toU64(second?.monotonicNs, 'second.monotonicNs');
  const dn = n1 - n0;
  if (dn <= 0n) {
    throw new SplinterError('EINVAL', `the second pair must be taken after the first, received monotonicNs ${n0} then ${n1}`);
  }
  // A u64 counter may wrap between the pairs: its advance is taken modulo 2^64.
  const dt = BigInt.asUintN(64, t1 - t0);
  return () => BigInt.asUintN(64, t0 + floorDiv((readClock(source) - n0) * dt, dn));
}
