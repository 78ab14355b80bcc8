/** store.search's arguments checked once, before the scan: the query vector and the options. */
import { describe, SplinterError } from '../../errors.js';
import { SPLINTER_EMBED_DIM } from '../../layout/constants.js';
import { toU64 } from '../values/u64-bytes.js';
import { keyBytes, type Key } from '../keys/key-text.js';
import type { SearchOptions } from './types.js';

export interface CheckedSearch {
  limit: number;
  /** As float32, or undefined for no filter. */
  minSimilarity: number | undefined;
  maxDistance: number | undefined;
  labels: bigint;
  /** The RegExp or predicate of `keys`, as one test on the key. */
  match: ((key: Key) => boolean) | undefined;
  prefix: Uint8Array | undefined;
  exclude: Uint8Array | undefined;
  signal: AbortSignal | undefined;
}

/** A Float32Array of the store's dimension with finite components, or EINVAL. */
export function checkQuery(query: unknown): Float32Array {
  const real = query instanceof Float32Array && ArrayBuffer.isView(query); // a Proxy passes instanceof
  if (!real || query.length !== SPLINTER_EMBED_DIM) {
    throw new SplinterError(
      'EINVAL',
      `search needs a query Float32Array of ${SPLINTER_EMBED_DIM} values or a key, received ${real ? `${query.length} values` : describe(query)}`,
    );
  }
  for (let i = 0; i < query.length; i++) {
    if (!Number.isFinite(query[i])) throw new SplinterError('EINVAL', `search needs finite query components, received ${query[i]} at index ${i}`);
  }
  return query;
}

function checkBound(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value)) throw new SplinterError('EINVAL', `search option ${name} must be a number, received ${describe(value)}`);
  return Math.fround(value);
}

/** Checks every option; EINVAL names the one that is wrong. @throws {SplinterError} EINVAL */
export function checkSearchOptions(options: SearchOptions | undefined): CheckedSearch {
  const o: SearchOptions = options ?? {};
  if (typeof o !== 'object') throw new SplinterError('EINVAL', `search options must be an object, received ${describe(o)}`);
  const limit = o.limit ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new SplinterError('EINVAL', `search option limit must be a positive integer, received ${describe(o.limit)}`);
  const labels = o.labels === undefined ? 0n : toU64(o.labels, 'search option labels');
  let match: ((key: Key) => boolean) | undefined;
  let prefix: Uint8Array | undefined;
  if (o.keys instanceof RegExp) {
    const pattern = new RegExp(o.keys.source, o.keys.flags.replace(/[gy]/g, '')); // test() must not carry lastIndex from key to key
    match = (key) => pattern.test(keyText(key));
  } else if (typeof o.keys === 'string') prefix = keyBytes(o.keys);
  else if (typeof o.keys === 'function') match = o.keys;
  else if (o.keys !== undefined) throw new SplinterError('EINVAL', `search option keys must be a RegExp, a prefix string or a function, received ${describe(o.keys)}`);
  if (o.parallel !== undefined && typeof o.parallel !== 'boolean') throw new SplinterError('EINVAL', `search option parallel must be a boolean, received ${describe(o.parallel)}`);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new SplinterError('EINVAL', `search option signal must be an AbortSignal, received ${describe(o.signal)}`);
  return {
    limit,
    minSimilarity: checkBound(o.minSimilarity, 'minSimilarity'),
    maxDistance: checkBound(o.maxDistance, 'maxDistance'),
    labels,
    match,
    prefix,
    exclude: o.exclude === undefined ? undefined : keyBytes(o.exclude),
    signal: o.signal,
  };
}

/** The text a RegExp is tested on: a UTF-8 key as it is; a bytes key one character per byte (so a pattern matches bytes, as C's does). */
function keyText(key: Key): string {
  return typeof key === 'string' ? key : String.fromCharCode(...key);
}
