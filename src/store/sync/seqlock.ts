/**
 * The per-slot seqlock (docs/spec/FORMAT.md §6) on the low 32-bit word of the slot's u64 epoch.
 * Parity and the writer's CAS live in the low word; only a release from 0xFFFFFFFF must
 * carry into the high word, and only the lock holder can be doing that.
 */
import { U32_MAX } from '../../layout/constants.js';
import { markOwnMove } from '../keys/reach.js';


/** Takes the slot: CAS of an even epoch e to e+1. False when odd (a writer is inside) or lost. */
export function tryLock(u32: Uint32Array, epochW32: number): boolean {
  const e = u32[epochW32]!; // a plain load is enough: a stale value only makes the CAS fail
  if ((e & 1) !== 0) return false;
  // CAS, not store: a writer of another process may take the slot between our load and here.
  return Atomics.compareExchange(u32, epochW32, e, e + 1) === e;
}

/**
 * Releases a slot we hold: epoch+1 makes it even again and tells readers the value changed.
 * The only writers that store over a held epoch are C's unset and retrain (they take no lock):
 * when one left an even epoch, that release stands and adding 1 would leave the slot odd for good.
 */
export function unlock(u32: Uint32Array, u64: BigUint64Array, epochW32: number): void {
  // A plain read: no writer but us changes a held epoch, except those C stores; a stale read is our own odd value.
  const now = u32[epochW32]!;
  if ((now & 1) === 0) return;
  if (now !== U32_MAX) {
    Atomics.add(u32, epochW32, 1);
  } else {
    Atomics.add(u64, epochW32 >>> 1, 1n); // the rare carry into the high word
  }
}

/**
 * Global epoch +1 in halves; the carry lands a moment later, once every 2^32 writes. The move
 * is marked as ours (keys/reach.ts), so our lookups know no C writer made it.
 * Returns the low word before the add, as an int32.
 */
export function bumpGlobalEpoch(u32: Uint32Array, globalW32: number): number {
  const before = Atomics.add(u32, globalW32, 1);
  if (before === U32_MAX) Atomics.add(u32, globalW32 + 1, 1);
  markOwnMove(u32, before);
  return before | 0;
}
