/**
 * The few library internals the CLI needs that the public Store API does not offer, kept in
 * one place: freeing a slot by index and removing one copy of a duplicated key (doctor
 * --repair), and the probe helpers. Everything here goes through the same seqlock rules as
 * the library.
 */
import { SLOT } from '../layout/constants.js';
import { homeSlot } from '../layout/fnv1a.js';
import { clearLocked } from '../store/kv.js';
import { findKey, slotHoldsKey } from '../store/probe.js';
import { tryLock, unlock } from '../store/seqlock.js';
import type { Store } from '../store/store.js';

/** The slot a key's probe starts at. */
export function homeOf(hash: bigint, slots: number): number {
  return homeSlot(Number(hash >> 32n) | 0, Number(hash & 0xffffffffn) | 0, slots);
}

/** How many slots past its home slot `index` is on the probe path (0 = at home). */
export function probeDistance(hash: bigint, index: number, slots: number): number {
  return (index - homeOf(hash, slots) + slots) % slots;
}

/** The index of the slot readers find for `key` (the first copy on its probe path), or -1. */
export function slotIndexOf(store: Store, key: string): number {
  store.live();
  store.kv.key.encode(key);
  return findKey(store.memory, store.kv.key);
}

/**
 * Releases a slot left odd by a dead writer that cannot be retrained by key (it holds no key, or
 * not the copy readers find): epoch e (odd) → e + 1, only if it is still exactly `oddEpoch`.
 */
export function releaseOddSlot(store: Store, index: number, oddEpoch: bigint): boolean {
  store.live();
  const m = store.memory;
  const at = (m.slotByte(index) + SLOT.epoch) >>> 3;
  if ((oddEpoch & 1n) === 0n) return false;
  return Atomics.compareExchange(m.u64, at, oddEpoch, oddEpoch + 1n) === oddEpoch;
}

/**
 * Removes the copy of `key` at `index`, when it is not the copy readers find (a stale
 * duplicate, docs/spec/FORMAT.md §9 Q1): takes its seqlock, checks it still holds the key and that an
 * earlier copy exists, and clears it as unset does. False when any of that does not hold.
 */
export function removeStaleCopy(store: Store, key: string, index: number): boolean {
  store.live();
  const m = store.memory;
  const codec = store.kv.key;
  codec.encode(key);
  const first = findKey(m, codec);
  if (first < 0 || first === index) return false;
  const slotByte = m.slotByte(index);
  const epochW = m.epochW32(slotByte);
  if (!tryLock(m.u32, epochW)) return false;
  if (!slotHoldsKey(m, slotByte, codec)) {
    unlock(m.u32, m.u64, epochW);
    return false;
  }
  clearLocked(m, index, slotByte);
  return true;
}
