/**
 * Cooperative madvise (docs/spec/FORMAT.md §8): only the elected sovereign's advice reaches the kernel.
 * Others defer (EAGAIN), or wait, re-electing every ELECTION_POLL_MS on a timer (never
 * blocking the event loop), until they win or their timeout passes (ETIMEDOUT).
 */
import { abortableDelay, throwIfAborted } from '../abort.js';
import { describe, SplinterError } from '../errors.js';
import type { Advice } from '../store/backing/mapping/index.js';

export type { Advice };

export const ADVICE: readonly Advice[] = ['normal', 'random', 'sequential', 'willneed', 'dontneed'];

/** How often a waiting madvise re-runs the election (docs/spec/FORMAT.md asks for at least every 5 ms). */
export const ELECTION_POLL_MS = 2;

export function checkAdvice(advice: unknown): Advice {
  if (typeof advice !== 'string' || !(ADVICE as readonly string[]).includes(advice)) {
    throw new SplinterError('EINVAL', `advice is one of ${ADVICE.map((a) => `'${a}'`).join(', ')}, received ${describe(advice)}`);
  }
  return advice as Advice;
}

/** A timeout in ms: 0 (do not wait, the default), a finite positive number, or Infinity. */
export function checkTimeout(timeout: unknown): number {
  if (timeout === undefined) return 0;
  if (typeof timeout !== 'number' || !(timeout >= 0)) {
    throw new SplinterError('EINVAL', `timeout is a number of ms ≥ 0 (0 = do not wait, Infinity = wait until sovereign), received ${describe(timeout)}`);
  }
  return timeout;
}

/** A page-aligned byte range of the mapping. */
export interface MappingRange {
  start: number;
  length: number;
}

/**
 * The mapping range for `offset`/`length`, which are relative to the value arena (like
 * val_off) and default to all of it; the start is rounded down to a page and the length
 * grows by what the rounding added.
 */
export function adviceRange(
  arena: { arenaStart: number; arenaSize: number },
  offset: unknown,
  length: unknown,
  pageSize: number,
): MappingRange {
  const { arenaStart, arenaSize } = arena;
  const from = offset ?? 0;
  if (typeof from !== 'number' || !Number.isInteger(from) || from < 0 || from >= arenaSize) {
    throw new SplinterError('EINVAL', `offset is an integer from 0 to ${arenaSize - 1} (bytes into the value arena), received ${describe(offset)}`);
  }
  const size = length ?? arenaSize - from;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || from + size > arenaSize) {
    throw new SplinterError(
      'EINVAL',
      `length is an integer from 1 to ${arenaSize - from} (the arena ends ${arenaSize - from} bytes after offset ${from}), received ${describe(length)}`,
    );
  }
  const absolute = arenaStart + from;
  const start = absolute - (absolute % pageSize);
  // Sizes are full 64-bit values on the koffi route; the mmap-io route refuses what it cannot pass.
  return { start, length: size + (absolute - start) };
}

/** What the waiting loop needs from the table, each re-read on every round. */
export interface Sovereignty {
  /** Throws when the caller no longer holds a bid (or the store was closed). */
  check(): void;
  /** Runs the election now: true when the caller is the sovereign. */
  won(): boolean;
  /** Issues the advice. */
  apply(): void;
  /** What to say in EAGAIN / ETIMEDOUT messages. */
  describe(): string;
}

/** Elects, applies when sovereign, else defers, waits or times out. */
export async function cooperativeAdvise(s: Sovereignty, timeout: number, signal: AbortSignal | undefined): Promise<void> {
  const started = performance.now();
  const deadline = started + timeout;
  for (;;) {
    throwIfAborted(signal);
    s.check();
    if (s.won()) {
      s.apply();
      return;
    }
    if (timeout === 0) {
      throw new SplinterError('EAGAIN', `${s.describe()}; expected to be the sovereign, and timeout 0 does not wait: retry later`);
    }
    const left = deadline - performance.now();
    if (left <= 0) {
      throw new SplinterError(
        'ETIMEDOUT',
        `${s.describe()}; expected to become the sovereign within ${timeout} ms, still not after ${Math.round(performance.now() - started)} ms`,
      );
    }
    await abortableDelay(Math.min(ELECTION_POLL_MS, left), signal);
  }
}
