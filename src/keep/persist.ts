/**
 * Persistence of a memory store (docs/keep.md): a file-backed store of the same geometry and
 * format, kept within an interval of the memory one, and the restore that makes the memory
 * store again from it.
 *
 * How the file stays whole: per-slot checks, not a snapshot renamed into place. Rewriting the
 * whole image every interval costs the whole store per interval (hundreds of MB/s for a large
 * store at 100 ms); instead each changed slot is copied into the file's mapping under the file
 * slot's own seqlock: its epoch is made odd, the record and value written, then the epoch set
 * to the memory slot's even epoch. A keeper killed inside a copy leaves that one slot odd, and
 * a restore drops an odd slot (its value may be torn) and keeps every other, each a copy taken
 * whole under the memory slot's seqlock. The file's pages (which every process opening the file
 * reads at once) go to disk by the kernel's writeback, by an fdatasync on libuv's thread pool every
 * `sync` ms when asked, and synchronously (msync) at close.
 */
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { SplinterError } from '../errors.js';
import { Store } from '../facade/store.js';
import { DEADLINES_PRESENT_BYTE, HEADER, SLOT, SlotType } from '../layout/constants.js';
import type { StoreMemory } from '../store/backing/memory.js';
import { valueOutOfBounds } from '../store/values/read.js';
import { resolveTarget } from '../store/backing/target.js';

/** The default time between two passes. */
export const DEFAULT_PERSIST_INTERVAL_MS = 100;

/**
 * The time between two passes for an `interval`: half of it, so that a write is in the file
 * within `interval` even when it came just after a pass began and the next pass takes a while.
 */
export function passEvery(interval: number): number {
  return Math.max(1, Math.floor(interval / 2));
}

/** What one pass copied. */
export interface PersistPass {
  /** Slots copied (changed since the last pass). */
  copied: number;
  /** Slots a writer held: copied by a later pass. */
  busy: number;
}

/**
 * Keeps `file` (a store file of the memory store's geometry, made if missing) within a pass of
 * the memory store.
 */
export class Persister {
  readonly file: Store;
  /** The memory slot epoch (low word) each file slot was last copied at; odd: never copied. */
  private readonly copiedAt: Uint32Array;
  private readonly scratch: Uint8Array;
  /** The scratch's words (its slot part is word-aligned: slots are). */
  private readonly scratchWords: Uint32Array;
  /** A descriptor of the file for background fdatasync calls; -1 once closed. */
  private fd: number;
  /** An fdatasync is on the thread pool: the fd stays open until it returns. */
  private syncing = false;
  private closed = false;

  /**
   * @throws {SplinterError} EEXIST when `path` holds a store of another geometry; what Store.create/open throw.
   */
  constructor(
    private readonly memory: Store,
    readonly path: string,
  ) {
    const geometry = { slots: memory.slots, maxValueSize: memory.maxValueSize, embeddings: memory.embeddings };
    const file = fs.existsSync(path) ? Store.open(path) : Store.create(path, geometry);
    if (file.slots !== memory.slots || file.maxValueSize !== memory.maxValueSize || file.embeddings !== memory.embeddings) {
      file.close();
      throw new SplinterError(
        'EEXIST',
        `${path} holds a store of ${file.slots} slots × ${file.maxValueSize} bytes${file.embeddings ? ' (embeddings)' : ''}, the memory store is ${memory.slots} × ${memory.maxValueSize}${memory.embeddings ? ' (embeddings)' : ''}`,
      );
    }
    this.file = file;
    this.fd = fs.openSync(path, 'r+');
    this.copiedAt = new Uint32Array(memory.slots).fill(1); // odd: every slot is copied by the first pass
    this.scratchWords = new Uint32Array(Math.ceil((memory.memory.slotSize + memory.maxValueSize + 8) / 4));
    this.scratch = new Uint8Array(this.scratchWords.buffer);
  }

  /**
   * One pass: every slot whose epoch moved since its last copy, then the header; with `flush`,
   * then the file's pages are written to disk (msync, which waits for the disk).
   * @throws {SplinterError} what msync throws (EIO).
   */
  pass(flush = true): PersistPass {
    const from = this.memory.memory;
    const to = this.file.memory;
    let copied = 0;
    let busy = 0;
    for (let index = 0; index < from.slots; index++) {
      const epochW = from.epochW32(from.slotByte(index));
      const epoch = Atomics.load(from.u32, epochW);
      if (epoch === this.copiedAt[index]) continue;
      if ((epoch & 1) !== 0 || !this.copySlot(from, to, index, epoch)) busy++;
      else copied++;
    }
    copyHeader(from, to);
    if (flush) this.file.flush();
    return { copied, busy };
  }

  /** Copies one slot under the memory slot's seqlock; false when a writer came in (copied next pass). */
  private copySlot(from: StoreMemory, to: StoreMemory, index: number, epoch: number): boolean {
    const slotByte = from.slotByte(index);
    const epochW = from.epochW32(slotByte);
    const high = Atomics.load(from.u32, epochW + 1);
    const scratch = this.scratch;
    const scratchWords = this.scratchWords;
    const slotSize = from.slotSize;
    const slotWord = slotByte >>> 2;
    const slotWords = slotSize >>> 2;
    // Plain copies between two equal, even epoch loads: the seqlock read of docs/spec/FORMAT.md §6.
    // Word and byte loops, not subarray().set(): a pass copies thousands of small slots, and each
    // subarray is an allocation.
    const fromWords = from.u32;
    for (let w = 0; w < slotWords; w++) scratchWords[w] = fromWords[slotWord + w]!;
    const offset = scratchWords[SLOT.val_off >>> 2]!;
    const length = scratchWords[SLOT.val_len >>> 2]!;
    const sound = !valueOutOfBounds(from, offset, length);
    const fromBytes = from.u8;
    const valueByte = from.arenaStart + offset;
    if (sound) for (let i = 0; i < length; i++) scratch[slotSize + i] = fromBytes[valueByte + i]!;
    if (Atomics.load(from.u32, epochW) !== epoch) return false;
    // Into the file under its slot's seqlock: odd while written, so a keeper killed here leaves the slot marked torn.
    const fileEpochW = to.epochW32(slotByte);
    Atomics.store(to.u32, fileEpochW, epoch | 1);
    const toWords = to.u32;
    const epochWord = SLOT.epoch >>> 2;
    for (let w = 0; w < slotWords; w++) if (w !== epochWord && w !== epochWord + 1) toWords[slotWord + w] = scratchWords[w]!;
    const toBytes = to.u8;
    if (sound) for (let i = 0; i < length; i++) toBytes[valueByte + i] = scratch[slotSize + i]!;
    Atomics.store(to.u32, fileEpochW + 1, high);
    Atomics.store(to.u32, fileEpochW, epoch);
    this.copiedAt[index] = epoch;
    return true;
  }

  /**
   * Starts writing the file's pages to disk on libuv's thread pool (fdatasync writes back pages
   * dirtied through any shared mapping of the file); `done` gets its error, if any. False, and
   * nothing started, while the previous one runs.
   */
  flushInBackground(done: (error: NodeJS.ErrnoException | null) => void): boolean {
    if (this.syncing || this.closed) return false;
    this.syncing = true;
    fs.fdatasync(this.fd, (error) => {
      this.syncing = false;
      if (this.closed) fs.close(this.fd, () => {});
      done(error);
    });
    return true;
  }

  /** Unmaps the file (msync first); a background flush still running closes its fd when it returns. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.file.close();
    if (!this.syncing) fs.closeSync(this.fd);
  }
}

/**
 * The header, after the slots (the reach read after them covers every key copied). No event bus
 * is armed in a copy, and deadlines are not persisted (their table is named after the memory
 * store's inode), so the copy says it has none.
 */
function copyHeader(from: StoreMemory, to: StoreMemory): void {
  // Word by word with Atomics: a 32-bit word is copied whole, as some value it held.
  const words = HEADER.size >>> 2;
  for (let w = 0; w < words; w++) Atomics.store(to.i32, w, Atomics.load(from.i32, w));
  Atomics.store(to.i32, HEADER.owner_fd >>> 2, -1);
  Atomics.store(to.i32, HEADER.owner_pid >>> 2, 0);
  Atomics.store(to.u8, DEADLINES_PRESENT_BYTE, 0);
}

/** True when a memory store named `target` (shm name or path) exists. */
export function storeExists(target: string): boolean {
  return fs.existsSync(resolveTarget(target).path);
}

/** What a restore did. */
export interface RestoreReport {
  slots: number;
  keys: number;
  /** Slots the file held odd (a keeper killed while copying them): dropped, their value may be torn. */
  dropped: number;
}

/**
 * Makes the memory store `target` from the persisted `file`: the file copied under a name of its
 * own, its torn (odd) slots emptied, then linked into place, so no process sees it half made.
 * @throws {SplinterError} EEXIST when `target` exists; ENOENT when `file` does not; what Store.open throws for a file that is no store.
 */
export function restoreStore(target: string, file: string): RestoreReport {
  const destination = resolveTarget(target).path;
  if (fs.existsSync(destination)) throw new SplinterError('EEXIST', `restore: ${target} exists; remove it first (splinter drop) to restore it from ${file}`);
  if (!fs.existsSync(file)) throw new SplinterError('ENOENT', `restore: ${file} does not exist`);
  Store.open(file).close(); // checks the file is a store (magic, version, geometry, size)
  const temporary = path.join(path.dirname(destination), `.${path.basename(destination)}.restore-${process.pid}-${randomBytes(4).toString('hex')}`);
  fs.copyFileSync(file, temporary, fs.constants.COPYFILE_EXCL);
  try {
    const report = repairCopy(temporary);
    fs.linkSync(temporary, destination); // fails if the name was taken meanwhile: nothing clobbered
    return report;
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}

/** Empties the odd slots of a copy and counts its keys. */
function repairCopy(copyPath: string): RestoreReport {
  const copy = Store.open(copyPath);
  try {
    const m = copy.memory;
    let keys = 0;
    let dropped = 0;
    for (let index = 0; index < m.slots; index++) {
      const slotByte = m.slotByte(index);
      const epochW = m.epochW32(slotByte);
      const epoch = m.u32[epochW]!;
      if ((epoch & 1) !== 0) {
        emptySlot(m, index, slotByte);
        Atomics.store(m.u32, epochW, epoch + 1);
        dropped++;
      } else if ((m.u32[slotByte >>> 2]! | m.u32[(slotByte >>> 2) + 1]!) !== 0 && m.u32[(slotByte + SLOT.val_len) >>> 2] !== 0) {
        keys++;
      }
    }
    copy.flush();
    return { slots: m.slots, keys, dropped };
  } finally {
    copy.close();
  }
}

/** A slot as C's unset leaves it (hash, key, value length and metadata zero, type VOID, value at home). */
function emptySlot(m: StoreMemory, index: number, slotByte: number): void {
  m.u8.fill(0, slotByte, slotByte + SLOT.epoch);
  m.u8.fill(0, slotByte + SLOT.val_off, slotByte + m.slotSize);
  m.u32[(slotByte + SLOT.val_off) >>> 2] = m.homeOffset(index);
  m.u8[slotByte + SLOT.type_flag] = SlotType.VOID;
  m.u8.fill(0, m.arenaStart + m.homeOffset(index), m.arenaStart + m.homeOffset(index) + m.maxValueSize);
}
