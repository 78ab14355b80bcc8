/**
 * Keys for the model test of one geometry: a pool that collides on a few home slots, the
 * edge keys (empty, 63 bytes ASCII and multi-byte, 4-byte characters), random well-formed
 * keys, and keys our library must refuse with EINVAL (never sent to the C peer).
 */
import fc from 'fast-check';
import { fnv1a64, fnv1a64Into, homeSlot } from '../../src/layout/fnv1a.js';
import { fnv1a64Oracle, KEY_MAX_BYTES, utf8 } from '../lib/layout.js';

/** Does our library accept this key? (≤ 63 UTF-8 bytes, no NUL, well-formed UTF-16.) */
export function validKey(key: string): boolean {
  return key.isWellFormed() && !key.includes('\0') && utf8(key).length <= KEY_MAX_BYTES;
}

export function homeOf(key: string, slots: number): number {
  const out = { hi: 0, lo: 0 };
  const bytes = utf8(key);
  fnv1a64Into(bytes, bytes.length, out);
  return homeSlot(out.hi, out.lo, slots);
}

/**
 * `perHome` keys for each of `homes`, alternating ASCII and multi-byte spellings, found by
 * walking candidates with src's fnv1a64/homeSlot (and checked against the bigint oracle).
 */
export function collidingPool(slots: number, homes: number[], perHome: number): string[] {
  const stems = ['c', 'ключ-', '鍵', 'k🗝'];
  const pool: string[] = [];
  for (const home of homes) {
    let found = 0;
    for (let n = 0; found < perHome; n++) {
      const key = `${stems[(found + home) % stems.length]!}${home}.${n}`;
      if (homeOf(key, slots) !== home) continue;
      const bytes = utf8(key);
      if (fnv1a64(bytes) !== fnv1a64Oracle(bytes) || Number(fnv1a64Oracle(bytes) % BigInt(slots)) !== home) {
        throw new Error(`src fnv1a64/homeSlot disagree with docs/spec/FORMAT.md §5 for ${JSON.stringify(key)}`);
      }
      pool.push(key);
      found++;
    }
  }
  return pool;
}

export const EDGE_KEYS = [
  '', // the empty key is legal
  'k'.repeat(63), // 63 ASCII bytes: the longest key
  '€'.repeat(21), // 63 bytes of 3-byte characters
  'x'.repeat(61) + 'é', // 63 bytes, 62 UTF-16 units
  '🗝', // one 4-byte character (a surrogate pair)
  'ключ',
];

/** Keys our library refuses with EINVAL. */
export const INVALID_KEYS = [
  'k'.repeat(64), // 64 bytes: C would store it truncated
  'x'.repeat(62) + 'é', // 64 bytes in 63 UTF-16 units
  'é'.repeat(32), // 64 bytes of 2-byte characters
  '€'.repeat(22), // 66 bytes
  '🗝'.repeat(16), // 64 bytes in 32 units
  'a\0b', // NUL
  '\ud800', // lone surrogate
];

export interface KeySpace {
  pool: string[];
  arbitrary: fc.Arbitrary<string>;
}

export function keySpace(slots: number): KeySpace {
  // Three home slots, the last one wrapping (slots - 1), three keys each: more than 8 slots hold.
  // A small pool, drawn from most of the time, so sequences keep revisiting the same probe
  // paths: that is what leaves holes in front of keys and lets C duplicate them (Q1).
  const homes = [0, Math.floor(slots / 2), slots - 1];
  const pool = collidingPool(slots, homes, 3);
  const random = fc.string({ unit: 'grapheme', maxLength: 10 }).filter(validKey);
  const arbitrary = fc.oneof(
    { weight: 40, arbitrary: fc.constantFrom(...pool) },
    { weight: 4, arbitrary: fc.constantFrom(...EDGE_KEYS) },
    { weight: 1, arbitrary: random },
    { weight: 1, arbitrary: fc.constantFrom(...INVALID_KEYS) },
  );
  return { pool, arbitrary };
}
