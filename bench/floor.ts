/**
 * The floor for bench/scale.ts: the C library's own steps for insert, unset and get, written by
 * hand in TypeScript over the same store bytes, and nothing else: FNV-1a of the key string on
 * every call (as C hashes its char * on every call), a linear probe from home that compares
 * hashes then key words, the seqlock's compare-and-swap and release, the global epoch's add on
 * a write, and a get's two epoch loads around its copy. No key memory, no reach, no duplicate
 * check, no ABA check, no bounds checks, no pulse, no wake-ups, no error handling: not a store,
 * only what this runtime charges for C's algorithm, so the gap between it and C is the runtime's
 * (Atomics calls of 12–25 ns, a JIT's FNV) and the gap between ours and it is what our
 * guarantees cost. ASCII keys up to 63 bytes and power-of-two slot counts only.
 */
import { SLOT } from '../src/layout/constants.js';
import type { StoreMemory } from '../src/store/backing/memory.js';

const FNV_PRIME_LOW = 0x1b3;
const KEY_WORDS = 16;
const EPOCH_W = SLOT.epoch >>> 2;
const VAL_LEN_W = SLOT.val_len >>> 2;
const VAL_OFF_W = SLOT.val_off >>> 2;
const KEY_W = SLOT.key >>> 2;

export class FloorKv {
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  private readonly mask: number;
  private hashLo = 0;
  private hashHi = 0;
  private readonly words = new Int32Array(KEY_WORDS);
  private wordCount = 0;
  private target: Uint8Array | undefined;
  private targetWords: Int32Array = new Int32Array(0);

  constructor(private readonly m: StoreMemory) {
    this.i32 = m.i32;
    this.u8 = m.u8;
    this.mask = m.slots - 1;
  }

  /** FNV-1a 64 of the key's bytes and the key as slot words (bytes, NUL, zeros), in one pass. */
  private hash(key: string): void {
    let hi = 0xcbf29ce4 | 0;
    let lo = 0x84222325 | 0;
    const words = this.words;
    let word = 0;
    const length = key.length;
    for (let i = 0; i < length; i++) {
      const c = key.charCodeAt(i);
      lo ^= c;
      const low16 = (lo & 0xffff) * FNV_PRIME_LOW;
      const high16 = (lo >>> 16) * FNV_PRIME_LOW + (low16 >>> 16);
      hi = (Math.imul(hi, FNV_PRIME_LOW) + (high16 >>> 16) + (lo << 8)) | 0;
      lo = (low16 & 0xffff) | (high16 << 16);
      word |= c << ((i & 3) << 3); // little-endian, as the slot's Int32Array reads it on x86-64 and arm64
      if ((i & 3) === 3) {
        words[i >>> 2] = word;
        word = 0;
      }
    }
    words[length >>> 2] = word;
    this.wordCount = (length >>> 2) + 1;
    this.hashLo = lo;
    this.hashHi = hi;
  }

  private keyMatches(w: number): boolean {
    const i32 = this.i32;
    const words = this.words;
    for (let k = 0; k < this.wordCount; k++) if (i32[w + KEY_W + k] !== words[k]) return false;
    return true;
  }

  /** C's lookup: from home over every slot until the hash and key match. */
  private find(): number {
    const m = this.m;
    const i32 = this.i32;
    let index = this.hashLo & this.mask;
    for (let probed = 0; probed < m.slots; probed++) {
      const w = (m.slotsStart + index * m.slotSize) >>> 2;
      if (i32[w] === this.hashLo && i32[w + 1] === this.hashHi && this.keyMatches(w)) return w;
      index = (index + 1) & this.mask;
    }
    return -1;
  }

  /** C's set of a key: the first slot holding it or empty, locked, written, published. */
  set(key: string, value: Uint8Array): void {
    this.hash(key);
    const m = this.m;
    const i32 = this.i32;
    let index = this.hashLo & this.mask;
    for (let probed = 0; probed < m.slots; probed++) {
      const w = (m.slotsStart + index * m.slotSize) >>> 2;
      const lo = i32[w]!;
      const hi = i32[w + 1]!;
      const mine = lo === this.hashLo && hi === this.hashHi && this.keyMatches(w);
      if (mine || (lo | hi) === 0) {
        const e = i32[w + EPOCH_W]!;
        if ((e & 1) === 0 && Atomics.compareExchange(i32, w + EPOCH_W, e, e + 1) === e) {
          this.u8.set(value, m.arenaStart + i32[w + VAL_OFF_W]!);
          i32[w + VAL_LEN_W] = value.length;
          if (!mine) {
            for (let k = 0; k < KEY_WORDS; k++) i32[w + KEY_W + k] = k < this.wordCount ? this.words[k]! : 0;
            i32[w] = this.hashLo;
            i32[w + 1] = this.hashHi;
          }
          Atomics.add(i32, w + EPOCH_W, 1);
          Atomics.add(i32, m.globalEpochW32, 1);
          return;
        }
      }
      index = (index + 1) & this.mask;
    }
  }

  unset(key: string): void {
    this.hash(key);
    const w = this.find();
    if (w < 0) return;
    const i32 = this.i32;
    const e = i32[w + EPOCH_W]!;
    if ((e & 1) !== 0 || Atomics.compareExchange(i32, w + EPOCH_W, e, e + 1) !== e) return;
    i32[w] = 0;
    i32[w + 1] = 0;
    i32[w + VAL_LEN_W] = 0;
    this.u8[(w + KEY_W) << 2] = 0;
    Atomics.add(i32, w + EPOCH_W, 1);
  }

  /** C's get: the seqlock copy between two equal even epoch loads. */
  getInto(key: string, target: Uint8Array): number {
    this.hash(key);
    for (;;) {
      const w = this.find();
      if (w < 0) return -1;
      const i32 = this.i32;
      const before = Atomics.load(i32, w + EPOCH_W);
      if ((before & 1) !== 0) continue;
      const length = i32[w + VAL_LEN_W]!;
      const from = this.m.arenaStart + i32[w + VAL_OFF_W]!;
      if (target !== this.target) {
        this.target = target;
        this.targetWords = new Int32Array(target.buffer, target.byteOffset, target.length >>> 2);
      }
      const words = this.targetWords;
      const s = from >>> 2; // values sit at 64-byte multiples; the targets of this benchmark are aligned
      for (let k = 0; k < length >>> 2; k++) words[k] = i32[s + k]!;
      for (let i = length & ~3; i < length; i++) target[i] = this.u8[from + i]!;
      if (i32[w] === this.hashLo && Atomics.load(i32, w + EPOCH_W) === before) return length;
    }
  }
}
