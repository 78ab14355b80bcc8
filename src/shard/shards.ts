/**
 * Logic Shards (docs/spec/FORMAT.md §8, docs/shards.md): the bid table in the header, the election
 * every process computes alike, and madvise that only the elected sovereign may issue.
 * Reached as `store.shards`; every call throws ECLOSED once the store is closed.
 */
import { SplinterError } from '../errors.js';
import type { Intent } from '../layout/constants.js';
import type { StoreMemory } from '../store/backing/memory.js';
import { pageSize as nativePageSize } from '../store/backing/native-mmap.js';
import { ADVICE_OPTIONS, CLAIM_FIELDS, checkId, checkIntent, checkObject, checkPid, checkPriority, REBID_FIELDS } from './args.js';
import { BidTable, type BidFields, type BidRecord } from './bids.js';
import { toU64 } from '../store/values/u64-bytes.js';
import { monotonicClock, readClock, type ShardClock } from './clock.js';
import { electIndex, isExpired } from './election.js';
import { adviceRange, checkAdvice, checkTimeout, cooperativeAdvise, type Advice } from './madvise.js';

/** madvise on a byte range of the mapping, as the backing offers it. */
export type AdviseFunction = (offset: number, length: number, advice: Advice) => void;

export interface ShardClaim {
  /** The caller's shard id, 1..2^32-1. */
  id: number;
  intent: Intent;
  /** 0..255, higher wins. */
  priority: number;
  /** The bid's window in ticks of the clock that stamps claimedAt. */
  duration: bigint | number;
  /** Defaults to this process's pid. */
  pid?: number;
  /** Defaults to `now()`. */
  claimedAt?: bigint | number;
}

export interface ShardRebid {
  intent: Intent;
  priority: number;
  duration: bigint | number;
  /** Beyond docs/spec/API.md: defaults to `now()`, as C's rebid stamps its own clock. */
  claimedAt?: bigint | number;
}

export interface ShardAdviceOptions {
  /** Bytes into the value arena (like val_off); default 0. Rounded down to a page. */
  offset?: number;
  /** Default: to the end of the arena. */
  length?: number;
  advice: Advice;
  /** ms: 0 (default) = do not wait (EAGAIN); Infinity = wait until sovereign. */
  timeout?: number;
  /** Beyond docs/spec/API.md: stops a wait; the promise rejects with an AbortError whose `cause` is the signal's reason. */
  signal?: AbortSignal;
}

export interface ShardElection {
  id: number;
  intent: Intent;
}

/** A record (`index`, beyond docs/spec/API.md, is its position 0..31; shardId 0 is a free record), judged at a `now`. */
export interface ShardBidSnapshot extends BidRecord {
  /** `now - claimedAt >= duration` (u64) at the `now` the table was judged at. */
  expired: boolean;
  /** This record won the election at that `now`. */
  sovereign: boolean;
}

export interface ShardsOptions {
  clock?: ShardClock;
  /** The page size madvise rounds to; default the system's (from the native addon). */
  pageSize?: () => number;
}

export class Shards {
  private readonly bids: BidTable;
  private clock: ShardClock;
  private readonly pageSize: () => number;

  /**
   * @param adviser returns the backing's madvise, or undefined where there is no mapping
   *   (SharedArrayBuffer stores); it throws ECLOSED once the store is closed.
   */
  constructor(
    private readonly memory: StoreMemory,
    private readonly adviser: () => AdviseFunction | undefined,
    options: ShardsOptions = {},
  ) {
    this.bids = new BidTable(memory);
    this.clock = options.clock ?? monotonicClock;
    this.pageSize = options.pageSize ?? nativePageSize;
  }

  /** The current tick of this handle's clock (CLOCK_MONOTONIC ns unless `useClock` changed it). */
  now(): bigint {
    this.adviser();
    return readClock(this.clock);
  }

  /**
   * Beyond docs/spec/API.md: the clock this handle stamps and judges bids with from now on; no argument
   * restores CLOCK_MONOTONIC ns. Every process sharing the table must use the same clock.
   */
  useClock(clock?: ShardClock): void {
    this.adviser();
    if (clock !== undefined && typeof clock !== 'function') {
      throw new SplinterError('EINVAL', `a shard clock is a function returning a u64 bigint, received ${typeof clock}`);
    }
    this.clock = clock ?? monotonicClock;
  }

  /** Claims a bid record for `id`, or refreshes the one it holds (C's claim / claim_ex). ENOSPC when the table is full. */
  claim(claim: ShardClaim): void {
    this.adviser();
    const c = checkObject(claim, 'a claim { id, intent, priority, duration, pid?, claimedAt? }', CLAIM_FIELDS);
    const id = checkId(c['id']);
    const pid = c['pid'] === undefined ? process.pid : checkPid(c['pid']);
    this.bids.claim(id, pid, this.fields(c, 'claim'));
  }

  /** Rewrites intent, priority and duration of `id`'s bid and stamps it now. ENOENT when `id` holds no record. */
  rebid(id: number, bid: ShardRebid): void {
    this.adviser();
    const shardId = checkId(id);
    this.bids.rebid(shardId, this.fields(checkObject(bid, 'a rebid { intent, priority, duration, claimedAt? }', REBID_FIELDS), 'rebid'));
  }

  /** Frees `id`'s record. ENOENT when `id` holds none. */
  release(id: number): void {
    this.adviser();
    this.bids.release(checkId(id));
  }

  /** The sovereign at `now` (default: this handle's clock), or undefined when no bid is live. */
  election(now?: bigint | number): ShardElection | undefined {
    this.adviser();
    const records = this.bids.readAll();
    const winner = records[electIndex(records, this.tick(now))];
    return winner === undefined ? undefined : { id: winner.shardId, intent: winner.intent as Intent };
  }

  /** True when `id` wins the election at `now` (default: this handle's clock). */
  isSovereign(id: number, now?: bigint | number): boolean {
    this.adviser();
    const shardId = checkId(id);
    const records = this.bids.readAll();
    return records[electIndex(records, this.tick(now))]?.shardId === shardId;
  }

  /** All 32 records, each judged (expired, sovereign) at `now` (default: this handle's clock). */
  table(now?: bigint | number): ShardBidSnapshot[] {
    this.adviser();
    const at = this.tick(now);
    const records = this.bids.readAll();
    const winner = electIndex(records, at);
    return records.map((r) => ({ ...r, expired: isExpired(r, at), sovereign: r.index === winner }));
  }

  /**
   * madvise on the value arena (or `offset`/`length` within it) if `id` is the sovereign;
   * otherwise EAGAIN (timeout 0), or wait for sovereignty up to `timeout` ms (ETIMEDOUT).
   * EINVAL when `id` holds no bid; ENOTSUP for SharedArrayBuffer stores.
   */
  async madvise(id: number, options: ShardAdviceOptions): Promise<void> {
    const advise = this.adviser();
    const shardId = checkId(id);
    const o = checkObject(options, 'madvise options { offset?, length?, advice, timeout?, signal? }', ADVICE_OPTIONS);
    const advice = checkAdvice(o['advice']);
    const timeout = checkTimeout(o['timeout']);
    const signal = o['signal'];
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new SplinterError('EINVAL', `signal must be an AbortSignal, received ${typeof signal}`);
    }
    if (advise === undefined) {
      throw new SplinterError('ENOTSUP', 'madvise needs a mapped store (shared memory or file); a SharedArrayBuffer store has no mapping to advise');
    }
    const range = adviceRange(this.memory, o['offset'], o['length'], this.pageSize());
    const bids = this.bids;
    await cooperativeAdvise(
      {
        check: () => {
          this.adviser();
          if (bids.find(shardId) < 0) {
            throw new SplinterError('EINVAL', `madvise needs the caller to hold a bid; expected a record holding shard ${shardId}, none does`);
          }
        },
        won: () => {
          const records = bids.readAll();
          return records[electIndex(records, readClock(this.clock))]?.shardId === shardId;
        },
        apply: () => applyAdvice(advise, range.start, range.length, advice),
        describe: () => {
          const records = bids.readAll();
          const winner = records[electIndex(records, readClock(this.clock))];
          return `shard ${shardId} is not the sovereign (${winner === undefined ? 'no live bid' : `shard ${winner.shardId} is`})`;
        },
      },
      timeout,
      signal,
    );
  }

  private tick(now: bigint | number | undefined): bigint {
    return now === undefined ? readClock(this.clock) : toU64(now, 'now');
  }

  private fields(c: Record<string, unknown>, what: string): BidFields {
    return {
      intent: checkIntent(c['intent']),
      priority: checkPriority(c['priority']),
      duration: toU64(c['duration'], `the ${what}'s duration`),
      claimedAt: c['claimedAt'] === undefined ? readClock(this.clock) : toU64(c['claimedAt'], `the ${what}'s claimedAt`),
    };
  }
}

const ERRNO_CODES: Record<string, 'EINVAL' | 'ENOMEM' | 'EAGAIN'> = { '22': 'EINVAL', '12': 'ENOMEM', '11': 'EAGAIN' };

function applyAdvice(advise: AdviseFunction, start: number, length: number, advice: Advice): void {
  try {
    advise(start, length, advice);
  } catch (error) {
    if (error instanceof SplinterError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const errno = /(\d+)\s*$/.exec(message)?.[1] ?? '';
    throw new SplinterError(
      ERRNO_CODES[errno] ?? 'EINVAL',
      `madvise('${advice}') of mapping bytes ${start}..${start + length} failed; expected the kernel to accept it, it said: ${message}`,
      { cause: error },
    );
  }
}
