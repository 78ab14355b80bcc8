import { HEADER, SLOT_SIZE, SLOT_SIZE_EMBEDDINGS } from './constants.js';

/** The shape of a store: fixed at creation. */
export interface Geometry {
  slots: number;
  maxValueSize: number;
  embeddings: boolean;
}

/** Largest total size: the header stores it in the u32 `val_sz`. */
export const MAX_STORE_BYTES = 0xffffffff;

export function slotSizeOf(embeddings: boolean): number {
  return embeddings ? SLOT_SIZE_EMBEDDINGS : SLOT_SIZE;
}

/** Total bytes of a store: header + slots + value arena. */
export function storeSize(slots: number, maxValueSize: number, embeddings: boolean): number {
  return HEADER.size + slots * slotSizeOf(embeddings) + slots * maxValueSize;
}

/**
 * Which build wrote a store of `fileSize` bytes whose header says `slots` and
 * `maxValueSize`: the size must match one slot size exactly, else it is not a store.
 */
export function detectEmbeddings(fileSize: number, slots: number, maxValueSize: number): boolean | undefined {
  if (storeSize(slots, maxValueSize, false) === fileSize) return false;
  if (storeSize(slots, maxValueSize, true) === fileSize) return true;
  return undefined;
}

/** Byte offsets derived from a geometry, computed once per open store. */
export interface Offsets {
  slotSize: number;
  slotsStart: number;
  arenaStart: number;
  arenaSize: number;
  totalSize: number;
}

export function offsetsOf(g: Geometry): Offsets {
  const slotSize = slotSizeOf(g.embeddings);
  const slotsStart = HEADER.size;
  const arenaStart = slotsStart + g.slots * slotSize;
  const arenaSize = g.slots * g.maxValueSize;
  return { slotSize, slotsStart, arenaStart, arenaSize, totalSize: arenaStart + arenaSize };
}
