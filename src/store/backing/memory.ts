import { HEADER, SLOT } from '../../layout/constants.js';
import { offsetsOf, type Geometry } from '../../layout/geometry.js';
import { ReachTrust } from '../keys/reach.js';

/**
 * Typed views over one store's bytes, with its geometry and derived offsets.
 * Word indices (`…W32`, `…W64`) are precomputed so hot paths do no address arithmetic twice.
 */
export class StoreMemory {
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
  readonly u64: BigUint64Array;
  readonly slots: number;
  readonly maxValueSize: number;
  readonly embeddings: boolean;
  readonly slotSize: number;
  readonly slotsStart: number;
  readonly arenaStart: number;
  readonly arenaSize: number;
  readonly totalSize: number;
  /** u32 index of the low word of the global epoch. */
  readonly globalEpochW32: number;
  /** The longest val_len a sound store holds: maxValueSize, or 8 for a BIGUINT C relocated into a store of shorter values. */
  readonly maxStoredLength: number;
  /** This handle's memory of when it last found the shared reach trusted (keys/reach.ts). */
  readonly trust = new ReachTrust();

  constructor(bytes: Uint8Array, geometry: Geometry) {
    const { buffer, byteOffset } = bytes;
    const o = offsetsOf(geometry);
    this.u8 = new Uint8Array(buffer, byteOffset, o.totalSize);
    this.u32 = new Uint32Array(buffer, byteOffset, o.totalSize >>> 2);
    this.i32 = new Int32Array(buffer, byteOffset, o.totalSize >>> 2);
    this.u64 = new BigUint64Array(buffer, byteOffset, Math.floor(o.totalSize / 8));
    this.slots = geometry.slots;
    this.maxValueSize = geometry.maxValueSize;
    this.embeddings = geometry.embeddings;
    this.slotSize = o.slotSize;
    this.slotsStart = o.slotsStart;
    this.arenaStart = o.arenaStart;
    this.arenaSize = o.arenaSize;
    this.totalSize = o.totalSize;
    this.globalEpochW32 = HEADER.epoch >>> 2;
    this.maxStoredLength = Math.max(geometry.maxValueSize, 8);
  }

  /** Byte offset of slot `index`. */
  slotByte(index: number): number {
    return this.slotsStart + index * this.slotSize;
  }

  /** Arena-relative offset of the value region a slot owns (where C's creation puts val_off). */
  homeOffset(index: number): number {
    return index * this.maxValueSize;
  }

  /** u32 index of the low word of a slot's epoch (parity and CAS live in the low word). */
  epochW32(slotByte: number): number {
    return (slotByte + SLOT.epoch) >>> 2;
  }
}
