/** Reading and mutating store images for the corruption property (geometry from the fixture, not from src). */
import fc from 'fast-check';
import { H, HEADER_SIZE, KEY_BYTES, S, U64_MAX, fnv1a64Oracle, utf8 } from '../lib/layout.js';

export interface ImageGeometry {
  slots: number;
  maxValueSize: number;
  slotSize: number;
}

export const arenaOf = (g: ImageGeometry): number => HEADER_SIZE + g.slots * g.slotSize;
export const slotAt = (g: ImageGeometry, i: number): number => HEADER_SIZE + i * g.slotSize;
export const homeAt = (g: ImageGeometry, i: number): number => arenaOf(g) + i * g.maxValueSize;

/** The keys stored in an image's used slots (up to the NUL, or all 64 bytes), with their slot. */
export function storedKeys(g: ImageGeometry, image: Uint8Array): Array<{ index: number; key: string; bytes: Uint8Array }> {
  const dv = new DataView(image.buffer, image.byteOffset, image.length);
  const out: Array<{ index: number; key: string; bytes: Uint8Array }> = [];
  for (let i = 0; i < g.slots; i++) {
    const at = slotAt(g, i);
    if (at + S.key + KEY_BYTES > image.length || dv.getBigUint64(at + S.hash, true) === 0n) continue;
    const raw = image.subarray(at + S.key, at + S.key + KEY_BYTES);
    const nul = raw.indexOf(0);
    const bytes = raw.slice(0, nul < 0 ? KEY_BYTES : nul);
    out.push({ index: i, key: new TextDecoder().decode(bytes), bytes });
  }
  return out;
}

/** Slots a key operation on `key` may legitimately write: the key's copies (hash and bytes match) and empty slots. */
export function writableSlots(g: ImageGeometry, image: Uint8Array, key: string): Set<number> {
  const dv = new DataView(image.buffer, image.byteOffset, image.length);
  const bytes = utf8(key);
  const hash = fnv1a64Oracle(bytes);
  const out = new Set<number>();
  for (let i = 0; i < g.slots; i++) {
    const at = slotAt(g, i);
    const h = dv.getBigUint64(at + S.hash, true);
    if (h === 0n) {
      out.add(i);
      continue;
    }
    if (h !== hash || bytes.length >= KEY_BYTES) continue;
    const stored = image.subarray(at + S.key, at + S.key + KEY_BYTES);
    if (bytes.every((b, j) => stored[j] === b) && stored[bytes.length] === 0) out.add(i);
  }
  return out;
}

// ── Mutations ───────────────────────────────────────────────────────────────

const HEADER_FIELDS = ['magic', 'version', 'slots', 'max_val_sz', 'epoch', 'core_flags', 'val_brk', 'val_sz', 'alignment'] as const;
const SLOT_FIELDS = ['hash', 'epoch', 'val_off', 'val_len', 'type_flag'] as const;
type HeaderField = (typeof HEADER_FIELDS)[number];
type SlotField = (typeof SLOT_FIELDS)[number];

/** A value for a slot field, chosen relative to the store when applied. */
export type FieldValue =
  | 'odd' // | 1: for the epoch, a writer that died inside the seqlock
  | 'arena-end' // the arena size (a val_off just past the arena)
  | 'just-past' // arena size - val_len + 1: the value's last byte past the arena
  | 'max-u32'
  | 'near-max-u32'
  | 'other-region' // the next slot's region (C's Q3 relocation does this legitimately)
  | 'region-0'
  | 'over-max' // maxValueSize + 1 (a val_len over the limit)
  | 'arena-len' // the arena size (a val_len past everything)
  | 'zero'
  | { random: number };

/**
 * One change to an image. Numbers are raw draws, interpreted against the image when
 * applied (slot `n` = the n-th used slot, or any slot), so no chain is needed and it shrinks well.
 */
export type Mutation =
  | { kind: 'flip'; region: 'header' | 'slots' | 'arena'; at: number; bit: number }
  | { kind: 'header-field'; field: HeaderField; value: number }
  | { kind: 'slot-field'; slot: number; anySlot: boolean; field: SlotField; value: FieldValue }
  | { kind: 'key-without-nul'; slot: number; anySlot: boolean; fill: number }
  | { kind: 'truncate'; to: number }
  | { kind: 'extend'; by: number };

const FIELD_VALUES: FieldValue[] = [
  'odd',
  'arena-end',
  'just-past',
  'max-u32',
  'near-max-u32',
  'other-region',
  'region-0',
  'over-max',
  'arena-len',
  'zero',
];

export function mutationArbitrary(): fc.Arbitrary<Mutation> {
  const draw = fc.nat();
  const fieldValue = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom<FieldValue>(...FIELD_VALUES) },
    { weight: 1, arbitrary: fc.nat({ max: 0xffffffff }).map((random): FieldValue => ({ random })) },
  );
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('flip' as const),
        region: fc.constantFrom('header' as const, 'slots' as const, 'slots' as const, 'arena' as const),
        at: draw,
        bit: fc.nat(7),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('header-field' as const),
        field: fc.constantFrom(...HEADER_FIELDS),
        value: fc.oneof(fc.nat({ max: 0xffffffff }), fc.constantFrom(0, 1, 2, 3, 0xffffffff, 0x80000000)),
      }),
    },
    {
      weight: 6,
      arbitrary: fc.record({
        kind: fc.constant('slot-field' as const),
        slot: draw,
        anySlot: fc.boolean(),
        field: fc.constantFrom<SlotField>(...SLOT_FIELDS, 'val_off', 'val_off', 'val_len', 'epoch'),
        value: fieldValue,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('key-without-nul' as const),
        slot: draw,
        anySlot: fc.boolean(),
        fill: fc.integer({ min: 1, max: 255 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), to: draw }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('extend' as const), by: fc.integer({ min: 1, max: 8192 }) }) },
  );
}

function pickSlot(g: ImageGeometry, image: Uint8Array, n: number, anySlot: boolean): number {
  const used = storedKeys(g, image).map((k) => k.index);
  return anySlot || used.length === 0 ? n % g.slots : used[n % used.length]!;
}

function fieldNumber(g: ImageGeometry, image: Uint8Array, slot: number, field: SlotField, v: FieldValue): bigint {
  const dv = new DataView(image.buffer, image.byteOffset, image.length);
  const at = slotAt(g, slot);
  const arena = g.slots * g.maxValueSize;
  const len = dv.getUint32(at + S.val_len, true);
  if (typeof v === 'object') return BigInt(v.random);
  switch (v) {
    case 'odd':
      if (field === 'epoch' || field === 'hash') return dv.getBigUint64(at + S[field], true) | 1n;
      if (field === 'type_flag') return BigInt(image[at + S.type_flag]! | 1);
      return BigInt(dv.getUint32(at + S[field], true) | 1);
    case 'arena-end':
      return BigInt(arena);
    case 'just-past':
      return BigInt(Math.max(0, arena - Math.max(len, 1) + 1));
    case 'max-u32':
      return 0xffffffffn;
    case 'near-max-u32':
      return 0xfffffff0n;
    case 'other-region':
      return BigInt(((slot + 1) % g.slots) * g.maxValueSize);
    case 'region-0':
      return 0n;
    case 'over-max':
      return BigInt(g.maxValueSize + 1);
    case 'arena-len':
      return BigInt(arena);
    case 'zero':
      return 0n;
  }
}

/** The slot a slot-level mutation changes in `image` (before it is applied), if any. */
export function touchedSlot(g: ImageGeometry, image: Uint8Array, m: Mutation): number | undefined {
  if (image.length < arenaOf(g)) return undefined;
  if (m.kind === 'slot-field' || m.kind === 'key-without-nul') return pickSlot(g, image, m.slot, m.anySlot);
  return undefined;
}

/** Applies one mutation to a copy of `image`; returns the new image (its length may change). */
export function applyMutation(g: ImageGeometry, image: Uint8Array, m: Mutation): Uint8Array {
  const arena = arenaOf(g);
  if (m.kind === 'truncate') {
    const points = [0, 1, HEADER_SIZE - 1, HEADER_SIZE, arena, image.length - 1];
    const to = m.to % 3 === 0 ? points[m.to % points.length]! : m.to % image.length;
    return image.slice(0, Math.max(0, Math.min(to, image.length - 1)));
  }
  if (m.kind === 'extend') {
    const bigger = new Uint8Array(image.length + m.by);
    bigger.set(image);
    return bigger;
  }
  const out = image.slice();
  // An earlier truncation may have cut what this mutation names: then it changes nothing.
  if (out.length < arena) return out;
  const dv = new DataView(out.buffer);
  switch (m.kind) {
    case 'flip': {
      const [from, to] = m.region === 'header' ? [0, HEADER_SIZE] : m.region === 'slots' ? [HEADER_SIZE, arena] : [arena, out.length];
      if (to <= from) return out;
      let at = from + (m.at % (to - from));
      // In the embeddings layout, most slot flips land in the 128 bytes of fields and key.
      if (m.region === 'slots' && g.slotSize > 128 && m.at % 4 !== 0) at = slotAt(g, m.at % g.slots) + ((m.at >>> 2) % 128);
      out[at]! ^= 1 << m.bit;
      return out;
    }
    case 'header-field': {
      const at = H[m.field];
      if (m.field === 'epoch') dv.setBigUint64(at, BigInt(m.value), true);
      else if (m.field === 'core_flags') out[at] = m.value & 0xff;
      else dv.setUint32(at, m.value >>> 0, true);
      return out;
    }
    case 'slot-field': {
      const slot = pickSlot(g, out, m.slot, m.anySlot);
      const at = slotAt(g, slot) + S[m.field];
      const value = fieldNumber(g, out, slot, m.field, m.value);
      if (m.field === 'hash' || m.field === 'epoch') dv.setBigUint64(at, value & U64_MAX, true);
      else if (m.field === 'type_flag') out[at] = Number(value & 0xffn);
      else dv.setUint32(at, Number(value & 0xffffffffn), true);
      return out;
    }
    case 'key-without-nul': {
      const slot = pickSlot(g, out, m.slot, m.anySlot);
      const raw = out.subarray(slotAt(g, slot) + S.key, slotAt(g, slot) + S.key + KEY_BYTES);
      for (let i = 0; i < KEY_BYTES; i++) if (raw[i] === 0) raw[i] = m.fill;
      return out;
    }
  }
}

/** What a reader must see for `key` in `image` (docs/spec/FORMAT.md §5-6, our API): the first match on its probe path. */
export type ExpectedRead =
  | { kind: 'missing' }
  | { kind: 'busy'; index: number; epoch: bigint } // odd epoch: nobody will release it, so EAGAIN
  | { kind: 'corrupt'; index: number; epoch: bigint } // val_off + val_len past the arena: ECORRUPT
  | { kind: 'value'; index: number; epoch: bigint; bytes: Uint8Array; offset: number };

export function expectedRead(g: ImageGeometry, image: Uint8Array, key: string): ExpectedRead {
  const dv = new DataView(image.buffer, image.byteOffset, image.length);
  const bytes = utf8(key);
  const hash = fnv1a64Oracle(bytes);
  const home = Number(hash % BigInt(g.slots));
  for (let p = 0; p < g.slots; p++) {
    const index = (home + p) % g.slots;
    const at = slotAt(g, index);
    if (dv.getBigUint64(at + S.hash, true) !== hash) continue;
    const stored = image.subarray(at + S.key, at + S.key + KEY_BYTES);
    if (!bytes.every((b, j) => stored[j] === b) || stored[bytes.length] !== 0) continue;
    const epoch = dv.getBigUint64(at + S.epoch, true);
    if ((epoch & 1n) === 1n) return { kind: 'busy', index, epoch };
    const offset = dv.getUint32(at + S.val_off, true);
    const length = dv.getUint32(at + S.val_len, true);
    const arena = g.slots * g.maxValueSize;
    if (length > arena || offset > arena - length) return { kind: 'corrupt', index, epoch };
    const from = arenaOf(g) + offset;
    return { kind: 'value', index, epoch, bytes: image.slice(from, from + length), offset };
  }
  return { kind: 'missing' };
}
