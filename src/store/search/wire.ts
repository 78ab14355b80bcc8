/**
 * A search split between threads: the options as a worker can receive them, and a part's result
 * written into a SharedArrayBuffer (the thread that waits for it is blocked, so no message could
 * reach it). Layout, float64: scored, matched, ranked count, busy count, non-finite count, then per
 * hit index, similarity, distance, epoch high and low 32 bits, then the busy and non-finite indices.
 */
import type { Key } from '../keys/key-text.js';
import type { PartResult } from './scan.js';
import type { SearchOptions } from './types.js';

const HEADER = 5;
const PER_HIT = 5;

/** SearchOptions without what cannot cross to a worker (a predicate, a signal). */
export interface WireOptions {
  limit?: number | undefined;
  minSimilarity?: number | undefined;
  maxDistance?: number | undefined;
  labels?: bigint | undefined;
  prefix?: string | undefined;
  pattern?: { source: string; flags: string } | undefined;
  exclude?: Key | undefined;
}

/** The options for a worker, or undefined when they cannot go to one (a predicate as `keys`). */
export function toWire(o: SearchOptions | undefined): WireOptions | undefined {
  if (o === undefined) return {};
  if (typeof o.keys === 'function') return undefined;
  const keys = o.keys;
  return {
    limit: o.limit,
    minSimilarity: o.minSimilarity,
    maxDistance: o.maxDistance,
    labels: o.labels,
    prefix: typeof keys === 'string' ? keys : undefined,
    pattern: keys instanceof RegExp ? { source: keys.source, flags: keys.flags } : undefined,
    exclude: o.exclude,
  };
}

export function fromWire(w: WireOptions): SearchOptions {
  return {
    limit: w.limit,
    minSimilarity: w.minSimilarity,
    maxDistance: w.maxDistance,
    labels: w.labels,
    keys: w.pattern !== undefined ? new RegExp(w.pattern.source, w.pattern.flags) : w.prefix,
    exclude: w.exclude,
  };
}

/** Float64 words a part of `slots` slots may need, with at most `limit` hits. */
export function partWords(slots: number, limit: number): number {
  return HEADER + PER_HIT * Math.min(limit, slots) + 2 * slots;
}

export function writePart(part: PartResult, out: Float64Array): void {
  if (partWordsOf(part) > out.length) throw new RangeError(`a search part needs ${partWordsOf(part)} words, the buffer has ${out.length}`);
  out[0] = part.scored;
  out[1] = part.matched;
  out[2] = part.ranked.length;
  out[3] = part.busy.length;
  out[4] = part.nonFinite.length;
  let at = HEADER;
  for (const hit of part.ranked) {
    out[at++] = hit.index;
    out[at++] = hit.similarity;
    out[at++] = hit.distance;
    out[at++] = Number(hit.epoch >> 32n);
    out[at++] = Number(hit.epoch & 0xffffffffn);
  }
  for (const index of part.busy) out[at++] = index;
  for (const index of part.nonFinite) out[at++] = index;
}

function partWordsOf(part: PartResult): number {
  return HEADER + PER_HIT * part.ranked.length + part.busy.length + part.nonFinite.length;
}

/** A written part, its hits handed to `adopt` (which reads their keys and metadata on this thread). */
export function readPart(words: Float64Array, adopt: (index: number, similarity: number, distance: number, epoch: bigint, part: PartResult) => void): PartResult {
  const part: PartResult = { ranked: [], busy: [], nonFinite: [], scored: words[0]!, matched: words[1]! };
  const ranked = words[2]!;
  const busy = words[3]!;
  const nonFinite = words[4]!;
  let at = HEADER;
  for (let i = 0; i < ranked; i++, at += PER_HIT) {
    adopt(words[at]!, words[at + 1]!, words[at + 2]!, (BigInt(words[at + 3]!) << 32n) | BigInt(words[at + 4]!), part);
  }
  for (let i = 0; i < busy; i++) part.busy.push(words[at++]!);
  for (let i = 0; i < nonFinite; i++) part.nonFinite.push(words[at++]!);
  return part;
}
