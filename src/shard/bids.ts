/**
 * The 32-record Logic Shard bid table at header offset 4416 (docs/spec/FORMAT.md §2 and §8), as the
 * C library reads and writes it. A record is claimed by compare-and-swap of its shard_id
 * from 0, filled after the swap, and freed by zeroing its fields and then its shard_id.
 * Bids never touch any epoch.
 */
import { SplinterError } from '../errors.js';
import { HEADER, SHARD_BID, SHARD_BID_SIZE, SPLINTER_MAX_BIDS } from '../layout/constants.js';
import type { StoreMemory } from '../store/backing/memory.js';
import type { Bid } from './election.js';

/** One record as read: `index` is its position in the table (0..31). */
export interface BidRecord extends Bid {
  index: number;
}

/** The fields a claim or a rebid writes. */
export interface BidFields {
  intent: number;
  priority: number;
  duration: bigint;
  claimedAt: bigint;
}

const recordByte = (index: number): number => HEADER.shard_bids + index * SHARD_BID_SIZE;

export class BidTable {
  constructor(private readonly m: StoreMemory) {}

  /** Reads one record, its shard_id first (a record that is being claimed may show zero fields, as in C). */
  read(index: number): BidRecord {
    const { u8, u32, u64 } = this.m;
    const at = recordByte(index);
    // shard_id first: it is the CAS word that publishes the record; the fields below follow it.
    const shardId = Atomics.load(u32, (at + SHARD_BID.shard_id) >>> 2);
    // pid is read as one u32, so a concurrent claim shows the old or the new pid, never a mix.
    const pid = Atomics.load(u32, (at + SHARD_BID.pid) >>> 2);
    // intent and priority are single bytes, loaded atomically so the read orders after shard_id.
    const intent = Atomics.load(u8, at + SHARD_BID.intent);
    // priority: the same ordering as intent.
    const priority = Atomics.load(u8, at + SHARD_BID.priority);
    // duration is a u64: a plain BigUint64Array load may tear, and a torn window misjudges expiry.
    const duration = Atomics.load(u64, (at + SHARD_BID.duration) >>> 3);
    // claimed_at is a u64 for the same reason; every election in every process must read one value.
    const claimedAt = Atomics.load(u64, (at + SHARD_BID.claimed_at) >>> 3);
    return { index, shardId, pid, intent, priority, duration, claimedAt };
  }

  /** All 32 records in table order. */
  readAll(): BidRecord[] {
    const records: BidRecord[] = [];
    for (let i = 0; i < SPLINTER_MAX_BIDS; i++) records.push(this.read(i));
    return records;
  }

  /** Index of the first record holding `id`, or -1. */
  find(id: number): number {
    const u32 = this.m.u32;
    for (let i = 0; i < SPLINTER_MAX_BIDS; i++) {
      // Acquire-load of each record's shard_id: the only word that says who owns the record.
      if (Atomics.load(u32, (recordByte(i) + SHARD_BID.shard_id) >>> 2) === id) return i;
    }
    return -1;
  }

  /**
   * C's claim_ex: refreshes the record that already holds `id`, else takes the first free
   * record by CAS of its shard_id 0 → id, then writes the fields. ENOSPC when all 32 are taken.
   */
  claim(id: number, pid: number, fields: BidFields): void {
    let index = this.find(id);
    if (index < 0) {
      const u32 = this.m.u32;
      for (let i = 0; i < SPLINTER_MAX_BIDS && index < 0; i++) {
        // The CAS is the claim itself: of several processes racing for a free record exactly one wins it.
        if (Atomics.compareExchange(u32, (recordByte(i) + SHARD_BID.shard_id) >>> 2, 0, id) === 0) index = i;
      }
    }
    if (index < 0) {
      throw new SplinterError(
        'ENOSPC',
        `the bid table has ${SPLINTER_MAX_BIDS} records and all hold other shard ids; expected a free record for shard ${id}`,
      );
    }
    this.writeFields(index, pid, fields);
  }

  /** C's rebid: rewrites intent, priority, duration and claimed_at of the record holding `id`. */
  rebid(id: number, fields: BidFields): void {
    const index = this.find(id);
    if (index < 0) throw unknownId(id, 'rebid');
    this.writeFields(index, undefined, fields);
  }

  /** C's release: zeroes pid, intent, priority, duration and claimed_at, then shard_id last. */
  release(id: number): void {
    const index = this.find(id);
    if (index < 0) throw unknownId(id, 'release');
    this.writeFields(index, 0, { intent: 0, priority: 0, duration: 0n, claimedAt: 0n });
    // shard_id last, after the zeroed fields: a concurrent election sees the record whole or free.
    Atomics.store(this.m.u32, (recordByte(index) + SHARD_BID.shard_id) >>> 2, 0);
  }

  /** Stores the fields of a record this process owns (its shard_id is already set). */
  private writeFields(index: number, pid: number | undefined, f: BidFields): void {
    const { u8, u32, u64 } = this.m;
    const at = recordByte(index);
    // pid after the shard_id CAS (claim) or before the shard_id reset (release): never on a free record.
    if (pid !== undefined) Atomics.store(u32, (at + SHARD_BID.pid) >>> 2, pid);
    // intent as one byte store, ordered after the CAS so an election that sees the id sees it soon after.
    Atomics.store(u8, at + SHARD_BID.intent, f.intent);
    // priority: the same ordering as intent.
    Atomics.store(u8, at + SHARD_BID.priority, f.priority);
    // duration as one u64 store so no election reads half of an old window and half of a new one.
    Atomics.store(u64, (at + SHARD_BID.duration) >>> 3, f.duration);
    // claimed_at last of the fields, as one u64 store: the expiry test of every process reads it whole.
    Atomics.store(u64, (at + SHARD_BID.claimed_at) >>> 3, f.claimedAt);
  }
}

function unknownId(id: number, what: string): SplinterError {
  return new SplinterError('ENOENT', `cannot ${what} shard ${id}: expected a bid record holding that id, none does`);
}
