/** The shard clock: CLOCK_MONOTONIC ns by default, shared across processes; calibrated clocks map it onto foreign ticks. */
import { execFileSync } from 'node:child_process';
import t from 'tap';
import { calibratedClock, isSplinterError, monotonicClock, SHARD_FOREVER } from '../../src/index.js';
import { U64_MAX } from '../../src/layout/constants.js';
import { readClock } from '../../src/shard/clock.js';
import { toU64 } from '../../src/store/values/u64-bytes.js';
import { throwsCode } from '../helpers/assert.js';

t.test('the default clock is CLOCK_MONOTONIC in nanoseconds', async (t) => {
  const a = monotonicClock();
  const p0 = performance.now();
  while (performance.now() - p0 < 20) {
    // spin 20 ms
  }
  const b = monotonicClock();
  const elapsedNs = Number(b - a);
  t.ok(elapsedNs >= 19e6 && elapsedNs < 200e6, `20 ms of spinning is ${elapsedNs} ns`);
  t.ok(a > 0n && a < U64_MAX, 'a u64 bigint');
  t.equal(SHARD_FOREVER, (1n << 64n) - 1n);
});

t.test('another process reads the same clock (it is system-wide, not per-process like performance.now)', async (t) => {
  for (let round = 0; round < 3; round++) {
    const before = monotonicClock();
    const theirs = BigInt(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.hrtime.bigint()))'], { encoding: 'utf8' }));
    const after = monotonicClock();
    t.ok(theirs > before && theirs < after, `a child's reading lies between ours (${before} < ${theirs} < ${after})`);
  }
});

t.test('toU64 and readClock refuse what is not a u64', async (t) => {
  t.equal(toU64(5, 'x'), 5n);
  t.equal(toU64(U64_MAX, 'x'), U64_MAX);
  for (const bad of [-1, 1.5, 2 ** 60, -1n, 1n << 64n, '7', undefined, null]) {
    const error = throwsCode(t, () => toU64(bad, 'the duration'), 'EINVAL', `toU64(${String(bad)})`);
    t.match(error?.message, /the duration must be a u64/);
  }
  t.equal(readClock(() => 9n), 9n);
  throwsCode(t, () => readClock((() => 9) as unknown as () => bigint), 'EINVAL', 'a clock returning a number');
  throwsCode(t, () => readClock(() => -1n), 'EINVAL', 'a clock returning a negative bigint');
});

t.test('calibratedClock: the line through two (ticks, monotonic ns) pairs, in exact integers', async (t) => {
  let ns = 0n;
  const source = (): bigint => ns;
  // A 2.5 GHz counter that read 7e12 when CLOCK_MONOTONIC read 1e12.
  const clock = calibratedClock({ ticks: 7_000_000_000_000n, monotonicNs: 1_000_000_000_000n }, { ticks: 7_002_500_000_000n, monotonicNs: 1_001_000_000_000n }, source);
  ns = 1_000_000_000_000n;
  t.equal(clock(), 7_000_000_000_000n, 'at the first pair');
  ns = 1_003_000_000_001n;
  t.equal(clock(), 7_007_500_000_002n, '3 s + 1 ns later: 7.5e9 + 2.5 ticks, floored');
  ns = 999_999_999_999n;
  t.equal(clock(), 6_999_999_999_997n, '1 ns before the first pair: floored, not truncated toward zero');
  const wrapping = calibratedClock({ ticks: U64_MAX - 9n, monotonicNs: 0n }, { ticks: 10n, monotonicNs: 20n }, source);
  ns = 30n;
  t.equal(wrapping(), 20n, 'a counter that wrapped between the pairs advances modulo 2^64');
  throwsCode(t, () => calibratedClock({ ticks: 1n, monotonicNs: 5n }, { ticks: 2n, monotonicNs: 5n }), 'EINVAL', 'pairs at the same instant');
  throwsCode(t, () => calibratedClock({ ticks: 1n, monotonicNs: 6n }, { ticks: 2n, monotonicNs: 5n }), 'EINVAL', 'pairs out of order');
  try {
    calibratedClock(undefined as never, { ticks: 1n, monotonicNs: 1n });
    t.fail('a missing pair is refused');
  } catch (error) {
    t.ok(isSplinterError(error, 'EINVAL'), 'a missing pair is EINVAL');
  }
});
