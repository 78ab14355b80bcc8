/** store.search over one handle: the query (a vector, or the embedding of a key) checked, then the scan. */
import { SplinterError } from '../../errors.js';
import type { KvContext } from '../context.js';
import { getEmbedding } from '../embeddings.js';
import { keyName, type Key } from '../key-text.js';
import { checkQuery, checkSearchOptions } from './options.js';
import { SearchScan } from './scan.js';
import type { SearchOptions, SearchResults } from './types.js';

export type { SearchHit, SearchOptions, SearchResults } from './types.js';

/** @throws {SplinterError} ENOTSUP without embeddings, EINVAL for a bad query or option, ENOENT for a query key that is missing */
export function search(ctx: KvContext, query: Float32Array | Key, options?: SearchOptions): SearchResults {
  if (!ctx.m.embeddings) {
    throw new SplinterError('ENOTSUP', 'search: this store has 128-byte slots without embeddings (create it with embeddings: true)');
  }
  const checked = checkSearchOptions(options);
  let vector: Float32Array;
  if (typeof query === 'string' || (query instanceof Uint8Array && !(query instanceof Float32Array))) {
    const found = getEmbedding(ctx, query);
    if (found === undefined) throw new SplinterError('ENOENT', `search: no key ${keyName(query)} to take the query vector from`);
    vector = found;
  } else {
    vector = query;
  }
  return new SearchScan(ctx, checkQuery(vector), checked).run();
}
