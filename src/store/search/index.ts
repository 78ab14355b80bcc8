/** store.search over one handle: the query (a vector, or the embedding of a key) checked, then the scan, on one thread or split. */
import { SplinterError } from '../../errors.js';
import type { KvContext } from '../handle/context.js';
import { getEmbedding } from '../slot/embeddings.js';
import { keyName, type Key } from '../keys/key-text.js';
import { checkQuery, checkSearchOptions, type CheckedSearch } from './options.js';
import { SearchScan } from './scan.js';
import type { SearchOptions, SearchResults } from './types.js';
import { fromWire, readPart, writePart, type WireOptions } from './wire.js';

export type { SearchHit, SearchOptions, SearchResults } from './types.js';
export { partWords, toWire, type WireOptions } from './wire.js';

function prepare(ctx: KvContext, query: Float32Array | Key, options: SearchOptions | undefined): { vector: Float32Array; checked: CheckedSearch } {
  if (!ctx.m.embeddings) {
    throw new SplinterError('ENOTSUP', 'search: this store has 128-byte slots without embeddings (create it with embeddings: true)');
  }
  const checked = checkSearchOptions(options);
  let vector: Float32Array;
  if (typeof query === 'string' || query instanceof Uint8Array) {
    const found = getEmbedding(ctx, query);
    if (found === undefined) throw new SplinterError('ENOENT', `search: no key ${keyName(query)} to take the query vector from`);
    vector = found;
  } else {
    vector = query;
  }
  return { vector: checkQuery(vector), checked };
}

/** @throws {SplinterError} ENOTSUP without embeddings, EINVAL for a bad query or option, ENOENT for a query key that is missing */
export function search(ctx: KvContext, query: Float32Array | Key, options?: SearchOptions): SearchResults {
  const { vector, checked } = prepare(ctx, query, options);
  return new SearchScan(ctx, vector, checked).run();
}

/**
 * A search whose slots from `split` on another thread scans: `start(vector)` hands it that range and
 * returns the wait for its words (undefined: it did not answer, and this thread scans the range itself).
 */
export function searchSplit(
  ctx: KvContext,
  query: Float32Array | Key,
  options: SearchOptions | undefined,
  split: number,
  start: (vector: Float32Array) => () => Float64Array | undefined,
): SearchResults {
  const { vector, checked } = prepare(ctx, query, options);
  const scan = new SearchScan(ctx, vector, checked);
  const wait = start(vector);
  const mine = scan.collect(0, split);
  const words = wait();
  const theirs = words === undefined ? scan.collect(split, ctx.m.slots) : readPart(words, (...hit) => scan.adopt(...hit));
  return scan.complete([mine, theirs]);
}

/** The worker's side: slots [from, to) scanned, the part written into `out`. */
export function searchPartInto(ctx: KvContext, vector: Float32Array, wire: WireOptions, from: number, to: number, out: Float64Array): void {
  const scan = new SearchScan(ctx, checkQuery(vector), checkSearchOptions(fromWire(wire)));
  writePart(scan.collect(from, to), out);
}
