import { KEY_MAX, SLOT } from '../../layout/constants.js';
import { keyByte, type EncodedKey, type KeyCodec } from './key-codec.js';
import type { StoreMemory } from '../backing/memory.js';
import { loadReach, reachTrusted, REACH_W32, rescan } from './reach.js';

/*
 * Probing reads hashes and key bytes with plain Int32Array loads: Atomics.load is a call in
 * V8 and costs several times more, and a stale value here is harmless because every use is
 * confirmed under the seqlock (a writer's CAS, a reader's second epoch load) before it counts.
 * Hot paths read the key's cache entry (`key.entry`) once and pass it down.
 */

/** True when the slot at `slotByte` stores exactly the key of entry `e` (bytes then NUL). */
export function storedKeyIs(m: StoreMemory, slotByte: number, e: EncodedKey): boolean {
  // Word by word: C and we both pad a stored key with zeros, so this settles nearly every match.
  const i32 = m.i32;
  const at32 = (slotByte + SLOT.key) >>> 2;
  const count = e.wordCount;
  if (count <= 4) {
    // The common short key (up to four words), from the entry's own fields.
    const same =
      i32[at32] === e.word0 && (count < 2 || i32[at32 + 1] === e.word1) && (count < 3 || i32[at32 + 2] === e.word2) && (count < 4 || i32[at32 + 3] === e.word3);
    return same || storedKeyIsSlow(m, slotByte, e);
  }
  const words = e.words;
  for (let i = 0; i < count; i++) if (i32[at32 + i] !== words[i]) return storedKeyIsSlow(m, slotByte, e);
  return true;
}

/** The byte-exact comparison: bytes past the NUL are not compared. */
function storedKeyIsSlow(m: StoreMemory, slotByte: number, e: EncodedKey): boolean {
  const u8 = m.u8;
  const at = slotByte + SLOT.key;
  const length = e.length;
  for (let i = 0; i < length; i++) if (u8[at + i] !== keyByte(e, i)) return false;
  return u8[at + length] === 0;
}

/** Hash and key bytes both match: the slot holds this key now. */
export function slotHoldsKey(m: StoreMemory, slotByte: number, key: KeyCodec): boolean {
  return slotHoldsEntry(m, slotByte, key.entry);
}

/** slotHoldsKey for a cache entry the caller already holds. */
export function slotHoldsEntry(m: StoreMemory, slotByte: number, e: EncodedKey): boolean {
  const w = slotByte >>> 2;
  return m.i32[w] === e.hashLo && m.i32[w + 1] === e.hashHi && storedKeyIs(m, slotByte, e);
}

/** The first slot on the key's probe path that holds it (what C readers see), or -1. */
export function findKey(m: StoreMemory, key: KeyCodec): number {
  const e = key.entry;
  // Keys sit within the reach of their home (reach.ts): the probe stops there.
  const reach = loadReach(m);
  const found = probeSpan(m, e, e.home, reach + 1);
  return found >= 0 ? found : confirmMiss(m, e, reach);
}

/**
 * Not within `reach` of home: a miss when the reach is trusted; when a foreign writer may have
 * placed keys beyond it, one pass over the hashes raises it first. Either way the reach may have
 * grown since it was loaded: the slots it added are probed too.
 */
function confirmMiss(m: StoreMemory, e: EncodedKey, reach: number): number {
  if (reach >= m.slots - 1) return -1; // every slot was probed
  if (!reachTrusted(m)) rescan(m);
  const wider = loadReach(m);
  if (wider <= reach) return -1;
  const from = e.home + reach + 1;
  return probeSpan(m, e, from < m.slots ? from : from - m.slots, wider - reach);
}

/** The first slot of `count` from `index` on (wrapping) that holds the key of entry `e`, or -1. */
function probeSpan(m: StoreMemory, e: EncodedKey, index: number, count: number): number {
  // Everything the loop reads is hoisted into locals, and the inner loop compares hashes
  // only (the key bytes are compared outside it, on a hash match): this is most of a lookup.
  const n = m.slots;
  const i32 = m.i32;
  const slotsStart = m.slotsStart;
  const slotSize = m.slotSize;
  const hashLo = e.hashLo;
  const hashHi = e.hashHi;
  let probed = 0;
  for (;;) {
    let w = (slotsStart + index * slotSize) >>> 2;
    while (i32[w] !== hashLo || i32[w + 1] !== hashHi) {
      if (++probed >= count) return -1;
      if (++index === n) index = 0;
      w = (slotsStart + index * slotSize) >>> 2;
    }
    // w * 4, not w << 2: a slot table may pass 2^31 bytes, where a 32-bit shift turns negative.
    if (storedKeyIs(m, w * 4, e)) return index;
    if (++probed >= count) return -1;
    if (++index === n) index = 0;
  }
}

/**
 * findKey through the handle's memory of where each key was found. Every insert, ours or
 * another process's, moves the global epoch (docs/spec/FORMAT.md §7), so while it has moved only by
 * this handle's own writes no earlier copy can have appeared on the key's path: the slot found
 * then is still the first, if it still holds the key (an unset moves no global epoch, so
 * hash and key bytes are checked on every use). A missing key stays missing the same way.
 */
export function locateKey(m: StoreMemory, key: KeyCodec): number {
  // Acquire: an insert whose epoch bump we see has its slot visible to the probe below.
  const epoch = Atomics.load(m.i32, m.globalEpochW32);
  if (epoch !== key.expectedEpoch) {
    key.expectedEpoch = epoch;
    key.generation++;
  }
  const entry = key.entry;
  if (entry.generation === key.generation) {
    const slot = entry.slot;
    if (slot < 0) return slot;
    // Loads the value's first word now (its home, where it nearly always is): in a large store the
    // slot and the value are both cache misses, and issued together they overlap (the caller's
    // copy would otherwise wait for the slot's val_off first). Compared so the load is kept, and
    // not stored (a store of a non-small integer costs more than the load).
    if (m.i32[(m.arenaStart + m.homeOffset(slot)) >>> 2] === WARM_MARK) key.warm++;
    if (slotHoldsEntry(m, m.slotByte(slot), entry)) return slot;
  }
  const found = findKey(m, key);
  entry.slot = found;
  entry.generation = key.generation;
  return found;
}

/** Any value: locateKey only needs its early load compared with something. */
const WARM_MARK = 0x5eed;

/** probeForWrite's answer when the key's path holds neither the key nor an empty slot. */
export const PATH_FULL = -0x80000000;

/**
 * A writer's probe: walks the key's path to the first slot that holds it or is empty, as C's
 * set does. Returns the slot index when it holds the key, `-1 - index` when it is empty, and
 * PATH_FULL when the path has neither. With `passBusyEmpty`, an empty slot whose epoch is odd
 * (a writer inside, maybe one that died) is passed over, as C passes over every busy slot.
 */
export function probeForWrite(m: StoreMemory, key: KeyCodec, passBusyEmpty: boolean): number {
  const e = key.entry;
  const n = m.slots;
  const i32 = m.i32;
  const slotsStart = m.slotsStart;
  const slotSize = m.slotSize;
  const hashLo = e.hashLo;
  const hashHi = e.hashHi;
  let index = e.home;
  for (let probed = 0; probed < n; probed++) {
    const w = (slotsStart + index * slotSize) >>> 2;
    const lo = i32[w]!;
    const hi = i32[w + 1]!;
    if (lo === hashLo && hi === hashHi) {
      if (storedKeyIs(m, w * 4, e)) return index;
    } else if ((lo | hi) === 0 && !(passBusyEmpty && (Atomics.load(i32, w + (SLOT.epoch >>> 2)) & 1) !== 0)) {
      return -1 - index;
    }
    if (++index === n) index = 0;
  }
  return PATH_FULL;
}

/** firstEmptyWithoutCopy's answer when the key's path holds a copy of it. */
export const COPY_ON_PATH = -2;

/**
 * The first empty slot on the key's path, looking on to the reach for a copy of the key (one
 * past a hole): COPY_ON_PATH when there is one, PATH_FULL when no slot is empty.
 */
export function firstEmptyWithoutCopy(m: StoreMemory, e: EncodedKey): number {
  const i32 = m.i32;
  const n = m.slots;
  const slotsStart = m.slotsStart;
  const slotSize = m.slotSize;
  const hashLo = e.hashLo;
  const hashHi = e.hashHi;
  const span = loadReach(m) + 1;
  let index = e.home;
  let empty = -1;
  for (let probed = 0; probed < n; probed++) {
    const w = (slotsStart + index * slotSize) >>> 2;
    const lo = i32[w]!;
    const hi = i32[w + 1]!;
    if (lo === hashLo && hi === hashHi) {
      if (storedKeyIs(m, w * 4, e)) return COPY_ON_PATH; // setSlowly overwrites it, or fills the hole before it and removes it
    } else if ((lo | hi) === 0 && empty < 0) {
      empty = index;
    }
    if (empty >= 0 && probed + 1 >= span) return empty;
    if (++index === n) index = 0;
  }
  return empty < 0 ? PATH_FULL : empty;
}

/**
 * Every slot holding the key within the reach of its home (or `distance`, if farther), in
 * probe order; undefined when there is at most one. Run after an insert: a racing inserter of
 * ours raised the reach before publishing its copy, so the reach loaded here covers it.
 */
export function findOtherCopies(m: StoreMemory, key: KeyCodec, distance: number): number[] | undefined {
  // An Atomics load after our publish: the plain loads below cannot be answered before the
  // publish is visible, so of two racing inserters at least one sees the other.
  const loaded = Atomics.load(m.u32, REACH_W32);
  const n = m.slots;
  const span = Math.min(Math.max(loaded, distance) + 1, n);
  const e = key.entry;
  const i32 = m.i32;
  const slotsStart = m.slotsStart;
  const slotSize = m.slotSize;
  const hashLo = e.hashLo;
  const hashHi = e.hashHi;
  let copies: number[] | undefined;
  let first = -1;
  for (let probed = 0, index = e.home; probed < span; probed++) {
    const w = (slotsStart + index * slotSize) >>> 2;
    if (i32[w] === hashLo && i32[w + 1] === hashHi && storedKeyIs(m, w * 4, e)) {
      if (first < 0) first = index;
      else (copies ??= [first]).push(index);
    }
    if (++index === n) index = 0;
  }
  return copies;
}

/** Length of the NUL-terminated key at a slot, or -1 when its 64 bytes hold no NUL. */
export function storedKeyLength(m: StoreMemory, slotByte: number): number {
  const at = slotByte + SLOT.key;
  for (let i = 0; i < KEY_MAX; i++) if (m.u8[at + i] === 0) return i;
  return -1;
}
