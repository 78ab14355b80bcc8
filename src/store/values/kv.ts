/**
 * The writes of docs/spec/FORMAT.md §7 (set and append), leaving the same bytes as the C library,
 * with the deliberate differences of docs/format.md: no duplicate keys, bounds checked on every
 * access, relocated values brought home.
 */
import { contested, SplinterError } from '../../errors.js';
import { KEY_MAX, SLOT } from '../../layout/constants.js';
import { clearLocked } from './clear.js';
import type { KvContext } from '../handle/context.js';
import { lockKey, lockSlotHoldingKey } from '../keys/locate.js';
import type { StoreMemory } from '../backing/memory.js';
import { findOtherCopies, firstEmptyWithoutCopy, locateKey, PATH_FULL, probeForWrite, slotHoldsEntry, slotHoldsKey } from '../keys/probe.js';
import { pulseSlot } from '../slot/pulse.js';
import { prepareInsert, raiseReach } from '../keys/reach.js';
import { claimHomeRegion, scrub } from './region.js';
import { evacuateRelocated, VAL_BRK_W32 } from './relocation.js';
import { bumpGlobalEpoch, tryLock, unlock } from '../sync/seqlock.js';
import { holdsU64, isU64Value, notU64 } from './u64-slot.js';
import { keyName, type Key } from '../keys/key-text.js';

export function checkValueLength(m: StoreMemory, length: number): void {
  if (length < 1 || length > m.maxValueSize) {
    throw new SplinterError('EMSGSIZE', `a value is 1..${m.maxValueSize} bytes in this store, received ${length} bytes`);
  }
}

/** A set that names no type: the slot keeps its type (an empty slot's is VOID). */
export const KEEP_TYPE = -1;

/**
 * Writes the value, the type (unless KEEP_TYPE) and, for a slot that was empty, the key and
 * its hash; the caller holds the slot, so readers see value and type change in one epoch move.
 */
function writeLocked(ctx: KvContext, index: number, slotByte: number, value: Uint8Array, length: number, fresh: boolean, type: number, ofCurrentKey = true): void {
  const m = ctx.m;
  // A value write gives the key the deadline asked for, or none (as Redis SET does), inside our odd epoch.
  const deadlines = ctx.deadlines;
  if (deadlines !== undefined && ofCurrentKey) deadlines.write(index, ctx.key.entry.hashLo, ctx.key.entry.hashHi, ctx.nextDeadline);
  const home = m.homeOffset(index);
  // We hold the slot: no writer of ours moves val_off; it differs from home only where C relocated a value.
  if (m.u32[(slotByte + SLOT.val_off) >>> 2] !== home) claimHomeRegion(m, index, slotByte, 0);
  const regionStart = m.arenaStart + home;
  scrub(m, regionStart, length);
  ctx.copier.in(regionStart, value, length);
  m.u32[(slotByte + SLOT.val_len) >>> 2] = length; // plain: the release add that follows publishes it
  // Atomic as C's type_flag is; inside our odd epoch, so no reader accepts the type without this value.
  if (type !== KEEP_TYPE) Atomics.store(m.u8, slotByte + SLOT.type_flag, type);
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

/**
 * After a write: move the global epoch, release, pulse the slot's groups, tell the write listener (handle/write-listener.ts). Returns the
 * global epoch's low word before our move (an int32). `ofCurrentKey` false: the slot written is not
 * the key the handle's key memory holds (a stream's cell, written by writeHeld).
 */
export function publish(ctx: KvContext, index: number, slotByte: number, ofCurrentKey = true): number {
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
    if (ofCurrentKey) {
      key.entry.slot = index;
      key.entry.generation = key.generation;
    }
  } else {
    key.generation++;
  }
  key.expectedEpoch = (before + 1) | 0;
  ctx.writeListener.afterWrite(index, true);
  return before;
}

/**
 * Writes value and type into a slot the caller holds (value already apart from store memory),
 * for writers that check more than the key under the lock (a stream's cells); publish(…, false) then.
 * `ofCurrentKey`: the slot holds the key the handle's key memory holds, whose deadline the write sets.
 */
export function writeHeld(ctx: KvContext, index: number, slotByte: number, value: Uint8Array, length: number, type: number, ofCurrentKey = false): void {
  writeLocked(ctx, index, slotByte, value, length, false, type, ofCurrentKey);
}

/**
 * set: the common overwrite in one piece, everything else (inserts, contention) in setSlowly.
 * `type` (a type byte, or KEEP_TYPE) is written with the value, under the same lock.
 * `onlyNew`: write only if the key is missing (decided under the slot's lock: of two callers
 * inserting the same key at once, one writes); returns false, having written nothing, when it exists.
 */
export function setValue(ctx: KvContext, keyText: Key, source: Uint8Array, length: number, type: number, onlyNew = false): boolean {
  const m = ctx.m;
  checkValueLength(m, length);
  const value = ctx.copier.apart(source, length);
  const key = ctx.key;
  // A new key is remembered only once it is stored already: an insert of a key used once allocates nothing.
  key.encodeTransient(keyText);
  if (m.u32[VAL_BRK_W32] !== ctx.seenValBrk) evacuateRelocated(ctx);
  const outcome = onlyNew ? NOT_DONE : overwriteInPlace(ctx, value, length, type);
  if (outcome === OVERWRITTEN) key.keep();
  else if (outcome === NOT_DONE || !insertFresh(ctx, value, length, -1 - outcome, type)) return setSlowly(ctx, keyText, value, length, type, onlyNew);
  return true;
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
function overwriteInPlace(ctx: KvContext, value: Uint8Array, length: number, type: number): number {
  const m = ctx.m;
  const e = ctx.key.entry;
  // C's set's probe: the first slot on the path that holds the key or is empty.
  const found = probeForWrite(m, ctx.key, false);
  if (found < 0) return found === PATH_FULL ? NOT_DONE : found; // `-1 - index` of the empty slot: an insert
  const slotByte = m.slotByte(found);
  if (holdsU64(m, slotByte)) return NOT_DONE; // BIGUINT values are checked in setSlowly
  const epochW = (slotByte + SLOT.epoch) >>> 2;
  if (!tryLock(m.u32, epochW)) return NOT_DONE;
  // C's unset takes no lock: the key may have left between the probe and the CAS.
  if (!slotHoldsEntry(m, slotByte, e)) {
    unlock(m.u32, m.u64, epochW);
    return NOT_DONE;
  }
  writeLocked(ctx, found, slotByte, value, length, false, type);
  publish(ctx, found, slotByte);
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
function insertFresh(ctx: KvContext, value: Uint8Array, length: number, firstEmpty: number, type: number): boolean {
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
  writeLocked(ctx, empty, slotByte, value, length, true, type);
  if (publish(ctx, empty, slotByte) !== moves) removeRacedCopies(ctx, value, length, distance, type);
  return true;
}

/**
 * set in general: like C, takes the first slot on the key's path that holds the key or is empty.
 * Unlike C (docs/spec/FORMAT.md §9 Q1), a key written into an empty slot is then looked for on the whole
 * path, and any other copy (one past a hole, or a racing writer's) is removed: no duplicate stays.
 */
function setSlowly(ctx: KvContext, keyText: Key, value: Uint8Array, length: number, type: number, onlyNew: boolean): boolean {
  const m = ctx.m;
  const key = ctx.key;
  let passBusyEmpty = false;
  prepareInsert(m);
  ctx.backoff.reset();
  for (;;) {
    const found = probeForWrite(m, key, passBusyEmpty);
    if (found === PATH_FULL) throw new SplinterError('ENOSPC', `no free slot for "${keyName(keyText)}": all ${m.slots} slots hold keys`);
    const fresh = found < 0;
    if (!fresh && onlyNew) return false; // the key is stored already: an insert-only write leaves it
    if (!fresh) key.keep(); // an overwrite: the key is worth remembering
    const index = fresh ? -1 - found : found;
    const slotByte = m.slotByte(index);
    const epochW = (slotByte + SLOT.epoch) >>> 2;
    // A set that names the type replaces a BIGUINT slot's type with the value: nothing to refuse.
    const refused = type === KEEP_TYPE && !fresh && !isU64Value(ctx, value, length);
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
        writeLocked(ctx, index, slotByte, value, length, fresh, type);
        publish(ctx, index, slotByte);
        if (fresh) return removeRacedCopies(ctx, value, length, distance, type, onlyNew ? index : -1);
        return true;
      }
      unlock(m.u32, m.u64, epochW);
    }
    if (!ctx.backoff.next()) {
      // An empty slot busy for the whole budget may hold a writer that died: look past it once more.
      if (!fresh || passBusyEmpty) throw contested('set', keyName(keyText), ctx.backoff.budgetMs);
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
function removeRacedCopies(ctx: KvContext, value: Uint8Array, length: number, distance: number, type: number, onlyNewAt = -1): boolean {
  const m = ctx.m;
  const copies = findOtherCopies(m, ctx.key, distance);
  if (copies === undefined) return true;
  ctx.key.entry.generation = -1; // which copy stays is settled below: look it up again next time
  const [keeper, ...others] = copies as [number, ...number[]];
  const keeperByte = m.slotByte(keeper);
  // An insert-only write never overwrites: the first copy keeps its own value, and ours stays only if it is that copy.
  if (onlyNewAt < 0 && lockSlotHoldingKey(ctx, keeperByte)) {
    writeLocked(ctx, keeper, keeperByte, value, length, false, type);
    publish(ctx, keeper, keeperByte);
  }
  for (const other of others) {
    const slotByte = m.slotByte(other);
    if (lockSlotHoldingKey(ctx, slotByte)) {
      clearLocked(m, other, slotByte);
      ctx.writeListener.afterWrite(other, false);
    }
  }
  return onlyNewAt < 0 || keeper === onlyNewAt;
}

/** append: adds bytes after the value; returns the new length. */
export function appendValue(ctx: KvContext, keyText: Key, source: Uint8Array, length: number): number {
  const m = ctx.m;
  if (length === 0) throw new SplinterError('EINVAL', `append "${keyName(keyText)}": the data to append is empty`);
  const data = ctx.copier.apart(source, length);
  ctx.key.encode(keyText);
  if (m.u32[VAL_BRK_W32] !== ctx.seenValBrk) evacuateRelocated(ctx);
  const found = locateKey(m, ctx.key);
  if (found < 0) throw new SplinterError('ENOENT', `append "${keyName(keyText)}": no such key`);
  // Checked before locking too (plain loads: only advice), so a refused append does not move the epoch and wake watchers.
  const foundByte = m.slotByte(found);
  if (holdsU64(m, foundByte)) throw notU64('append', keyText, length, data === ctx.valueScratch);
  tooLongToAppend(m, keyText, m.u32[(foundByte + SLOT.val_len) >>> 2]!, length);
  const index = lockKey(ctx, keyText, 'append', found);
  if (index < 0) throw new SplinterError('ENOENT', `append "${keyName(keyText)}": no such key`);
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

function tooLongToAppend(m: StoreMemory, keyText: Key, current: number, adding: number): void {
  if (current + adding > m.maxValueSize) {
    throw new SplinterError(
      'EMSGSIZE',
      `append "${keyName(keyText)}": ${current} + ${adding} bytes is over the ${m.maxValueSize}-byte value limit`,
    );
  }
}
