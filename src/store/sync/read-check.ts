/**
 * The one check every reader of ours applies after copying a slot's bytes (docs/spec/FORMAT.md §6, with
 * the epoch-return rule of docs/format.md "Concurrency"): the copy stands only if the slot still
 * holds the key's hash, its epoch is the even value loaded before the copy, and the global
 * epoch moved too little for a C reset and climb back to that value to fit in between.
 */
import { SLOT } from '../../layout/constants.js';
import type { StoreMemory } from '../backing/memory.js';

const EPOCH_W32 = SLOT.epoch >>> 2;

/**
 * True when a copy of slot `slotByte` taken after loading global epoch `globalBefore` (low word,
 * as an int32) and then slot epoch `before` (low word, even) is sound to accept now.
 */
export function copyStillValid(m: StoreMemory, slotByte: number, before: number, hashLo: number, hashHi: number, globalBefore: number): boolean {
  const w = slotByte >>> 2;
  const i32 = m.i32;
  // The hash between the copy and the second epoch load: a hash a re-insert wrote comes with that insert's (odd or later) epoch.
  // Then the same even epoch: no writer entered, unless an epoch came back; ours never bring one back.
  if (i32[w] !== hashLo || i32[w + 1] !== hashHi || Atomics.load(m.u32, w + EPOCH_W32) !== before) return false;
  // Epoch 2 (0 before any write) comes back after a C unset (hash 0, epoch 2): a reader held up between its hash and
  // epoch loads while C unsets, sets and unsets again would see the hash and then 2; any set in between moved the global epoch.
  if (before <= 2) return Atomics.load(m.i32, m.globalEpochW32) === globalBefore;
  return globalMovedTooLittle(m, before, globalBefore);
}

/** C's unset resets to 2 (retrain to 4): climbing back to `before` takes (before − 2) / 2 writes, each moving the global epoch. */
function globalMovedTooLittle(m: StoreMemory, before: number, globalBefore: number): boolean {
  return ((Atomics.load(m.i32, m.globalEpochW32) - globalBefore) >>> 0) < (before - 2) >>> 1;
}

/** The global epoch's low word as an int32: load it before the slot epoch a copy is checked against. */
export function globalEpochNow(m: StoreMemory): number {
  return Atomics.load(m.i32, m.globalEpochW32);
}
