/** store.shards: the C library's own shard tests, replayed through our API with deterministic claims; the clock; ECLOSED. */
import t from 'tap';
import { Intent, SHARD_FOREVER, Store, isSplinterError } from '../../src/index.js';
import { throwsCode } from '../helpers/assert.js';
import { shmName } from '../helpers/fixtures.js';

const FOREVER = 1n << 60n;

t.test("libsplinter's shard test sequence, with explicit pid/claimedAt where C uses claim_ex", async (t) => {
  const store = Store.createShared({ slots: 4, maxValueSize: 64 });
  t.teardown(() => store.close());
  const s = store.shards;
  let tick = 1_000_000n;
  s.useClock(() => tick);

  s.claim({ id: 0xa, intent: Intent.WILLNEED, priority: 100, duration: FOREVER });
  t.equal(s.isSovereign(0xa), true, 'claimed shard is sovereign (only bid)');
  t.same(s.election(), { id: 0xa, intent: Intent.WILLNEED }, 'election returns claimant');

  s.claim({ id: 0xb, intent: Intent.WILLNEED, priority: 200, duration: FOREVER });
  t.equal(s.election()?.id, 0xb, 'higher priority wins election');
  t.equal(s.isSovereign(0xa), false, 'lower priority no longer sovereign');

  s.claim({ id: 0xc, pid: 1000, intent: Intent.WILLNEED, priority: 255, duration: 0n, claimedAt: s.now() });
  t.equal(s.election()?.id, 0xb, 'expired top-priority bid (duration 0) is ignored');
  s.release(0xc);

  s.release(0xa);
  s.release(0xb);
  s.claim({ id: 0xd, pid: 1000, intent: Intent.WILLNEED, priority: 100, duration: FOREVER, claimedAt: 100n });
  s.claim({ id: 0xe, pid: 1000, intent: Intent.WILLNEED, priority: 100, duration: FOREVER, claimedAt: 200n });
  t.equal(s.election()?.id, 0xd, 'earliest claimed_at wins tie');

  s.release(0xd);
  s.release(0xe);
  s.claim({ id: 0xf1, pid: 10, intent: Intent.WILLNEED, priority: 100, duration: FOREVER, claimedAt: 500n });
  s.claim({ id: 0xf2, pid: 20, intent: Intent.WILLNEED, priority: 100, duration: FOREVER, claimedAt: 500n });
  t.equal(s.election()?.id, 0xf1, 'lowest pid wins full tie');
  s.release(0xf1);
  s.release(0xf2);

  s.claim({ id: 0x10, intent: Intent.WILLNEED, priority: 50, duration: FOREVER });
  s.claim({ id: 0x11, intent: Intent.DONTNEED, priority: 255, duration: FOREVER });
  t.equal(s.election()?.id, 0x10, 'soft bumper: DONTNEED cannot win over live WILLNEED');
  s.release(0x10);
  t.same(s.election(), { id: 0x11, intent: Intent.DONTNEED }, 'DONTNEED wins once protective bids gone');
  s.release(0x11);

  s.claim({ id: 0x12, pid: 1000, intent: Intent.WILLNEED, priority: 100, duration: 0n, claimedAt: s.now() });
  t.equal(s.election(), undefined, 'no sovereign (sole bid expired)');
  s.rebid(0x12, { intent: Intent.WILLNEED, priority: 100, duration: FOREVER });
  t.equal(s.election()?.id, 0x12, 'rebid revives window');
  s.release(0x12);

  for (let i = 0; i < 32; i++) s.claim({ id: 0x100 + i, intent: Intent.RANDOM, priority: 1, duration: FOREVER });
  throwsCode(t, () => s.claim({ id: 0x999, intent: Intent.RANDOM, priority: 1, duration: FOREVER }), 'ENOSPC', '33rd claim fails with ENOSPC');
  for (let i = 0; i < 32; i++) s.release(0x100 + i);

  s.claim({ id: 0x30, intent: Intent.SEQUENTIAL, priority: 77, duration: FOREVER });
  const table = s.table();
  t.equal(table.length, 32, 'table snapshot returns 32 records');
  t.match(table[0], { index: 0, shardId: 0x30, pid: process.pid, intent: 2, priority: 77, duration: FOREVER, claimedAt: tick, expired: false, sovereign: true }, 'snapshot reflects claimed bid');
  t.ok(table.slice(1).every((r) => r.shardId === 0 && !r.sovereign), 'the other 31 are free');
  s.release(0x30);
  tick++;
});

t.test('expiry against the handle clock and against explicit ticks', async (t) => {
  const store = Store.createShared({ slots: 4, maxValueSize: 64 });
  t.teardown(() => store.close());
  const s = store.shards;
  let tick = 100n;
  s.useClock(() => tick);
  s.claim({ id: 1, intent: Intent.RANDOM, priority: 5, duration: 10n });
  t.equal(s.isSovereign(1), true, 'live at claim time');
  tick = 109n;
  t.equal(s.isSovereign(1), true, '9 ticks later: live');
  tick = 110n;
  t.equal(s.isSovereign(1), false, '10 ticks later: expired (now - claimedAt >= duration)');
  t.equal(s.table()[0]!.expired, true);
  t.equal(s.isSovereign(1, 105n), true, 'an explicit now overrides the clock');
  t.equal(s.table(105).find((r) => r.shardId === 1)?.sovereign, true, 'a number works as a tick');
  t.same(s.election(99n), undefined, 'at 99 the claim (at 100) is in the future: u64 age wraps, expired, as in C');
  throwsCode(t, () => s.election(-1n), 'EINVAL', 'a negative now');
  throwsCode(t, () => s.isSovereign(0), 'EINVAL', 'isSovereign(0)');
  t.equal(s.isSovereign(77), false, 'an id with no bid is not sovereign');
  s.useClock();
  const now = s.now();
  t.ok(now > 1_000_000n, `useClock() without a clock restores CLOCK_MONOTONIC (now ${now})`);
  throwsCode(t, () => s.useClock(42 as never), 'EINVAL', 'a clock that is not a function');
  s.useClock(() => 'soon' as never);
  throwsCode(t, () => s.now(), 'EINVAL', 'a clock that returns a string');
  throwsCode(t, () => s.claim({ id: 2, intent: 1, priority: 1, duration: 1n }), 'EINVAL', 'claim stamps with the broken clock: refused, nothing written');
  t.equal(s.table(0n).filter((r) => r.shardId !== 0).length, 1, 'only the first bid is in the table');
});

t.test('a bid from another clock never makes an election throw or hang', async (t) => {
  const store = Store.createShared({ slots: 4, maxValueSize: 64 });
  t.teardown(() => store.close());
  const s = store.shards;
  const now = s.now();
  // What a C process on rdtsc leaves: ticks ~3x larger than our nanoseconds; and one from a slow 24 MHz counter.
  s.claim({ id: 1, pid: 1, intent: Intent.WILLNEED, priority: 250, duration: 3_000_000_000n, claimedAt: now * 3n });
  s.claim({ id: 2, pid: 2, intent: Intent.WILLNEED, priority: 240, duration: 24_000_000n, claimedAt: now / 40n });
  s.claim({ id: 3, pid: 3, intent: Intent.RANDOM, priority: 1, duration: SHARD_FOREVER, claimedAt: now * 5n });
  s.claim({ id: 4, pid: 4, intent: Intent.RANDOM, priority: 0, duration: 10_000_000_000n });
  const started = performance.now();
  const table = s.table();
  t.ok(performance.now() - started < 50, 'judged at once');
  t.same(
    table.slice(0, 4).map((r) => r.expired),
    [true, true, false, false],
    'a future stamp and an ancient one look expired to our clock; SHARD_FOREVER and our own bid do not',
  );
  t.equal(s.election()?.id, 3, 'the SHARD_FOREVER bid outranks ours on priority whatever its clock');
});

t.test('ECLOSED once the store is closed, also through a kept reference', async (t) => {
  const store = Store.create(shmName(t, 'closed'), { slots: 4, maxValueSize: 64 });
  const shards = store.shards;
  t.equal(store.shards, shards, 'one Shards per handle');
  shards.claim({ id: 1, intent: 1, priority: 1, duration: 1n });
  store.close();
  throwsCode(t, () => store.shards, 'ECLOSED', 'store.shards');
  for (const [what, call] of [
    ['claim', () => shards.claim({ id: 1, intent: 1, priority: 1, duration: 1n })],
    ['rebid', () => shards.rebid(1, { intent: 1, priority: 1, duration: 1n })],
    ['release', () => shards.release(1)],
    ['election', () => shards.election()],
    ['isSovereign', () => shards.isSovereign(1)],
    ['table', () => shards.table()],
    ['now', () => shards.now()],
  ] as const) {
    throwsCode(t, call, 'ECLOSED', what);
  }
  await t.rejects(shards.madvise(1, { advice: 'willneed' }), { code: 'ECLOSED' }, 'madvise rejects');
  try {
    await shards.madvise(1, { advice: 'willneed' });
  } catch (error) {
    t.ok(isSplinterError(error, 'ECLOSED'));
  }
});
