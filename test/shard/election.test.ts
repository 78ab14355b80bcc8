/** The election of docs/spec/FORMAT.md §8 as a pure function: every rule, with hand-made records. */
import fc from 'fast-check';
import t from 'tap';
import { Intent } from '../../src/index.js';
import { electIndex, isExpired, isLive, type Bid } from '../../src/shard/election.js';

const FOREVER = 1n << 60n;
const U64 = (1n << 64n) - 1n;
const bid = (over: Partial<Bid>): Bid => ({
  shardId: 1,
  pid: 1,
  intent: Intent.WILLNEED,
  priority: 100,
  duration: FOREVER,
  claimedAt: 0n,
  ...over,
});
const winnerId = (bids: Bid[], now: bigint): number | undefined => bids[electIndex(bids, now)]?.shardId;

t.test('expiry is half-open: now - claimedAt >= duration, in u64', async (t) => {
  t.equal(isExpired({ duration: 0n, claimedAt: 500n }, 500n), true, 'a duration of 0 is expired at once');
  t.equal(isExpired({ duration: 10n, claimedAt: 100n }, 109n), false, 'one tick before the end: live');
  t.equal(isExpired({ duration: 10n, claimedAt: 100n }, 110n), true, 'at claimedAt + duration: expired');
  t.equal(isExpired({ duration: 10n, claimedAt: U64 - 4n }, 4n), false, 'the window runs across the u64 wrap (9 ticks in)');
  t.equal(isExpired({ duration: 10n, claimedAt: U64 - 4n }, 5n), true, '10 ticks in, past the wrap');
  t.equal(isExpired({ duration: 1000n, claimedAt: 200n }, 100n), true, 'a claim in the future wraps to a huge age: expired');
  t.equal(isExpired({ duration: U64, claimedAt: 200n }, 100n), false, 'unless its window is 2^64 - 1');
  t.equal(isExpired({ duration: U64, claimedAt: 101n }, 100n), true, '2^64 - 1 expires at the single tick now = claimedAt - 1');
  t.equal(isLive(bid({ shardId: 0 }), 0n), false, 'a free record (id 0) never takes part');
});

t.test('no live bid: no sovereign', async (t) => {
  t.equal(electIndex([], 0n), -1, 'empty table');
  t.equal(electIndex([bid({ duration: 0n }), bid({ shardId: 0 })], 5n), -1, 'an expired bid and a free record');
});

t.test('priority, then earliest claimedAt, then lowest pid, then table order', async (t) => {
  t.equal(winnerId([bid({ shardId: 0xa, priority: 100 }), bid({ shardId: 0xb, priority: 200 })], 1n), 0xb, 'higher priority wins');
  t.equal(
    winnerId([bid({ shardId: 0xe, claimedAt: 200n }), bid({ shardId: 0xd, claimedAt: 100n })], 300n),
    0xd,
    'equal priority: earliest claim wins',
  );
  t.equal(
    winnerId([bid({ shardId: 0xf2, pid: 20, claimedAt: 500n }), bid({ shardId: 0xf1, pid: 10, claimedAt: 500n })], 600n),
    0xf1,
    'equal priority and claim: lowest pid wins',
  );
  t.equal(winnerId([bid({ shardId: 7 }), bid({ shardId: 8 })], 1n), 7, 'a full tie: the record first in the table');
  t.equal(
    winnerId([bid({ shardId: 0xc, priority: 255, duration: 0n }), bid({ shardId: 0xb, priority: 200 })], 1n),
    0xb,
    'an expired top-priority bid is ignored',
  );
  t.equal(
    winnerId([bid({ shardId: 1, priority: 9, claimedAt: U64 }), bid({ shardId: 2, priority: 9, claimedAt: 3n })], 10n),
    2,
    'claimedAt compares as an unsigned number, not by age across the wrap (as C compares it)',
  );
});

t.test('the DONTNEED soft bumper', async (t) => {
  const willneed = bid({ shardId: 0x10, intent: Intent.WILLNEED, priority: 50 });
  const sequential = bid({ shardId: 0x12, intent: Intent.SEQUENTIAL, priority: 40 });
  const dontneed = bid({ shardId: 0x11, intent: Intent.DONTNEED, priority: 255 });
  const random = bid({ shardId: 0x13, intent: Intent.RANDOM, priority: 10 });
  t.equal(winnerId([willneed, dontneed], 1n), 0x10, 'DONTNEED cannot win over a live WILLNEED');
  t.equal(winnerId([sequential, dontneed], 1n), 0x12, 'nor over a live SEQUENTIAL');
  t.equal(winnerId([random, dontneed], 1n), 0x11, 'RANDOM does not protect: DONTNEED wins on priority');
  t.equal(winnerId([bid({ ...willneed, duration: 0n }), dontneed], 1n), 0x11, 'an expired WILLNEED does not protect');
  t.equal(winnerId([willneed, dontneed, random], 1n), 0x10, 'with the bumper up the rest compete as usual');
  t.equal(winnerId([dontneed, bid({ shardId: 0, intent: Intent.WILLNEED })], 1n), 0x11, 'a free record with a stale intent does not protect');
  t.equal(winnerId([bid({ shardId: 5, intent: 4, priority: 1 }), bid({ shardId: 6, intent: 200, priority: 0 })], 1n), 5, 'an unknown intent byte is neither protective nor DONTNEED');
});

t.test('any u64 values, from any clock: the election returns, and its winner is live and unbeaten', async (t) => {
  const u64 = fc.bigInt({ min: 0n, max: U64 });
  const anyBid = fc.record({
    shardId: fc.integer({ min: 0, max: 0xffffffff }),
    pid: fc.integer({ min: 0, max: 0xffffffff }),
    intent: fc.integer({ min: 0, max: 255 }),
    priority: fc.integer({ min: 0, max: 255 }),
    duration: u64,
    claimedAt: u64,
  });
  t.doesNotThrow(
    () =>
      fc.assert(
        fc.property(fc.array(anyBid, { maxLength: 32 }), u64, (bids, now) => {
          const bumper = bids.some((b) => isLive(b, now) && (b.intent === Intent.WILLNEED || b.intent === Intent.SEQUENTIAL));
          const eligible = (b: Bid): boolean => isLive(b, now) && !(bumper && b.intent === Intent.DONTNEED);
          const i = electIndex(bids, now);
          if (i < 0) return !bids.some(eligible);
          const w = bids[i]!;
          return (
            eligible(w) &&
            bids.every((b, j) => {
              if (j === i || !eligible(b)) return true;
              if (b.priority !== w.priority) return b.priority < w.priority;
              if (b.claimedAt !== w.claimedAt) return b.claimedAt > w.claimedAt;
              return b.pid !== w.pid ? b.pid > w.pid : j > i;
            })
          );
        }),
        { numRuns: 2000 },
      ),
    '2000 random tables',
  );
});
