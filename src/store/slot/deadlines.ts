/**
 * Key deadlines (expiry): a table beside the store, one 16-byte entry per slot holding the hash
 * of the key the deadline was given to and the deadline in milliseconds since the Unix epoch.
 * C never sees the table; a deadline counts only while its slot holds a key of that hash, so a
 * key another process puts into the slot later does not inherit it (docs/keep.md). The OURS byte
 * `deadlines_present` says a table is in use: while it is 0, readers pay one byte load.
 *
 * The table's bytes are untrusted input: any hash or deadline read from it is only compared,
 * never used as an index or a size.
 */
import { DEADLINES_PRESENT_BYTE } from '../../layout/constants.js';
import type { KvContext } from '../handle/context.js';
import type { StoreMemory } from '../backing/memory.js';

/** "SPDL" little-endian: the first word of a deadline table. */
export const DEADLINE_MAGIC = 0x4c445053;
export const DEADLINE_VERSION = 1;
/**
 * Header: magic, version, slots, writes (u32 each), padding to 64 bytes; then the ring of recent
 * deadline writes (RING_ENTRIES × [sequence + 1, slot], i32 each), where a keeper finds what
 * changed without scanning every entry. The entries follow.
 */
export const DEADLINE_HEADER_BYTES = 64 + 1024 * 8;
/** Entries of the ring of recent writes (a power of two). */
export const RING_ENTRIES = 1024;
const RING_W32 = 16;
export const DEADLINE_ENTRY_BYTES = 16;
/** An entry's deadline word when it holds none. */
export const NO_DEADLINE = 0;
/** recentWrite's answers besides a slot. */
export const RING_PENDING = -1;
export const RING_LOST = -2;
/** i32 index of the header word every deadline write adds 1 to: a keeper looks again at the entries when it moved. */
const WRITES_W32 = 3;
/** The deadline word a keeper leaves when it removed the key for its deadline: no deadline, and watchers say why the key went. */
export const REMOVED_EXPIRED = -2;
const REMOVED_WORD = BigInt(REMOVED_EXPIRED);

/** The bytes of the table of a store of `slots` slots. */
export const deadlineTableBytes = (slots: number): number => DEADLINE_HEADER_BYTES + slots * DEADLINE_ENTRY_BYTES;

/** Writes the header of a new table (its entries are zero: no deadlines). */
export function initDeadlineTable(bytes: Uint8Array, slots: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, 16);
  view.setUint32(0, DEADLINE_MAGIC, true);
  view.setUint32(4, DEADLINE_VERSION, true);
  view.setUint32(8, slots, true);
}

/** Why `bytes` is not the deadline table of a store of `slots` slots, or undefined when it is. */
export function deadlineTableProblem(bytes: Uint8Array, slots: number): string | undefined {
  if (bytes.length !== deadlineTableBytes(slots)) return `it is ${bytes.length} bytes, not ${deadlineTableBytes(slots)}`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, 16);
  const magic = view.getUint32(0, true);
  if (magic !== DEADLINE_MAGIC) return `its magic is 0x${magic.toString(16)}, not 0x${DEADLINE_MAGIC.toString(16)}`;
  const version = view.getUint32(4, true);
  if (version !== DEADLINE_VERSION) return `its version is ${version}, not ${DEADLINE_VERSION}`;
  const tableSlots = view.getUint32(8, true);
  if (tableSlots !== slots) return `it is made for ${tableSlots} slots, the store has ${slots}`;
  return undefined;
}

/**
 * The entries of a table. Writers store the deadline word 0, then the hash, then the deadline;
 * readers load deadline, hash, deadline and accept the pair only when both deadline loads agree,
 * so a hash is never paired with another key's deadline.
 */
export class DeadlineTable {
  private readonly i32: Int32Array;
  private readonly i64: BigInt64Array;

  /** The slots the table has entries for. */
  readonly slots: number;

  constructor(bytes: Uint8Array) {
    this.i32 = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
    this.i64 = new BigInt64Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 3);
    this.slots = (bytes.length - DEADLINE_HEADER_BYTES) / DEADLINE_ENTRY_BYTES;
  }

  /** The deadline (ms since the Unix epoch) slot `index` holds for the key of this hash; NO_DEADLINE when none. */
  read(index: number, hashLo: number, hashHi: number): number {
    const w = (DEADLINE_HEADER_BYTES + index * DEADLINE_ENTRY_BYTES) >>> 2;
    const d = (w + 2) >>> 1;
    for (let attempt = 0; attempt < 3; attempt++) {
      const first = Atomics.load(this.i64, d);
      if (first === 0n || first === REMOVED_WORD) return NO_DEADLINE;
      const lo = Atomics.load(this.i32, w);
      const hi = Atomics.load(this.i32, w + 1);
      if (Atomics.load(this.i64, d) !== first) continue; // rewritten meanwhile: read again
      if (lo !== hashLo || hi !== hashHi) return NO_DEADLINE; // another key's deadline: not this one's
      // Any nonzero i64 is a deadline: before 1970 is long past, far beyond 2^53 ms is never in practice.
      return Number(first);
    }
    return NO_DEADLINE; // rewritten three times while we looked: a writer is busy with it; treat as none
  }

  /** How many deadlines were written (wraps): a keeper compares it with what it saw at its last scan. */
  writes(): number {
    return Atomics.load(this.i32, WRITES_W32);
  }

  /**
   * Every entry holding a deadline (the keeper's scan): its slot, bound hash and deadline. Plain
   * loads: whatever is found is checked again, under the slot's lock, before anything is removed.
   */
  scan(visit: (index: number, hashLo: number, hashHi: number, deadline: number) => void): void {
    const i32 = this.i32;
    const slots = this.slots;
    for (let index = 0, w = DEADLINE_HEADER_BYTES >>> 2; index < slots; index++, w += DEADLINE_ENTRY_BYTES >>> 2) {
      const lo = i32[w + 2]!;
      const hi = i32[w + 3]!;
      if ((lo | hi) === 0 || (lo === REMOVED_EXPIRED && hi === -1)) continue;
      visit(index, i32[w]!, i32[w + 1]!, hi * 2 ** 32 + (lo >>> 0));
    }
  }

  /** The hash an entry is bound to, as [lo, hi] (the keeper and watch reasons check it against a slot's). */
  boundHash(index: number): [number, number] {
    const w = (DEADLINE_HEADER_BYTES + index * DEADLINE_ENTRY_BYTES) >>> 2;
    return [Atomics.load(this.i32, w), Atomics.load(this.i32, w + 1)];
  }

  /** The raw deadline word of an entry, whatever key it is bound to (NO_DEADLINE when none). */
  rawDeadline(index: number): number {
    const w = (DEADLINE_HEADER_BYTES + index * DEADLINE_ENTRY_BYTES) >>> 2;
    return Number(Atomics.load(this.i64, (w + 2) >>> 1));
  }

  /** True when the keeper removed the key of this hash from slot `index` for its deadline (and nothing wrote the entry since). */
  removedExpired(index: number, hashLo: number, hashHi: number): boolean {
    const [lo, hi] = this.boundHash(index);
    return this.rawDeadline(index) === REMOVED_EXPIRED && lo === hashLo && hi === hashHi;
  }

  /** Marks the entry of the key the keeper just removed for its deadline (the slot is held, the hash stays). */
  markRemovedExpired(index: number): void {
    const w = (DEADLINE_HEADER_BYTES + index * DEADLINE_ENTRY_BYTES) >>> 2;
    Atomics.store(this.i64, (w + 2) >>> 1, REMOVED_WORD);
  }

  /** Gives slot `index` the deadline `ms` for the key of this hash (NO_DEADLINE clears it). */
  write(index: number, hashLo: number, hashHi: number, ms: number): void {
    const w = (DEADLINE_HEADER_BYTES + index * DEADLINE_ENTRY_BYTES) >>> 2;
    const d = (w + 2) >>> 1;
    if (ms === NO_DEADLINE) {
      if (Atomics.load(this.i64, d) !== 0n) Atomics.store(this.i64, d, 0n); // a write without a deadline clears it, reading first to leave an idle table's pages clean
      return;
    }
    Atomics.store(this.i64, d, 0n);
    Atomics.store(this.i32, w, hashLo);
    Atomics.store(this.i32, w + 1, hashHi);
    Atomics.store(this.i64, d, BigInt(ms));
    // Into the ring: the slot first, then the sequence tag that says the slot word is this write's.
    const n = Atomics.add(this.i32, WRITES_W32, 1);
    const r = RING_W32 + (n & (RING_ENTRIES - 1)) * 2;
    Atomics.store(this.i32, r + 1, index);
    Atomics.store(this.i32, r, (n + 1) | 0);
  }

  /**
   * The slot of deadline write number `n` (counted by writes()) from the ring: the slot; RING_PENDING when
   * that write has not reached the ring yet; RING_LOST when later writes overwrote it (read everything again).
   */
  recentWrite(n: number): number {
    const r = RING_W32 + (n & (RING_ENTRIES - 1)) * 2;
    const tag = Atomics.load(this.i32, r);
    const index = Atomics.load(this.i32, r + 1);
    if (Atomics.load(this.i32, r) !== tag) return RING_LOST; // rewritten while read: a later write lapped the ring
    if (tag === ((n + 1) | 0)) return index;
    // An older tag: the writer of n is between its count and its tag; a newer one: the ring lapped us.
    return ((tag - (n + 1)) | 0) < 0 ? RING_PENDING : RING_LOST;
  }

  /** The raw deadline of slot `index` for the keeper's heap (NO_DEADLINE for none or removed); checked again before any removal. */
  pendingDeadline(index: number): number {
    if (index < 0 || index >= this.slots) return NO_DEADLINE; // the ring's words are untrusted
    const raw = this.rawDeadline(index);
    return raw === REMOVED_EXPIRED ? NO_DEADLINE : raw;
  }
}

/** True once some process of ours has used deadlines in this store (one byte load). */
export function deadlinesPresent(m: StoreMemory): boolean {
  return Atomics.load(m.u8, DEADLINES_PRESENT_BYTE) !== 0;
}

/** Marks the store as one whose readers must look at deadlines; never cleared. */
export function markDeadlinesPresent(m: StoreMemory): void {
  if (Atomics.load(m.u8, DEADLINES_PRESENT_BYTE) === 0) Atomics.store(m.u8, DEADLINES_PRESENT_BYTE, 1);
}

/** The deadline of the key slot `slotByte` holds now, NO_DEADLINE when none. */
export function slotDeadline(m: StoreMemory, table: DeadlineTable, index: number, slotByte: number): number {
  const w = slotByte >>> 2;
  return table.read(index, Atomics.load(m.i32, w), Atomics.load(m.i32, w + 1));
}

/** True when a deadline is due at `now`. */
export const isDue = (deadline: number, now: number): boolean => deadline !== NO_DEADLINE && deadline <= now;

/**
 * True when the key slot `index` holds is past its deadline: readers of ours treat it as missing.
 * While no process of ours has used deadlines in the store this is one byte load.
 */
export function expiredNow(ctx: KvContext, index: number, slotByte: number): boolean {
  if (Atomics.load(ctx.m.u8, DEADLINES_PRESENT_BYTE) === 0) return false;
  const table = ctx.deadlines ?? ctx.findDeadlines();
  if (table === undefined) return false;
  return isDue(slotDeadline(ctx.m, table, index, slotByte), Date.now());
}
