/**
 * The keeper's expiry: removes keys past their deadline so that C readers see them gone too.
 * Due keys come from a min-heap. It is built from one scan of the deadline table; after that the
 * keeper reads only the table's ring of recent deadline writes (what changed since its last
 * look), and scans the whole table again only when the ring lapped it, when the heap has grown
 * well past the slot count (stale entries), or every RESCAN_MS. A heap entry is never trusted:
 * a key is removed under its slot's seqlock, and only while the slot still holds a key of the
 * hash the deadline was given to and that deadline is still due.
 */
import type { Store } from '../facade/store.js';
import { clearLocked } from '../store/values/clear.js';
import { deadlinesPresent, isDue, NO_DEADLINE, RING_ENTRIES, RING_LOST, RING_PENDING, slotDeadline, type DeadlineTable } from '../store/slot/deadlines.js';
import { escapeKey, type Key } from '../store/keys/key-text.js';
import { readStoredKey } from '../store/keys/list.js';
import { tryLock, unlock } from '../store/sync/seqlock.js';
import { DeadlineHeap } from './heap.js';

/** A full scan of the table at least this often, whatever the ring says (a safety net: the ring misses nothing). */
const RESCAN_MS = 60_000;
/** A ring entry still unwritten after this long is given up on: the whole table is read instead. */
const PENDING_GIVE_UP_MS = 500;
/** A slot a writer holds is tried again this much later. */
const BUSY_RETRY_MS = 5;

/** A key the keeper removed: its name (as keys() gives it), or the slot when its bytes could not be read. */
export interface ExpiredKey {
  key: Key | undefined;
  slot: number;
}

export class Expirer {
  private readonly heap = new DeadlineHeap();
  private table: DeadlineTable | undefined;
  /** The deadline writes read so far (the table's writes() when last caught up); undefined before the first scan. */
  private seenWrites: number | undefined;
  private lastScan = -Infinity;
  /** Since when the ring's next write has been pending (a writer killed between its count and its entry never finishes it). */
  private pendingSince: number | undefined;

  constructor(private readonly store: Store) {}

  /** How many deadlines the heap holds (the last scan's, less those removed since). */
  get pending(): number {
    return this.heap.size;
  }

  /**
   * Looks for due keys and removes them; returns what was removed and the time of the next
   * deadline (Infinity when none is known).
   */
  run(now: number): { removed: ExpiredKey[]; next: number } {
    const removed: ExpiredKey[] = [];
    const table = this.findTable();
    if (table === undefined) return { removed, next: Infinity };
    this.catchUp(table, now);
    const heap = this.heap;
    while (heap.size > 0 && heap.peek() <= now) {
      const slot = heap.peekSlot();
      heap.pop();
      const outcome = this.removeIfDue(table, slot, now);
      if (typeof outcome === 'number') heap.push(outcome, slot);
      else if (outcome !== undefined) removed.push(outcome);
    }
    return { removed, next: heap.peek() };
  }

  private findTable(): DeadlineTable | undefined {
    if (this.table !== undefined) return this.table;
    if (!deadlinesPresent(this.store.memory)) return undefined;
    this.table = this.store.deadlineTable(false);
    return this.table;
  }

  /** Brings the heap up to the table: the ring's new writes, or a whole scan when the ring cannot say. */
  private catchUp(table: DeadlineTable, now: number): void {
    const writes = table.writes();
    let seen = this.seenWrites;
    const behind = seen === undefined ? -1 : (writes - seen) | 0;
    if (seen === undefined || behind < 0 || behind > RING_ENTRIES || now - this.lastScan >= RESCAN_MS || this.heap.size > table.slots + 4 * RING_ENTRIES) {
      this.rescan(table, writes, now);
      return;
    }
    while (seen !== writes) {
      const slot = table.recentWrite(seen);
      if (slot === RING_PENDING) {
        // Its writer is between its count and its ring entry: read it next time, or scan if it never comes.
        this.pendingSince ??= now;
        if (now - this.pendingSince > PENDING_GIVE_UP_MS) {
          this.rescan(table, writes, now);
          return;
        }
        break;
      }
      this.pendingSince = undefined;
      if (slot === RING_LOST) {
        this.rescan(table, writes, now);
        return;
      }
      const deadline = table.pendingDeadline(slot);
      if (deadline !== NO_DEADLINE) this.heap.push(deadline, slot);
      seen = (seen + 1) | 0;
    }
    this.seenWrites = seen;
  }

  /**
   * Every entry with a deadline into a new heap, whatever key it is bound to (checked at its
   * time). `writes` was read before the scan: a deadline given during it is read from the ring.
   */
  private rescan(table: DeadlineTable, writes: number, now: number): void {
    this.pendingSince = undefined;
    const deadlines: number[] = [];
    const slots: number[] = [];
    table.scan((index, _hashLo, _hashHi, deadline) => {
      deadlines.push(deadline);
      slots.push(index);
    });
    this.heap.rebuild(deadlines, slots);
    this.seenWrites = writes;
    this.lastScan = now;
  }

  /**
   * Removes the key of slot `index` if its deadline is due: the removed key; a time to look
   * again (the deadline moved later, or a writer holds the slot); undefined when there is
   * nothing to remove (the key left, or its deadline was removed).
   */
  private removeIfDue(table: DeadlineTable, index: number, now: number): ExpiredKey | number | undefined {
    const store = this.store;
    const m = store.memory;
    const slotByte = m.slotByte(index);
    const deadline = slotDeadline(m, table, index, slotByte);
    if (deadline === NO_DEADLINE) return undefined;
    if (!isDue(deadline, now)) return deadline;
    const epochW = m.epochW32(slotByte);
    if (!tryLock(m.u32, epochW)) return now + BUSY_RETRY_MS;
    // Under the lock: the slot still holds a key whose own deadline is due (a writer of ours may have set it again meanwhile).
    const w = slotByte >>> 2;
    const hashLo = m.i32[w]!;
    const hashHi = m.i32[w + 1]!;
    if ((hashLo | hashHi) === 0 || !isDue(table.read(index, hashLo, hashHi), Date.now())) {
      unlock(m.u32, m.u64, epochW);
      return undefined;
    }
    let key: Key | undefined;
    try {
      key = readStoredKey(store.kv, index);
    } catch {
      key = undefined; // a key with no NUL: removed all the same, reported by its slot
    }
    // Left bound to the hash, marked: watchers of ours say why the key went; a key C sets here later gets no deadline.
    table.markRemovedExpired(index);
    clearLocked(m, index, slotByte);
    store.kv.writeListener.afterWrite(index, false);
    return { key, slot: index };
  }
}

/** A removed key as a log shows it: escaped (a key is any bytes; a line break in one must not forge a log line). */
export const expiredName = (expired: ExpiredKey): string => (expired.key === undefined ? `(slot ${expired.slot})` : escapeKey(expired.key));
