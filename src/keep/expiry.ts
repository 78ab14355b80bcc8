/**
 * The keeper's expiry: removes keys past their deadline so that C readers see them gone too.
 * Due keys come from a min-heap built from a scan of the deadline table; the table is scanned
 * again only when its write counter moved (a deadline was given) or every RESCAN_MS (a C set
 * or unset changes no counter of ours, but a stale heap entry is only checked, never trusted).
 * A key is removed under its slot's seqlock, and only while the slot still holds a key of the
 * hash the deadline was given to and that deadline is still due.
 */
import type { Store } from '../facade/store.js';
import { clearLocked } from '../store/clear.js';
import { isDue, NO_DEADLINE, slotDeadline, type DeadlineTable, deadlinesPresent } from '../store/deadlines.js';
import { escapeKey, type Key } from '../store/key-text.js';
import { readStoredKey } from '../store/list.js';
import { tryLock, unlock } from '../store/seqlock.js';
import { DeadlineHeap } from './heap.js';

/** A full scan of the table at least this often, whatever the write counter says. */
const RESCAN_MS = 10_000;
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
  private seenWrites = -1;
  private lastScan = -Infinity;

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
    // The counter before the scan: a deadline given during the scan moves it again, and the next run scans again.
    const writes = table.writes();
    if (writes !== this.seenWrites || now - this.lastScan >= RESCAN_MS) {
      this.seenWrites = writes;
      this.lastScan = now;
      this.rescan(table);
    }
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

  private rescan(table: DeadlineTable): void {
    const m = this.store.memory;
    const i32 = m.i32;
    const deadlines: number[] = [];
    const slots: number[] = [];
    table.scan((index, hashLo, hashHi, deadline) => {
      const w = m.slotByte(index) >>> 2;
      // Only a deadline bound to the key the slot holds now counts (plain loads: checked again under the lock).
      if (i32[w] !== hashLo || i32[w + 1] !== hashHi) return;
      deadlines.push(deadline);
      slots.push(index);
    });
    this.heap.rebuild(deadlines, slots);
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
    store.kv.notify(index, false);
    return { key, slot: index };
  }
}

/** A removed key as a log shows it: escaped (a key is any bytes; a line break in one must not forge a log line). */
export const expiredName = (expired: ExpiredKey): string => (expired.key === undefined ? `(slot ${expired.slot})` : escapeKey(expired.key));
