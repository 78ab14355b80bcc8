/**
 * The Logic Shard election of docs/spec/FORMAT.md §8, a pure function of the records and `now`, so
 * that every process (ours or C) that reads the same table at the same tick elects the
 * same sovereign. u64 arithmetic throughout: a bid stamped by another clock is judged by
 * the same wrapping subtraction as in C and can never make the election throw.
 */
import { Intent } from '../layout/constants.js';

/** What the election looks at in a record. */
export interface Bid {
  shardId: number;
  pid: number;
  intent: number;
  priority: number;
  duration: bigint;
  claimedAt: bigint;
}

/** Half-open window: expired when `now - claimedAt >= duration` in u64 arithmetic (a duration of 0 is expired at once). */
export function isExpired(bid: Pick<Bid, 'duration' | 'claimedAt'>, now: bigint): boolean {
  return BigInt.asUintN(64, now - bid.claimedAt) >= bid.duration;
}

/** A record that takes part in the election: claimed (id ≠ 0) and unexpired. */
export function isLive(bid: Bid, now: bigint): boolean {
  return bid.shardId !== 0 && !isExpired(bid, now);
}

/** WILLNEED and SEQUENTIAL bids shut DONTNEED out (the soft bumper). */
const isProtective = (intent: number): boolean => intent === Intent.WILLNEED || intent === Intent.SEQUENTIAL;

/** True when `a` beats `b`: higher priority, then earlier claimed_at, then lower pid. */
function beats(a: Bid, b: Bid): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (a.claimedAt !== b.claimedAt) return a.claimedAt < b.claimedAt;
  return a.pid < b.pid;
}

/**
 * The position of the sovereign in `bids`, or -1 when no bid is live. On a full tie the
 * record first in table order wins (C scans the table in order and replaces only on a win).
 */
export function electIndex(bids: readonly Bid[], now: bigint): number {
  const live: boolean[] = bids.map((bid) => isLive(bid, now));
  const bumper = bids.some((bid, i) => live[i] && isProtective(bid.intent));
  let best = -1;
  for (let i = 0; i < bids.length; i++) {
    const bid = bids[i]!;
    if (!live[i] || (bumper && bid.intent === Intent.DONTNEED)) continue;
    if (best < 0 || beats(bid, bids[best]!)) best = i;
  }
  return best;
}
