/**
 * The reach: no key sits more than `reach` slots past its home slot, so a lookup that has not
 * found its key after `reach + 1` slots can stop, where C's probes every slot (docs/spec/FORMAT.md §5: no
 * tombstones). It lives in header padding C never reads (layout/constants.ts OURS), shared by
 * every process of ours, with what tells whether it can be trusted:
 *
 * - Our inserters raise it (a CAS max) before they publish a key beyond it.
 * - C writers do not keep it. Each global-epoch move of ours writes its own number into
 *   marks[move mod MOVE_MARKS] (one plain store). `vouched` is walked forward over the marks
 *   (by our writers every fourth move, and by our readers); a move old enough with no mark is
 *   foreign, may have placed a key anywhere, and counts in `foreign_found`.
 * - The reach is trusted while every move since `vouched` is marked ours and
 *   `foreign_scanned === foreign_found`: every foreign move found is covered by a full pass
 *   over the hash words (`rescan`) that began after it and raised the reach to cover it.
 *
 * Move numbers are the global epoch's low word; all comparisons are differences mod 2^32.
 */
import { HEADER, MOVE_MARKS, OURS } from '../../layout/constants.js';
import { homeSlot } from '../../layout/fnv1a.js';
import type { StoreMemory } from '../backing/memory.js';

const GLOBAL_W32 = HEADER.epoch >>> 2;
const MARKS_W32 = OURS.move_marks >>> 2;
const MARK_MASK = MOVE_MARKS - 1;
const VOUCHED_W32 = OURS.vouched >>> 2;
const FOUND_W32 = OURS.foreign_found >>> 2;
const SCANNED_W32 = OURS.foreign_scanned >>> 2;
export const REACH_W32 = OURS.reach >>> 2;
/** A writer of ours walks when its move number is 3 mod 4 (moves ours make are marked within four). */
const WALK_EVERY_MASK = 3;
/** A move without a mark this many moves old is foreign; a younger one may be ours, between its add and its mark. */
const LAGGARD = 6;
/** Walks a reader retries while the newest moves lack their marks (a writer of ours a few instructions behind). */
const READER_RETRIES = 64;
const HALF_RANGE = 0x80000000;

/** After our global-epoch move from `before`: mark it ours, and on every fourth move number advance `vouched`. */
export function markOwnMove(u32: Uint32Array, before: number): void {
  // Plain store: a mark not yet visible to a walker only makes the move look foreign (a spare scan, never a wrong answer).
  u32[MARKS_W32 + (before & MARK_MASK)] = before;
  // Whoever makes a move numbered 3 mod 4 walks: every four moves, whichever process made them.
  if ((before & WALK_EVERY_MASK) !== WALK_EVERY_MASK) return;
  const newest = (before + 1) >>> 0;
  const from = u32[VOUCHED_W32]!; // plain: a stale value only moves the walk to a later write
  const gap = (newest - from) >>> 0;
  // A gap past half the range is `vouched` ahead of us (another walker went on); our readers handle the rest.
  if (gap !== 0 && gap < HALF_RANGE) walk(u32, from, newest);
}

/**
 * Moves `vouched` from `from` toward `newest` (both move numbers, `from` not after `newest`)
 * over marked moves, passing and counting foreign ones. False when it stopped at a young move
 * without a mark (maybe ours, still marking): `vouched` then stays before it.
 */
function walk(u32: Uint32Array, from: number, newest: number): boolean {
  let at = from;
  let foreign = false;
  if (((newest - from) >>> 0) > MOVE_MARKS) {
    // Older marks are overwritten already: those moves cannot be vouched for, so they count as foreign.
    foreign = true;
    at = (newest - MOVE_MARKS) >>> 0;
  }
  let reached = true;
  while (at !== newest) {
    if (u32[MARKS_W32 + (at & MARK_MASK)] !== at) {
      if (((newest - at) >>> 0) < LAGGARD) {
        reached = false;
        break;
      }
      foreign = true;
    }
    at = (at + 1) >>> 0;
  }
  // Counted before `vouched` passes the move: a reader that sees the new `vouched` sees the count.
  if (foreign) Atomics.add(u32, FOUND_W32, 1);
  // A lost CAS means another walker moved `vouched` on: nothing is lost.
  if (at !== from) Atomics.compareExchange(u32, VOUCHED_W32, from, at);
  return reached;
}

/** The reach (plain load: readers call this after an Atomics load of the global epoch, which orders it). */
export function loadReach(m: StoreMemory): number {
  const reach = m.u32[REACH_W32]!;
  return reach < m.slots ? reach : m.slots - 1;
}

/** Raises the reach to at least `distance`; an inserter calls it before publishing a key that far from home. */
export function raiseReach(m: StoreMemory, distance: number): void {
  const u32 = m.u32;
  // Plain first: the reach only grows, so a value already at least `distance` is one (a stale value only sends us to the CAS).
  if (u32[REACH_W32]! >= distance) return;
  for (;;) {
    const reach = Atomics.load(u32, REACH_W32);
    if (reach >= distance) return;
    if (Atomics.compareExchange(u32, REACH_W32, reach, distance) === reach) return;
  }
}

/** Per handle: the global epoch at which this handle last found the reach trusted. */
export class ReachTrust {
  epoch = 0;
  valid = false;
  /** Full passes this handle made over the hashes (tests and benchmarks read it). */
  rescans = 0;
  /** Inserts since this handle's last pass: an insert pays for a pass only every slots/64 of them. */
  inserts = 0;
  /**
   * Whether this handle has made a pass, or created the store: until then it does not trust the
   * padding (a damaged image, or bookkeeping from long ago), and its first lookup that needs the
   * reach makes one pass.
   */
  scanned = false;
  /** At `epoch`, no walk had ever found a foreign move: every move so far was ours, so no C set has placed a key. */
  foreignFree = false;
}

/**
 * Before an insert: when a foreign writer may have placed keys beyond the reach, one pass over
 * the hashes, so the duplicate check after the insert covers them; at most one pass per
 * slots/64 inserts of this handle (O(1) amortized under a C writer that never stops; in
 * between, a copy C placed beyond the reach may stay, as C's own set would leave it).
 */
export function prepareInsert(m: StoreMemory, moves?: number): void {
  const trust = m.trust;
  if (++trust.inserts < m.slots >>> 6) return;
  // With the global epoch the caller just loaded (`moves`) still the one trusted last, no move happened at all.
  if (moves !== undefined && trust.valid && moves >>> 0 === trust.epoch) return;
  if (!reachTrusted(m)) rescan(m);
}

/**
 * True when every key placed by a global-epoch move up to now sits within the reach: moves
 * since `vouched` are all marked ours, and every foreign one found is covered by a rescan.
 */
export function reachTrusted(m: StoreMemory): boolean {
  const u32 = m.u32;
  const trust = m.trust;
  if (!trust.scanned) return false;
  // Acquire: with the epoch unchanged since this handle's last check, no move happened at all.
  if (trust.valid && Atomics.load(u32, GLOBAL_W32) === trust.epoch) return true;
  for (let retry = 0; ; retry++) {
    const from = Atomics.load(u32, VOUCHED_W32);
    // After `from`: `vouched` never passes the global epoch, so `from` is not after `now`.
    const now = Atomics.load(u32, GLOBAL_W32);
    if (from === now || walk(u32, from, now)) {
      // After `vouched`: a foreign move it passed was counted before it moved.
      const found = Atomics.load(u32, FOUND_W32);
      if (found !== Atomics.load(u32, SCANNED_W32)) return false;
      trust.epoch = now;
      trust.valid = true;
      trust.foreignFree = found === 0;
      return true;
    }
    if (retry === READER_RETRIES) return false;
  }
}

/**
 * True when every global-epoch move up to `epoch` (a low word just loaded) was made by a writer
 * of ours: no C set has ever placed a key in this store, so it holds no copy C duplicated
 * (docs/spec/FORMAT.md §9 Q1), and a key unset by us is gone. Reads only this handle's trust.
 */
export function onlyOurMoves(m: StoreMemory, epoch: number): boolean {
  const trust = m.trust;
  return trust.valid && trust.foreignFree && trust.epoch === epoch >>> 0;
}

/**
 * One pass over the hash words: raises the reach to the farthest key from its home, then marks
 * the foreign moves found so far as covered. Every key placed by a move before the pass began
 * (C publishes the hash before it moves the global epoch) is seen by it.
 */
export function rescan(m: StoreMemory): void {
  const u32 = m.u32;
  const i32 = m.i32;
  let found = Atomics.load(u32, FOUND_W32);
  const from = Atomics.load(u32, VOUCHED_W32);
  // After `found`: every foreign move counted in it came before `start`, so its key is visible below.
  const start = Atomics.load(u32, GLOBAL_W32);
  // This pass vouches for the moves from `from` to `start` without a walk: if any lacks a mark (C's,
  // or one of ours still marking), one more is counted, so `foreign found` is 0 only while every move
  // ever made was ours (onlyOurMoves relies on it).
  if (!allMarked(u32, from, start)) found = (Atomics.add(u32, FOUND_W32, 1) + 1) >>> 0;
  const n = m.slots;
  const step = m.slotSize >>> 2;
  const mask = (n & (n - 1)) === 0 ? n - 1 : -1;
  let farthest = 0;
  for (let index = 0, w = m.slotsStart >>> 2; index < n; index++, w += step) {
    const lo = i32[w]!;
    const hi = i32[w + 1]!;
    if ((lo | hi) === 0) continue;
    // A power-of-two table takes the low bits; any other needs the 64-bit modulo.
    const home = mask >= 0 ? lo & mask : homeSlot(hi, lo, n);
    const distance = index >= home ? index - home : index - home + n;
    if (distance > farthest) farthest = distance;
  }
  raiseReach(m, farthest);
  // Moves before `start` are covered by this pass: walkers need not judge them.
  advanceVouched(u32, from, start);
  // Last: a reader that sees the count sees the reach raised above.
  Atomics.store(u32, SCANNED_W32, found);
  m.trust.valid = false;
  m.trust.rescans++;
  m.trust.inserts = 0;
  m.trust.scanned = true;
}

/** True when every move from `from` up to (not including) `to` carries its mark. */
function allMarked(u32: Uint32Array, from: number, to: number): boolean {
  if (((to - from) >>> 0) > MOVE_MARKS) return false; // older marks are overwritten already
  for (let at = from; at !== to; at = (at + 1) >>> 0) if (u32[MARKS_W32 + (at & MARK_MASK)] !== at) return false;
  return true;
}

/** Moves `vouched` up to `target` unless a walker has taken it that far; `from` was read before `target`, so is not after it. */
function advanceVouched(u32: Uint32Array, from: number, target: number): void {
  const span = (target - from) >>> 0;
  let seen = from;
  while (((seen - from) >>> 0) < span) {
    const previous = Atomics.compareExchange(u32, VOUCHED_W32, seen, target);
    if (previous === seen) return;
    // Someone moved it: measured from `from`, still short of `target` means try again.
    seen = previous;
  }
}
