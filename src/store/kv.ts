/**
 * The key-value operations of docs/spec/FORMAT.md §7 (set, get, unset, append, list, mop, purge),
 * leaving the same bytes as the C library, with the deliberate differences of docs/format.md:
 * no duplicate keys, bounds checked on every access, relocated values brought home.
 */
import { contested, describe, SplinterError } from '../errors.js';
import {
  HEADER,
  KEY_MAX,
  SCRUB_LINE,
  SLOT,
  SlotType,
  SPL_SYS_AUTO_SCRUB,
  SPL_SYS_HYBRID_SCRUB,
  type Mop,
} from '../layout/constants.js';
import type { KvContext } from './context.js';
import { evacuateRelocated, VAL_BRK_W32 } from './relocation.js';
import type { StoreMemory } from './memory.js';
import {
  findOtherCopies,
  firstEmptyWithoutCopy,
  locateKey,
  PATH_FULL,
  probeForWrite,
  storedKeyIs,
  slotHoldsKey,
  storedKeyLength,
} from './probe.js';
import { lockKey, lockSlotHoldingKey } from './locate.js';
import { pulseSlot } from './pulse.js';
import { copyStillValid } from './read-check.js';
import { onlyOurMoves, prepareInsert, raiseReach } from './reach.js';
import { bumpGlobalEpoch, tryLock, unlock } from './seqlock.js';
import { holdsU64, isU64Value, notU64 } from './u64-slot.js';

const utf8Decoder = new TextDecoder();

/** True when a value of `length` bytes at arena offset `offset` cannot be a sound value of this store. */
export function valueOutOfBounds(m: StoreMemory, offset: number, length: number): boolean {
  return length > m.maxStoredLength || length > m.arenaSize || offset > m.arenaSize - length;
}

export function outOfArena(m: StoreMemory, index: number, offset: number, length: number): SplinterError {
  return new SplinterError(
    'ECORRUPT',
    `slot ${index} points its value at arena offset ${offset} + ${length} bytes; values are at most ${m.maxValueSize} bytes inside the ${m.arenaSize}-byte arena`,
  );
}

function checkValueLength(m: StoreMemory, length: number): void {
  if (length < 1 || length > m.maxValueSize) {
    throw new SplinterError('EMSGSIZE', `a value is 1..${m.maxValueSize} bytes in this store, received ${length} bytes`);
  }
}

/**
 * Makes a slot we hold use its own value region again, moving the first `keepLength` bytes
 * of a value that C relocated (docs/spec/FORMAT.md §9 Q3), so no write of ours lands in another
 * slot's bytes. Returns the home offset, or -1 when the value is too long to move home.
 */
export function claimHomeRegion(m: StoreMemory, index: number, slotByte: number, keepLength: number): number {
  const home = m.homeOffset(index);
  const w = (slotByte + SLOT.val_off) >>> 2;
  const offset = m.u32[w]!; // we hold the slot: no writer of ours moves it
  if (offset !== home) {
    if (keepLength > m.maxValueSize) return -1;
    if (keepLength > 0 && offset <= m.arenaSize - keepLength) {
      m.u8.copyWithin(m.arenaStart + home, m.arenaStart + offset, m.arenaStart + offset + keepLength);
    }
    Atomics.store(m.u32, w, home);
  }
  return home;
}

/**
 * Zeroes what the mop mode says around a new value of `length` bytes: C zeroes from the region
 * start, then copies the value over the first `length` bytes, so zeroing only the tail leaves
 * the same bytes for less work.
 */
function scrub(m: StoreMemory, regionStart: number, length: number): void {
  const flags = m.u8[HEADER.core_flags]!; // a mode change racing a set may apply either way, as in C
  let end = 0;
  if ((flags & SPL_SYS_HYBRID_SCRUB) !== 0) end = Math.min((length + SCRUB_LINE - 1) & -SCRUB_LINE, m.maxValueSize);
  else if ((flags & SPL_SYS_AUTO_SCRUB) !== 0) end = m.maxValueSize;
  if (end > length) zeroBytes(m, regionStart + length, regionStart + end);
}

/** Zeroes store bytes [from, to): whole words where both ends are aligned and the span is short (fill() is a call). */
function zeroBytes(m: StoreMemory, from: number, to: number): void {
  if (to - from > 128) {
    m.u8.fill(0, from, to);
  } else if (((from | to) & 3) === 0) {
    const i32 = m.i32;
    for (let w = from >>> 2; w < to >>> 2; w++) i32[w] = 0;
  } else {
    const u8 = m.u8;
    for (let i = from; i < to; i++) u8[i] = 0;
  }
}

/** Writes the value and, for a slot that was empty, the key and its hash; the caller holds the slot. */
function writeLocked(ctx: KvContext, index: number, slotByte: number, value: Uint8Array, length: number, fresh: boolean): void {
  const m = ctx.m;
  const home = m.homeOffset(index);
  // We hold the slot: no writer of ours moves val_off; it differs from home only where C relocated a value.
  if (m.u32[(slotByte + SLOT.val_off) >>> 2] !== home) claimHomeRegion(m, index, slotByte, 0);
  const regionStart = m.arenaStart + home;
  scrub(m, regionStart, length);
  ctx.copier.in(regionStart, value, length);
  m.u32[(slotByte + SLOT.val_len) >>> 2] = length; // plain: the release add that follows publishes it
  if (fresh) writeKey(ctx, slotByte);
}

/** Writes the current key into an empty slot we hold, the hash last. */
function writeKey(ctx: KvContext, slotByte: number): void {
  const m = ctx.m;
  if (m.embeddings) m.u8.fill(0, slotByte + SLOT.embedding, slotByte + m.slotSize);
  const i32 = m.i32;
  const e = ctx.key.entry;
  const keyW = (slotByte + SLOT.key) >>> 2;
  // Word by word: the entry's words are the bytes, the NUL and zeros to a word, as C's strncpy leaves them.
  const count = e.wordCount;
  i32[keyW] = e.word0;
  i32[keyW + 1] = e.word1;
  i32[keyW + 2] = e.word2;
  i32[keyW + 3] = e.word3;
  if (count <= 4) {
    // C's strncpy pads with zeros: the other twelve words written out (in a loop every store reloaded the array's base and length).
    i32[keyW + 4] = 0;
    i32[keyW + 5] = 0;
    i32[keyW + 6] = 0;
    i32[keyW + 7] = 0;
    i32[keyW + 8] = 0;
    i32[keyW + 9] = 0;
    i32[keyW + 10] = 0;
    i32[keyW + 11] = 0;
    i32[keyW + 12] = 0;
    i32[keyW + 13] = 0;
    i32[keyW + 14] = 0;
    i32[keyW + 15] = 0;
  } else {
    const words = e.words;
    for (let i = 4; i < count; i++) i32[keyW + i] = words[i]!;
    for (let i = count; i < KEY_MAX >>> 2; i++) i32[keyW + i] = 0;
  }
  // The hash goes last, in two 32-bit halves: a half-written hash matches no other key (the bytes are this key's).
  // Plain stores: we hold the slot odd, so no reader accepts a copy until the release add in publish, which
  // publishes them with the key bytes; a finder that matches the hash early is refused by the odd epoch.
  const w = slotByte >>> 2;
  i32[w] = e.hashLo;
  i32[w + 1] = e.hashHi;
}

/** After a write: move the global epoch, release, pulse the slot's groups, notify. Returns the global epoch's low word before our move (an int32). */
export function publish(ctx: KvContext, index: number, slotByte: number): number {
  const m = ctx.m;
  // The global epoch before the release (C moves it just after): a reader that sees the new slot epoch sees it moved too.
  const before = bumpGlobalEpoch(m.u32, m.globalEpochW32);
  unlock(m.u32, m.u64, (slotByte + SLOT.epoch) >>> 2);
  pulseSlot(m, slotByte);
  const trust = m.trust;
  // Our own move placed no key beyond the reach: a reach trusted just before it stays trusted (no walk on the next insert).
  if (trust.valid && trust.epoch === before >>> 0) trust.epoch = (before + 1) >>> 0;
  const key = ctx.key;
  if (before === key.expectedEpoch) {
    // Only our own write moved the epoch since we last looked: the key's place is known, every other entry stands.
    key.entry.slot = index;
    key.entry.generation = key.generation;
  } else {
    key.generation++;
  }
  key.expectedEpoch = (before + 1) | 0;
  ctx.notify(index, true);
  return before;
}

/** set: the common overwrite in one piece, everything else (inserts, contention) in setSlowly. */
export function setValue(ctx: KvContext, keyText: string, value: Uint8Array, length: number): void {
  const m = ctx.m;
  checkValueLength(m, length);
  const key = ctx.key;
  // A new key is remembered only once it is stored already: an insert of a key used once allocates nothing.
  key.encodeTransient(keyText);
  if (m.u32[VAL_BRK_W32] !== ctx.seenValBrk) evacuateRelocated(ctx);
  const outcome = overwriteInPlace(ctx, value, length);
  if (outcome === OVERWRITTEN) key.keep();
  else if (outcome === NOT_DONE || !insertFresh(ctx, value, length, -1 - outcome)) setSlowly(ctx, keyText, value, length);
}

/** overwriteInPlace's answers besides `-1 - index` (the path reached the empty slot `index` before the key). */
const OVERWRITTEN = 1;
const NOT_DONE = 0;

/**
 * The common set, in one piece: the key's path reaches the key before any empty slot, the
 * slot is free, and its value lives at home. Returns OVERWRITTEN; `-1 - index` when the path
 * reached the empty slot `index` first (a new key, as far as this probe saw); NOT_DONE, having
 * written nothing, when the slot is busy or holds a BIGUINT value. insertFresh and setSlowly
 * handle the last two.
 */
function overwriteInPlace(ctx: KvContext, value: Uint8Array, length: number): number {
  const m = ctx.m;
  const i32 = m.i32;
  const u32 = m.u32;
  const e = ctx.key.entry;
  const n = m.slots;
  const hashLo = e.hashLo;
  const hashHi = e.hashHi;
  let index = e.home;
  let w = -1;
  for (let probed = 0; probed < n; probed++) {
    const at = m.slotByte(index) >>> 2;
    const lo = i32[at]!;
    const hi = i32[at + 1]!;
    if (lo === hashLo && hi === hashHi) {
      w = at;
      break;
    }
    if ((lo | hi) === 0) return -1 - index; // C's set would take this empty slot: an insert
    if (++index === n) index = 0;
  }
  const slotByte = w << 2;
  if (w < 0 || !storedKeyIs(m, slotByte, e) || holdsU64(m, slotByte)) return NOT_DONE; // BIGUINT values are checked in setSlowly
  const epochW = w + (SLOT.epoch >>> 2);
  if (!tryLock(u32, epochW)) return NOT_DONE;
  // C's unset takes no lock: the key may have left between the probe and the CAS.
  if (i32[w] !== hashLo || i32[w + 1] !== hashHi || !storedKeyIs(m, slotByte, e)) {
    unlock(u32, m.u64, epochW);
    return NOT_DONE;
  }
  writeLocked(ctx, index, slotByte, value, length, false);
  publish(ctx, index, slotByte);
  return OVERWRITTEN;
}

/**
 * The common insert, in one piece: one pass over the key's path, from home to the reach and on
 * to the first empty slot, finds no copy of the key (none past a hole either), and that slot is
 * free. The pass is skipped when the handle knows the key missing at the current global epoch
 * (a lookup over the reach missed it, or this handle unset it in a store no C set has touched,
 * and no insert moved the epoch since): `firstEmpty`, the first empty slot on the path, is then taken. When the global epoch moved only by our own
 * publish since, no insert completed meanwhile, and any inserter of the same key still inside
 * will meet our copy when it publishes (its own search, here or in setSlowly): the search for
 * raced copies is skipped. Returns false, having written nothing, when any of that does not
 * hold; setSlowly handles those.
 */
function insertFresh(ctx: KvContext, value: Uint8Array, length: number, firstEmpty: number): boolean {
  const m = ctx.m;
  const i32 = m.i32;
  const key = ctx.key;
  const e = key.entry;
  // Acquire: every key placed by a move up to `moves` is visible to the pass below (inserters publish the hash before moving the epoch).
  const moves = Atomics.load(i32, m.globalEpochW32);
  prepareInsert(m, moves);
  const knownMissing = e.slot < 0 && e.generation === key.generation && moves === key.expectedEpoch;
  const empty = knownMissing ? firstEmpty : firstEmptyWithoutCopy(m, e);
  if (empty < 0) return false; // COPY_ON_PATH or PATH_FULL
  const distance = distanceFromHome(m, e.home, empty);
  const slotByte = m.slotByte(empty);
  const epochW = (slotByte + SLOT.epoch) >>> 2;
  if (!tryLock(m.u32, epochW)) return false;
  // Between the pass and the CAS another writer may have filled the slot.
  if ((i32[slotByte >>> 2]! | i32[(slotByte >>> 2) + 1]!) !== 0) {
    unlock(m.u32, m.u64, epochW);
    return false;
  }
  // Before the hash is published: a lookup that can see the key then probes this far.
  raiseReach(m, distance);
  writeLocked(ctx, empty, slotByte, value, length, true);
  if (publish(ctx, empty, slotByte) !== moves) removeRacedCopies(ctx, value, length, distance);
  return true;
}

/**
 * set in general: like C, takes the first slot on the key's path that holds the key or is empty.
 * Unlike C (docs/spec/FORMAT.md §9 Q1), a key written into an empty slot is then looked for on the whole
 * path, and any other copy (one past a hole, or a racing writer's) is removed: no duplicate stays.
 */
function setSlowly(ctx: KvContext, keyText: string, value: Uint8Array, length: number): void {
  const m = ctx.m;
  const key = ctx.key;
  let passBusyEmpty = false;
  prepareInsert(m);
  ctx.backoff.reset();
  for (;;) {
    const found = probeForWrite(m, key, passBusyEmpty);
    if (found === PATH_FULL) throw new SplinterError('ENOSPC', `no free slot for "${keyText}": all ${m.slots} slots hold keys`);
    const fresh = found < 0;
    if (!fresh) key.keep(); // an overwrite: the key is worth remembering
    const index = fresh ? -1 - found : found;
    const slotByte = m.slotByte(index);
    const epochW = (slotByte + SLOT.epoch) >>> 2;
    const refused = !fresh && !isU64Value(ctx, value, length);
    // Checked before locking too, so a refused set does not move the epoch and wake watchers.
    if (refused && holdsU64(m, slotByte)) throw notU64('set', keyText, length, value === ctx.valueScratch);
    if (tryLock(m.u32, epochW)) {
      // Between the probe and the CAS, C's unset (no lock) may have emptied the slot, or another writer filled it.
      const w = slotByte >>> 2;
      if (fresh ? (m.i32[w]! | m.i32[w + 1]!) === 0 : slotHoldsKey(m, slotByte, key)) {
        if (refused && holdsU64(m, slotByte)) {
          unlock(m.u32, m.u64, epochW); // renamed BIGUINT meanwhile: the rare refusal that moves the epoch
          throw notU64('set', keyText, length, value === ctx.valueScratch);
        }
        const distance = fresh ? distanceFromHome(m, key.home, index) : 0;
        // Before the hash is published: a lookup that can see the key then probes this far.
        if (fresh) raiseReach(m, distance);
        writeLocked(ctx, index, slotByte, value, length, fresh);
        publish(ctx, index, slotByte);
        if (fresh) removeRacedCopies(ctx, value, length, distance);
        return;
      }
      unlock(m.u32, m.u64, epochW);
    }
    if (!ctx.backoff.next()) {
      // An empty slot busy for the whole budget may hold a writer that died: look past it once more.
      if (!fresh || passBusyEmpty) throw contested('set', keyText, ctx.backoff.budgetMs);
      passBusyEmpty = true;
      ctx.backoff.reset();
    }
  }
}

/** How many slots past `home` the slot `index` is on the probe path. */
function distanceFromHome(m: StoreMemory, home: number, index: number): number {
  return index >= home ? index - home : index - home + m.slots;
}

/**
 * After writing a key into an empty slot, other copies may exist: the key may sit past a hole
 * (an unset opened it after the key was placed), or another writer inserted it into another
 * hole at the same time. Every inserter looks over the reach after publishing (each raised it
 * before publishing), so of two racing inserters at least one sees the other. The copy first
 * on the path (the one readers see) keeps the value just written; every other copy is removed.
 */
function removeRacedCopies(ctx: KvContext, value: Uint8Array, length: number, distance: number): void {
  const m = ctx.m;
  const copies = findOtherCopies(m, ctx.key, distance);
  if (copies === undefined) return;
  ctx.key.entry.generation = -1; // which copy stays is settled below: look it up again next time
  const [keeper, ...others] = copies as [number, ...number[]];
  const keeperByte = m.slotByte(keeper);
  if (lockSlotHoldingKey(ctx, keeperByte)) {
    writeLocked(ctx, keeper, keeperByte, value, length, false);
    publish(ctx, keeper, keeperByte);
  }
  for (const other of others) {
    const slotByte = m.slotByte(other);
    if (lockSlotHoldingKey(ctx, slotByte)) {
      clearLocked(m, other, slotByte);
      ctx.notify(other, false);
    }
  }
}

/**
 * Empties a slot we hold, leaving C's unset bytes (docs/spec/FORMAT.md §7) except the epoch, which our
 * release moves on to e + 2 where C resets it to 2 (docs/format.md, deliberate differences).
 * `scrubAll` zeroes the value and key whatever the mop mode (doctor clearing a dead writer's slot).
 */
export function clearLocked(m: StoreMemory, index: number, slotByte: number, scrubAll = false): void {
  const { u8, u32, u64 } = m;
  const w = slotByte >>> 2;
  // hash 0 first: a finder that still matches the slot meets the odd epoch, and a reader that copied before fails its epoch check.
  // Plain stores of two 32-bit halves: a half-cleared hash matches no key (the key bytes are still this key's), and the
  // release add below publishes both before the slot is even again.
  u32[w] = 0;
  u32[w + 1] = 0;
  const home = claimHomeRegion(m, index, slotByte, 0);
  // Plain load: a mode change racing an unset may apply either way, as in C (and as in scrub).
  if (scrubAll || (u8[HEADER.core_flags]! & SPL_SYS_AUTO_SCRUB) !== 0) {
    zeroBytes(m, m.arenaStart + home, m.arenaStart + home + m.maxValueSize);
    zeroBytes(m, slotByte + SLOT.key, slotByte + SLOT.key + KEY_MAX);
  } else {
    u8[slotByte + SLOT.key] = 0;
  }
  // Plain stores while the slot is held odd: every reader of these fields validates with the slot epoch, and the release add below publishes them.
  // The u64 fields go as 32-bit halves: a half-zeroed word is never seen by a reader that accepts its copy, and a
  // watch or label registration (an atomic OR outside the lock) lands in each half before or after its zeroing; a mask spanning
  // both halves may keep one, where one 64-bit store keeps all or none: either way it raced the key's removal.
  u8[slotByte + SLOT.type_flag] = SlotType.VOID;
  u8[slotByte + SLOT.user_flag] = 0;
  u32[w + (SLOT.val_len >>> 2)] = 0;
  // watcher_mask, ctime, atime, bloom: eight words, written out (in a loop every store reloaded the array's base and length).
  const meta = w + (SLOT.watcher_mask >>> 2);
  u32[meta] = 0;
  u32[meta + 1] = 0;
  u32[meta + 2] = 0;
  u32[meta + 3] = 0;
  u32[meta + 4] = 0;
  u32[meta + 5] = 0;
  u32[meta + 6] = 0;
  u32[meta + 7] = 0;
  if (m.embeddings) u8.fill(0, slotByte + SLOT.embedding, slotByte + m.slotSize);
  // Released forward to e + 2, not reset to 2 as C does: no reader's epoch can come back (docs/format.md).
  unlock(u32, u64, (slotByte + SLOT.epoch) >>> 2);
}

/**
 * The seqlock read of a value (docs/spec/FORMAT.md §6): copy into `into` (or, with `copy`, into a new
 * array left in `ctx.lastCopy`) between two equal, even epoch loads, and check that the slot
 * still holds the key. Returns the length, -1 when missing. Every caller passes a Uint8Array,
 * so this code stays specialised for one shape.
 */
function readValue(ctx: KvContext, keyText: string, into: Uint8Array, what: string, copy = false): number {
  const m = ctx.m;
  const u32 = m.u32;
  const key = ctx.key;
  key.encode(keyText);
  const e = key.entry;
  let retrying = false;
  for (;;) {
    const index = locateKey(m, key);
    if (index < 0) return -1;
    // locateKey loaded the global epoch (before the slot epoch below) and left it here: the copy is checked against it.
    const globalBefore = key.expectedEpoch;
    const slotByte = m.slotByte(index);
    const before = Atomics.load(u32, (slotByte + SLOT.epoch) >>> 2);
    if ((before & 1) === 0) {
      // Plain loads, once each: the bound check and the copy use these locals, the epoch check validates them.
      const offset = u32[(slotByte + SLOT.val_off) >>> 2]!;
      const length = u32[(slotByte + SLOT.val_len) >>> 2]!;
      if (valueOutOfBounds(m, offset, length)) {
        if (copyStillValid(m, slotByte, before, e.hashLo, e.hashHi, globalBefore)) throw outOfArena(m, index, offset, length);
      } else {
        let copied = true;
        if (copy) ctx.lastCopy = m.u8.slice(m.arenaStart + offset, m.arenaStart + offset + length);
        else if (length <= into.length) ctx.copier.out(into, m.arenaStart + offset, length);
        else if (copyStillValid(m, slotByte, before, e.hashLo, e.hashHi, globalBefore)) {
          throw new SplinterError('EMSGSIZE', `${what} "${keyText}": the value is ${length} bytes, the target holds ${into.length}`);
        } else copied = false;
        if (copied && copyStillValid(m, slotByte, before, e.hashLo, e.hashHi, globalBefore)) return length;
      }
    }
    if (!retrying) {
      retrying = true;
      ctx.backoff.reset();
    }
    if (!ctx.backoff.next()) throw contested(what, keyText, ctx.backoff.budgetMs);
  }
}

export function getCopy(ctx: KvContext, keyText: string): Uint8Array | undefined {
  // `into` is unused when copying; passing the scratch keeps every call of readValue the same shape.
  if (readValue(ctx, keyText, ctx.valueScratch, 'get', true) < 0) return undefined;
  const copy = ctx.lastCopy!;
  ctx.lastCopy = undefined;
  return copy;
}

export function getInto(ctx: KvContext, keyText: string, target: Uint8Array): number {
  if (!(target instanceof Uint8Array)) {
    throw new SplinterError('EINVAL', `getInto needs a Uint8Array target, received ${describe(target)}`);
  }
  return readValue(ctx, keyText, target, 'getInto');
}

export function getString(ctx: KvContext, keyText: string): string | undefined {
  const length = readValue(ctx, keyText, ctx.valueScratch, 'getString');
  return length < 0 ? undefined : utf8Decoder.decode(ctx.valueScratch.subarray(0, length));
}

/** unset: empties the key's slot; returns the removed length, undefined when missing. */
export function unsetKey(ctx: KvContext, keyText: string): number | undefined {
  const m = ctx.m;
  ctx.key.encodeTransient(keyText); // a key removed need not be remembered
  if (m.u32[VAL_BRK_W32] !== ctx.seenValBrk) evacuateRelocated(ctx);
  // Unlike C (docs/spec/FORMAT.md §9 Q7) we take the seqlock, so no writer of ours is inside while we clear.
  const index = lockKey(ctx, keyText, 'unset');
  if (index < 0) return undefined;
  const slotByte = m.slotByte(index);
  const length = m.u32[(slotByte + SLOT.val_len) >>> 2]!; // plain: we hold the slot, and every writer of it takes the lock
  clearLocked(m, index, slotByte);
  // The slot was the first copy on the key's path, and writers of ours leave no other: with no C set
  // ever in this store, the key is missing now (until an insert moves the global epoch). Otherwise a
  // copy C left past this slot (docs/spec/FORMAT.md §9 Q1) is what readers see next: not marked.
  const key = ctx.key;
  if (onlyOurMoves(m, key.expectedEpoch)) key.entry.slot = -1;
  ctx.notify(index, false);
  return length;
}

/** append: adds bytes after the value; returns the new length. */
export function appendValue(ctx: KvContext, keyText: string, data: Uint8Array, length: number): number {
  const m = ctx.m;
  if (length === 0) throw new SplinterError('EINVAL', `append "${keyText}": the data to append is empty`);
  ctx.key.encode(keyText);
  if (m.u32[VAL_BRK_W32] !== ctx.seenValBrk) evacuateRelocated(ctx);
  const found = locateKey(m, ctx.key);
  if (found < 0) throw new SplinterError('ENOENT', `append "${keyText}": no such key`);
  // Checked before locking too (plain loads: only advice), so a refused append does not move the epoch and wake watchers.
  const foundByte = m.slotByte(found);
  if (holdsU64(m, foundByte)) throw notU64('append', keyText, length, data === ctx.valueScratch);
  tooLongToAppend(m, keyText, m.u32[(foundByte + SLOT.val_len) >>> 2]!, length);
  const index = lockKey(ctx, keyText, 'append', found);
  if (index < 0) throw new SplinterError('ENOENT', `append "${keyText}": no such key`);
  const slotByte = m.slotByte(index);
  const epochW = (slotByte + SLOT.epoch) >>> 2;
  if (holdsU64(m, slotByte)) {
    unlock(m.u32, m.u64, epochW); // renamed BIGUINT meanwhile: the rare refusal that moves the epoch
    throw notU64('append', keyText, length, data === ctx.valueScratch);
  }
  // Plain load and store of the length: we hold the slot, and the release add in publish publishes it.
  const lengthW = (slotByte + SLOT.val_len) >>> 2;
  const current = m.u32[lengthW]!;
  if (current + length > m.maxValueSize) {
    unlock(m.u32, m.u64, epochW);
    tooLongToAppend(m, keyText, current, length);
  }
  const home = m.homeOffset(index);
  // val_off differs from home only where C relocated the value: bring it home first.
  if (m.u32[(slotByte + SLOT.val_off) >>> 2] !== home) claimHomeRegion(m, index, slotByte, current);
  ctx.copier.in(m.arenaStart + home + current, data, length);
  m.u32[lengthW] = current + length;
  publish(ctx, index, slotByte);
  return current + length;
}

function tooLongToAppend(m: StoreMemory, keyText: string, current: number, adding: number): void {
  if (current + adding > m.maxValueSize) {
    throw new SplinterError(
      'EMSGSIZE',
      `append "${keyText}": ${current} + ${adding} bytes is over the ${m.maxValueSize}-byte value limit`,
    );
  }
}

/** Decodes the key stored at a slot (UTF-8, invalid bytes replaced), or throws ECORRUPT without a NUL. */
export function readStoredKey(ctx: KvContext, index: number): string {
  const m = ctx.m;
  const slotByte = m.slotByte(index);
  const length = storedKeyLength(m, slotByte);
  if (length < 0) throw new SplinterError('ECORRUPT', `slot ${index} holds a key with no NUL in its ${KEY_MAX} bytes`);
  const scratch = ctx.keyScratch;
  for (let i = 0; i < length; i++) scratch[i] = m.u8[slotByte + SLOT.key + i]!;
  return utf8Decoder.decode(scratch.subarray(0, length));
}

/** list: keys of slots with a hash and a non-empty value, in slot order. */
export function listKeys(ctx: KvContext): string[] {
  const m = ctx.m;
  const i32 = m.i32;
  const slots = m.slots;
  const names = (ctx.slotNames ??= { hashLo: new Int32Array(slots), hashHi: new Int32Array(slots), names: new Array(slots), lastCount: 0 });
  const cachedNames = names.names;
  const cachedLo = names.hashLo;
  const cachedHi = names.hashHi;
  // Sized from the last count, trimmed at the end: growing it push by push was a fifth of the cost.
  const keys = new Array<string>(names.lastCount);
  let count = 0;
  const step = m.slotSize >>> 2;
  const lengthWord = SLOT.val_len >>> 2;
  for (let index = 0, w = m.slotsStart >>> 2; index < slots; index++, w += step) {
    const lo = i32[w]!;
    const hi = i32[w + 1]!;
    if ((lo | hi) === 0 || i32[w + lengthWord] === 0) continue;
    // The same hash in the same slot is the same key: decode each key once per handle.
    let key = cachedNames[index];
    if (key === undefined || cachedLo[index] !== lo || cachedHi[index] !== hi) {
      key = readStoredKey(ctx, index);
      // An unset or a new owner meanwhile: the key read may be half-cleared, so leave it out.
      if (Atomics.load(i32, w) !== lo || Atomics.load(i32, w + 1) !== hi) continue;
      cachedNames[index] = key;
      cachedLo[index] = lo;
      cachedHi[index] = hi;
    }
    if (count < keys.length) keys[count] = key;
    else keys.push(key);
    count++;
  }
  keys.length = count;
  names.lastCount = count;
  return keys;
}

export function setMop(m: StoreMemory, mode: Mop): void {
  const at = HEADER.core_flags;
  const both = SPL_SYS_AUTO_SCRUB | SPL_SYS_HYBRID_SCRUB;
  if (mode === 0) Atomics.and(m.u8, at, ~both & 0xff);
  else if (mode === 1) Atomics.or(m.u8, at, both);
  else if (mode === 2) Atomics.or(m.u8, at, SPL_SYS_AUTO_SCRUB); // HYBRID left as it was (docs/spec/FORMAT.md §9 Q4)
  else throw new SplinterError('EINVAL', `a mop mode is 0 (off), 1 (hybrid) or 2 (full), received ${describe(mode)}`);
}

export function getMop(m: StoreMemory): Mop {
  const flags = Atomics.load(m.u8, HEADER.core_flags);
  if ((flags & SPL_SYS_HYBRID_SCRUB) !== 0) return 1;
  if ((flags & SPL_SYS_AUTO_SCRUB) !== 0) return 2;
  return 0;
}

/** purge: zero what no value uses, slot by slot, skipping slots a writer holds. */
export function purge(ctx: KvContext): void {
  const m = ctx.m;
  evacuateRelocated(ctx);
  for (let index = 0; index < m.slots; index++) {
    const slotByte = m.slotByte(index);
    if (!tryLock(m.u32, m.epochW32(slotByte))) continue;
    const live = Atomics.load(m.u64, slotByte >>> 3) !== 0n;
    const length = live ? Atomics.load(m.u32, (slotByte + SLOT.val_len) >>> 2) : 0;
    const home = claimHomeRegion(m, index, slotByte, length);
    if (home >= 0 && length < m.maxValueSize) m.u8.fill(0, m.arenaStart + home + length, m.arenaStart + home + m.maxValueSize);
    unlock(m.u32, m.u64, m.epochW32(slotByte));
  }
  ctx.notify(-1, false); // every slot epoch moved: wake waiters once
}
