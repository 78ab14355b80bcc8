/** The home slot of a key (where its probe starts), computed from its UTF-8 bytes as the library does. */
import { fnv1a64, homeSlot } from '../../src/layout/fnv1a.js';

export function homeOf(key: string, slots: number): number {
  const h = fnv1a64(new TextEncoder().encode(key));
  return homeSlot(Number(h >> 32n) | 0, Number(h & 0xffffffffn) | 0, slots);
}
