/**
 * The few library internals the CLI needs that the public Store API does not offer, kept in
 * one place: clearing a slot a dead writer left locked and removing one copy of a duplicated key (doctor
 * --repair), and the probe helpers. Everything here goes through the same seqlock rules as
 * the library; what it takes from the store core comes through facade/inspect.ts.
 */
import { SLOT } from '../layout/constants.js';
import { homeSlot } from '../layout/fnv1a.js';
import { clearLocked, findKey, type Key, slotHoldsKey, tryLock, unlock } from '../facade/inspect.js';
import type { Store } from '../facade/store.js';

/** The slot a key's probe starts at. */
export function homeOf(hash: bigint, slots: number): number {
  return homeSlot(Number(hash >> 32n) | 0, Number(hash & 0xffffffffn) | 0, slots);
}

/** How many slots past its home slot `index` is on the probe path (0 = at home). */
export function probeDistance(hash: bigint, index: number, slots: number): number {
  return (index - homeOf(hash, slots) + slots) % slots;
}

/**
 * Clears a slot left odd by a dead writer, whatever it held: its key and value are whatever the
 * writer had stored when it died, and nothing in the slot tells a whole value from a partial one
 * (no checksum, and val_len, the bytes and the key are stored in separate steps under one lock).
 * Only if the epoch is still exactly `oddEpoch`, the odd epoch doctor saw stay put across its wait.
 * Leaves the slot empty at epoch `oddEpoch` + 3: even, and above any epoch a reader may hold.
 */
export function clearStuckSlot(store: Store, index: number, oddEpoch: bigint): boolean {
  store.live();
  const m = store.memory;
  const { u64 } = m;
  const slotByte = m.slotByte(index);
  const epoch64 = (slotByte + SLOT.epoch) >>> 3;
  if ((oddEpoch & 1n) === 0n) return false;
  // odd to odd: readers and writers keep backing off, and the CAS fails if anyone moved the slot since the samples.
  if (Atomics.compareExchange(u64, epoch64, oddEpoch, oddEpoch + 2n) !== oddEpoch) return false;
  // Cleared as unset clears, value and key whatever the scrub mode (nobody should find a partial value again),
  // and released forward to oddEpoch + 3: above any epoch a reader sampled before the writer died.
  clearLocked(m, index, slotByte, true);
  store.kv.writeListener.afterWrite(index, false);
  return true;
}

/**
 * Finishes an unset that stopped half-way: an empty slot (hash 0) at even epoch `epoch` that
 * still holds a key or a value length. Only if the slot is still at that epoch and empty; it is
 * cleared as unset clears (key and value zeroed) and released to `epoch` + 2.
 */
export function finishUnset(store: Store, index: number, epoch: bigint): boolean {
  store.live();
  const m = store.memory;
  const slotByte = m.slotByte(index);
  if ((epoch & 1n) === 1n) return false;
  // even to odd, only from the epoch sampled: a writer that took the slot since wins, and nothing is cleared.
  if (Atomics.compareExchange(m.u64, (slotByte + SLOT.epoch) >>> 3, epoch, epoch + 1n) !== epoch) return false;
  if (Atomics.load(m.u64, slotByte >>> 3) !== 0n) {
    unlock(m.u32, m.u64, m.epochW32(slotByte)); // a key arrived between the samples and the lock: not ours to clear
    return false;
  }
  clearLocked(m, index, slotByte, true);
  store.kv.writeListener.afterWrite(index, false);
  return true;
}

/**
 * Removes the copy of `key` at `index`, when it is not the copy readers find (a stale
 * duplicate, docs/spec/FORMAT.md §9 Q1): takes its seqlock, checks it still holds the key and that an
 * earlier copy exists, and clears it as unset does. False when any of that does not hold.
 */
export function removeStaleCopy(store: Store, key: Key, index: number): boolean {
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
