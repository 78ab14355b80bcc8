/**
 * A stream's cells in the store: where each one lives, the consistent read of one (value, type
 * and ctime from one version), the locked write of a seq into one, and the declaration that a
 * claimed seq was abandoned. docs/streams.md "The convention" is the contract.
 */
import { SplinterError } from '../errors.js';
import { SLOT, SlotType } from '../layout/constants.js';
import type { KvContext } from '../store/handle/context.js';
import { keyName } from '../store/keys/key-text.js';
import { publish, writeHeld } from '../store/values/kv.js';
import { locateKey } from '../store/keys/probe.js';
import { tryLock, unlock } from '../store/sync/seqlock.js';
import { processAlive } from '../bus/sidecar.js';
import { cellKey, WRITING_BIT_HI } from './layout.js';

const TWO_32 = 2 ** 32;
/** Linux's largest pid (pid_max's limit). */
const MAX_PID = 4_194_304;
/** The slab messages are copied into: values handed out share it, as Node's Buffer pool does. */
const SLAB_BYTES = 64 * 1024;

/** What a read of the cell of seq n found. */
export const CELL = {
  /** The message of seq n: `type`, `length` and the value in `bytes`. */
  message: 0,
  /** Seq n was declared abandoned: claimed, never published. */
  abandoned: 1,
  /** The cell holds a later seq (`holds`): n was overwritten. */
  lost: 2,
  /** Seq n is not published yet. */
  pending: 3,
  /** A writer is inside the cell (`oddEpoch`), or moved it while we read: read again. */
  busy: 4,
  /** The cell holds seq n with a value no sound store has (`reason`). */
  malformed: 5,
} as const;
export type CellState = (typeof CELL)[keyof typeof CELL];

/** The answer of a read, reused from read to read (nothing allocated per message). */
export interface CellRead {
  holds: number;
  type: number;
  length: number;
  oddEpoch: number;
  reason: string;
  /** The cell's atime (a key history's recorded epoch), read with the rest. */
  atime: number;
  /** The cell's user_flag byte (a key history's recorded slot type), read with the rest. */
  userFlag: number;
}

/** Whether the C producer whose pid (atime, two words) marks a cell is gone; an atime that is no pid counts as alive. */
function writerGone(pidLo: number, pidHi: number): boolean {
  if (pidHi !== 0 || pidLo < 1 || pidLo > MAX_PID) return false;
  return !processAlive(pidLo);
}

/** Whether atime (two words) names a live process: a writer inside the cell, or a C producer at work. */
export function holderAlive(pidLo: number, pidHi: number): boolean {
  return pidHi === 0 && pidLo >= 1 && pidLo <= MAX_PID && processAlive(pidLo);
}

/** Where a ctime loaded as one 8-byte float is split into its two words (little-endian, as the store). */
const ctimeBits = new Float64Array(1);
const ctimeWords = new Uint32Array(ctimeBits.buffer);

/**
 * Loads a cell's ctime in one 8-byte load and returns its high word (the writing bit and the seq's
 * high bits); the low word is left in ctimeWords[0]. C stores ctime outside the seqlock
 * (set_slot_time leaves the epoch alone): first s | writing over s − capacity, later s. Halves
 * loaded apart could pair the old seq's high word with the new seq's low word and read "s, written"
 * over the previous lap's value. An aligned 8-byte element access is tear-free (ECMA-262 "tear
 * free": 8-byte atomics are lock-free on x64 and arm64), and a seq below 2^53 is never a NaN's bits.
 */
function loadCtime(f64: Float64Array, ctimeByte: number): number {
  ctimeBits[0] = f64[ctimeByte >>> 3]!;
  return ctimeWords[1]!;
}

/** Stores seq `s` as a cell's ctime in one 8-byte store (a look of another process never sees half of it). */
function storeCtime(f64: Float64Array, ctimeByte: number, s: number): void {
  ctimeWords[0] = s % TWO_32;
  ctimeWords[1] = Math.floor(s / TWO_32);
  f64[ctimeByte >>> 3] = ctimeBits[0]!;
}

export class Cells {
  /** Per cell: its slot index, and the hash of its key in two words (checked before each use). */
  private readonly slotOf: Int32Array;
  private readonly hashLo: Int32Array;
  private readonly hashHi: Int32Array;
  /**
   * Where a message's bytes are copied: a slab carved into the values handed out (one view each,
   * no buffer per message), replaced when full. Not shared: TextDecoder refuses shared views.
   */
  bytes: Uint8Array;
  /** Where the last message copied starts in `bytes`; the next copy goes after it once it is handed out. */
  at = 0;
  private free = 0;
  private slabWords: Int32Array;
  /** The store's memory as 8-byte floats, for ctime's one load (made for the mapping it views). */
  private floats: Float64Array | undefined;
  private floatsOf: unknown;

  constructor(
    private readonly ctx: KvContext,
    readonly name: string,
    readonly capacity: number,
  ) {
    this.slotOf = new Int32Array(capacity).fill(-1);
    this.hashLo = new Int32Array(capacity);
    this.hashHi = new Int32Array(capacity);
    this.bytes = new Uint8Array(0);
    this.slabWords = new Int32Array(0);
  }

  private f64(): Float64Array {
    const u8 = this.ctx.m.u8;
    if (this.floatsOf !== u8) {
      // The mapping starts 8-aligned (its BigUint64Array view needs it too).
      this.floats = new Float64Array(u8.buffer, u8.byteOffset, u8.byteLength >>> 3);
      this.floatsOf = u8;
    }
    return this.floats!;
  }

  /** Hands out the last message's bytes (a view of the slab): the next copy goes after them. */
  handOut(length: number): Uint8Array {
    const view = new Uint8Array(this.bytes.buffer, this.at, length);
    this.free = (this.at + length + 7) & ~7;
    return view;
  }

  /** Room for `length` bytes at an 8-aligned place of the slab (a new slab when full). */
  private room(length: number): void {
    if (this.free + length > this.bytes.length) {
      this.bytes = new Uint8Array(Math.max(SLAB_BYTES, length + 8));
      this.slabWords = new Int32Array(this.bytes.buffer);
      this.free = 0;
    }
    this.at = this.free;
  }

  /**
   * The byte offset of cell `i`'s slot, checked to still hold the cell's key (by hash; found
   * again when not).
   * @throws {SplinterError} ENOENT when the cell's key is gone (the stream was dropped or damaged)
   */
  slotByte(i: number): number {
    const m = this.ctx.m;
    const index = this.slotOf[i]!;
    if (index >= 0) {
      const slotByte = m.slotByte(index);
      const w = slotByte >>> 2;
      // Plain loads: a stale hash only sends us to find the cell again.
      if (m.i32[w] === this.hashLo[i] && m.i32[w + 1] === this.hashHi[i]) return slotByte;
    }
    return this.find(i);
  }

  private find(i: number): number {
    const ctx = this.ctx;
    const key = cellKey(this.name, i);
    ctx.key.encode(key);
    const index = locateKey(ctx.m, ctx.key);
    if (index < 0) throw new SplinterError('ENOENT', `stream "${this.name}": its cell "${keyName(key)}" is missing (the stream was dropped, or its keys removed)`);
    this.slotOf[i] = index;
    this.hashLo[i] = ctx.key.hashLo;
    this.hashHi[i] = ctx.key.hashHi;
    return ctx.m.slotByte(index);
  }

  /** Folds the touched words together, so that the loads of touch() are not dead code. */
  private touched = 0;

  /**
   * Loads one word of the slot and one of the value of each cell of seqs `from`..`to` and drops
   * them: independent loads the CPU overlaps, so a reader going through a run of cells the
   * producer wrote on another core waits for their lines once per run instead of once per cell.
   * The caller touches only cells already claimed (seqs up to the head), most of them written:
   * touching one a producer is about to write would pull its line away from the writer.
   */
  touch(from: number, to: number): void {
    const m = this.ctx.m;
    const u32 = m.u32;
    let sum = 0;
    for (let n = from; n <= to; n++) {
      const i = n % this.capacity;
      const index = this.slotOf[i]!;
      if (index < 0) continue;
      const slotByte = m.slotByte(index);
      // Plain loads, values unused: what matters is that the lines are on their way.
      sum ^= u32[(slotByte + SLOT.epoch) >>> 2]! ^ u32[(m.arenaStart + m.homeOffset(index)) >>> 2]!;
    }
    this.touched ^= sum;
  }

  /**
   * Reads the cell of seq `n` in one version (docs/spec/FORMAT.md §6 and the readers' check):
   * ctime, type and, for a message, the value into `bytes`.
   */
  read(n: number, out: CellRead): CellState {
    const m = this.ctx.m;
    const i = n % this.capacity;
    const slotByte = this.slotByte(i);
    const u32 = m.u32;
    const epochW = (slotByte + SLOT.epoch) >>> 2;
    // Acquire: the fields below are those of this version or a later one (then the check fails).
    const before = Atomics.load(u32, epochW);
    if ((before & 1) !== 0) {
      out.oddEpoch = before;
      return CELL.busy;
    }
    const ctimeW = (slotByte + SLOT.ctime) >>> 2;
    // Plain loads of type, length and offset: the epoch check below rejects any that moved. ctime in
    // one load (loadCtime): C moves it outside the seqlock, where the epoch check cannot see it move.
    const hi = loadCtime(this.f64(), slotByte + SLOT.ctime);
    const holds = (hi & ~WRITING_BIT_HI) * TWO_32 + ctimeWords[0]!;
    const writing = (hi & WRITING_BIT_HI) !== 0;
    const type = m.u8[slotByte + SLOT.type_flag]!;
    const atime = u32[ctimeW + 3]! * TWO_32 + u32[ctimeW + 2]!;
    const userFlag = m.u8[slotByte + SLOT.user_flag]!;
    let state: CellState;
    if (holds === n && !writing) {
      if (type === SlotType.VOID) state = CELL.abandoned;
      else state = this.copyValue(slotByte, out);
    } else if (holds > n) {
      state = CELL.lost;
    } else {
      state = CELL.pending;
    }
    // The readers' check without the global epoch's part (read-check.ts): that part guards against an epoch
    // reset by C's unset climbing back, and a cell is never unset while its stream stands (a dropped
    // stream's cells fail the hash); the header's global epoch, written by every write, stays off this path.
    const w = slotByte >>> 2;
    if (m.i32[w] !== this.hashLo[i] || m.i32[w + 1] !== this.hashHi[i] || Atomics.load(u32, epochW) !== before) {
      out.oddEpoch = -1;
      return CELL.busy;
    }
    out.holds = holds;
    out.type = type;
    out.atime = atime;
    out.userFlag = userFlag;
    return state;
  }

  private copyValue(slotByte: number, out: CellRead): CellState {
    const m = this.ctx.m;
    const length = m.u32[(slotByte + SLOT.val_len) >>> 2]!;
    const offset = m.u32[(slotByte + SLOT.val_off) >>> 2]!;
    // Store bytes are hostile: a length or offset past the arena is reported, never followed.
    if (length < 1 || length > m.maxStoredLength || offset > m.arenaSize - length) {
      out.reason = `its value claims ${length} bytes at arena offset ${offset}, outside this store's values`;
      out.length = 0;
      return CELL.malformed;
    }
    this.room(length);
    const from = m.arenaStart + offset;
    const bytes = this.bytes;
    let i = 0;
    if ((from & 3) === 0) {
      // Word by word where the value is aligned (the slab place always is).
      const words = length >>> 2;
      const dst = this.slabWords;
      const src = m.i32;
      const d = this.at >>> 2;
      const s = from >>> 2;
      for (let k = 0; k < words; k++) dst[d + k] = src[s + k]!;
      i = words << 2;
    }
    const u8 = m.u8;
    for (; i < length; i++) bytes[this.at + i] = u8[from + i]!;
    out.length = length;
    return CELL.message;
  }

  /**
   * Writes seq `s` into its cell if the cell holds `previous` (s − capacity, or 0 on the first
   * lap) and no writer is inside: value, type and ctime in one seqlock section. Returns true when
   * written; false when the cell is not ready (the caller waits) — `out.holds` then says what it holds.
   */
  tryWrite(s: number, previous: number, value: Uint8Array, length: number, type: number, out: CellRead, atime = -1, userFlag = -1): boolean {
    const ctx = this.ctx;
    const m = ctx.m;
    const i = s % this.capacity;
    const slotByte = this.slotByte(i);
    const u32 = m.u32;
    const ctimeW = (slotByte + SLOT.ctime) >>> 2;
    const epochW = (slotByte + SLOT.epoch) >>> 2;
    // A look before locking: a cell not ready is waited for without moving its epoch (no wake for nothing).
    const hi = loadCtime(this.f64(), slotByte + SLOT.ctime);
    out.holds = (hi & ~WRITING_BIT_HI) * TWO_32 + ctimeWords[0]!;
    if (out.holds !== previous || (hi & WRITING_BIT_HI) !== 0) return false;
    if (!tryLock(u32, epochW)) {
      out.holds = -1; // busy: a writer is inside
      return false;
    }
    // Under the lock, again: the cell still ours (C's unset takes no lock) and still at `previous`.
    const w = slotByte >>> 2;
    const hiNow = loadCtime(this.f64(), slotByte + SLOT.ctime);
    if (m.i32[w] !== this.hashLo[i] || m.i32[w + 1] !== this.hashHi[i] || hiNow !== hi || ctimeWords[0] !== previous % TWO_32) {
      unlock(u32, m.u64, epochW);
      out.holds = -1;
      return false;
    }
    // Our pid in atime while we hold the cell: a reader that finds the cell held odd for a whole claim
    // timeout releases it only if we are gone (a writer merely descheduled would write on over its declaration).
    u32[ctimeW + 2] = process.pid;
    u32[ctimeW + 3] = 0;
    const index = (slotByte - m.slotsStart) / m.slotSize;
    writeHeld(ctx, index, slotByte, value, length, type);
    // atime after the write: a key history's recorded epoch, else 0 (no writer inside).
    const keptAtime = atime >= 0 ? atime : 0;
    u32[ctimeW + 2] = keptAtime % TWO_32;
    u32[ctimeW + 3] = Math.floor(keptAtime / TWO_32);
    // And the recorded key's slot type in user_flag (atomic as C's, inside our odd epoch).
    if (userFlag >= 0) Atomics.store(m.u8, slotByte + SLOT.user_flag, userFlag);
    // ctime last of the fields, inside our odd epoch: published with the value by the release.
    storeCtime(this.f64(), slotByte + SLOT.ctime, s);
    publish(ctx, index, slotByte, false);
    return true;
  }

  /**
   * Declares seq `t` abandoned: under the cell's lock, if the cell still holds an earlier seq (or
   * a C producer's unfinished write of t), it becomes type VOID with ctime t. `stuckOdd`: the odd
   * epoch the caller saw unchanged for a whole claim timeout (a writer that died inside): it is
   * released first, as C's retrain frees a slot held odd. `cellOf`: a seq of the cell (t itself,
   * or the seq a producer waits to write there; t is 0 on the first lap). True when the cell now
   * holds t or later.
   */
  abandon(t: number, stuckOdd: number, cellOf = t): boolean {
    const ctx = this.ctx;
    const m = ctx.m;
    const i = cellOf % this.capacity;
    const slotByte = this.slotByte(i);
    const u32 = m.u32;
    const epochW = (slotByte + SLOT.epoch) >>> 2;
    const atimeW = (slotByte + SLOT.atime) >>> 2;
    // CAS, not store: only the odd value that stood still for the timeout is released, never a live writer's new one;
    // and not while the writer named in atime (ours inside its write, or a C producer) is alive: it is only slow.
    if (stuckOdd >= 0 && (stuckOdd & 1) === 1 && !holderAlive(Atomics.load(u32, atimeW), Atomics.load(u32, atimeW + 1))) {
      Atomics.compareExchange(u32, epochW, stuckOdd, (stuckOdd + 1) >>> 0);
    }
    if (t < 1) return true; // the first lap: no earlier seq to declare, the released cell is all there was to do
    const ctimeW = (slotByte + SLOT.ctime) >>> 2;
    // A look before locking, and no lock unless there is something to declare: C's set skips a slot
    // it finds locked (docs/spec/FORMAT.md §9 Q1) and would put a C producer's value in a copy of the
    // cell key no reader finds, while its ctime lands here over the old value.
    const hiSeen = loadCtime(this.f64(), slotByte + SLOT.ctime);
    const heldSeen = (hiSeen & ~WRITING_BIT_HI) * TWO_32 + ctimeWords[0]!;
    const writingSeen = (hiSeen & WRITING_BIT_HI) !== 0;
    if (heldSeen > t || (heldSeen === t && !writingSeen)) return true;
    if (writingSeen && !writerGone(Atomics.load(u32, ctimeW + 2), Atomics.load(u32, ctimeW + 3))) return false;
    if (!tryLock(u32, epochW)) return false;
    const hi = loadCtime(this.f64(), slotByte + SLOT.ctime);
    const holds = (hi & ~WRITING_BIT_HI) * TWO_32 + ctimeWords[0]!;
    const w = slotByte >>> 2;
    const writing = (hi & WRITING_BIT_HI) !== 0;
    if (m.i32[w] !== this.hashLo[i] || m.i32[w + 1] !== this.hashHi[i] || holds > t || (holds === t && !writing)) {
      unlock(u32, m.u64, epochW);
      return holds >= t;
    }
    // A C producer's unfinished write (ctime t | 2^63) is declared only once its writer, named by
    // the pid it put in atime, is gone: a live one would finish its writes over the declaration.
    if (writing && !writerGone(u32[ctimeW + 2]!, u32[ctimeW + 3]!)) {
      unlock(u32, m.u64, epochW);
      return false;
    }
    const index = (slotByte - m.slotsStart) / m.slotSize;
    // Type VOID says abandoned; the value's bytes mean nothing and are left as they are; no writer is named any more.
    Atomics.store(m.u8, slotByte + SLOT.type_flag, SlotType.VOID);
    u32[ctimeW + 2] = 0;
    u32[ctimeW + 3] = 0;
    storeCtime(this.f64(), slotByte + SLOT.ctime, t);
    publish(ctx, index, slotByte, false);
    return true;
  }
}
