import { KEY_MAX, SLOT } from '../layout/constants.js';
import type { KeyCodec } from './key-codec.js';
import type { StoreMemory } from './memory.js';

/** True when the slot at `slotByte` stores exactly the encoded key (bytes then NUL). */
export function keyBytesMatch(m: StoreMemory, slotByte: number, key: KeyCodec): boolean {
  const u8 = m.u8;
  const at = slotByte + SLOT.key;
  const bytes = key.bytes;
  const length = key.length;
  for (let i = 0; i < length; i++) if (u8[at + i] !== bytes[i]) return false;
  return u8[at + length] === 0;
}

/*
 * Probing reads hashes with plain Int32Array loads: Atomics.load is a call in V8 and costs
 * several times more, and a stale hash here is harmless because every use is confirmed
 * under the seqlock (a writer's CAS, a reader's second epoch load) before it counts.
 */

/** Hash and key bytes both match: the slot holds this key now. */
export function slotHoldsKey(m: StoreMemory, slotByte: number, key: KeyCodec): boolean {
  const w = slotByte >>> 2;
  return m.i32[w] === key.hash.lo && m.i32[w + 1] === key.hash.hi && keyBytesMatch(m, slotByte, key);
}

/** The hash still equals the key's: used after a seqlock read to reject a slot unset meanwhile. */
export function hashStillMatches(m: StoreMemory, slotByte: number, key: KeyCodec): boolean {
  const w = slotByte >>> 2;
  return m.i32[w] === key.hash.lo && m.i32[w + 1] === key.hash.hi;
}

/** The first slot on the key's probe path that holds it (what C readers see), or -1. */
export function findKey(m: StoreMemory, key: KeyCodec): number {
  // Everything the loop reads is hoisted into locals, and the inner loop compares hashes
  // only (the key bytes are compared outside it, on a hash match): this is most of a lookup.
  const n = m.slots;
  const i32 = m.i32;
  const slotsStart = m.slotsStart;
  const slotSize = m.slotSize;
  const hashLo = key.hash.lo;
  const hashHi = key.hash.hi;
  let index = key.home;
  let probed = 0;
  for (;;) {
    let w = (slotsStart + index * slotSize) >>> 2;
    while (i32[w] !== hashLo || i32[w + 1] !== hashHi) {
      if (++probed === n) return -1;
      if (++index === n) index = 0;
      w = (slotsStart + index * slotSize) >>> 2;
    }
    if (keyBytesMatch(m, w << 2, key)) return index;
    if (++probed === n) return -1;
    if (++index === n) index = 0;
  }
}

/** Result of one pass for a writer: where the key is, or the first empty slot on its path. */
export interface WriterProbe {
  match: number;
  empty: number;
}

/**
 * A writer's probe: walks the key's path to the first slot that holds the key or is empty,
 * as C's set does (both -1 when the path has neither: the store is full). With
 * `passBusyEmpty`, an empty slot whose epoch is odd (a writer inside, maybe one that died)
 * is passed over, as C passes over every busy slot.
 */
export function probeForWrite(m: StoreMemory, key: KeyCodec, out: WriterProbe, passBusyEmpty = false): void {
  const n = m.slots;
  const i32 = m.i32;
  const slotsStart = m.slotsStart;
  const slotSize = m.slotSize;
  const hashLo = key.hash.lo;
  const hashHi = key.hash.hi;
  let index = key.home;
  out.match = -1;
  out.empty = -1;
  for (let probed = 0; probed < n; probed++) {
    const w = (slotsStart + index * slotSize) >>> 2;
    const lo = i32[w]!;
    const hi = i32[w + 1]!;
    if (lo === hashLo && hi === hashHi && keyBytesMatch(m, w << 2, key)) {
      out.match = index;
      return;
    }
    if ((lo | hi) === 0 && !(passBusyEmpty && (Atomics.load(m.u32, w + (SLOT.epoch >>> 2)) & 1) !== 0)) {
      out.empty = index;
      return;
    }
    if (++index === n) index = 0;
  }
}

/** Every slot holding the key, in probe order from its home slot (normally one). */
export function findAllCopies(m: StoreMemory, key: KeyCodec): number[] {
  // An acquire load after our publish (a release): the plain loads below cannot be answered
  // before the publish is visible, even on weakly ordered CPUs, so two racing inserters see each other.
  Atomics.load(m.i32, 0);
  const copies: number[] = [];
  const n = m.slots;
  let index = key.home;
  for (let probed = 0; probed < n; probed++) {
    if (slotHoldsKey(m, m.slotByte(index), key)) copies.push(index);
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
