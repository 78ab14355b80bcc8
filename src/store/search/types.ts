/** What store.search takes and gives back (docs/search.md). */
import type { Key } from '../keys/key-text.js';

export interface SearchOptions {
  /** At most this many hits (the best ones); all of them when left out. */
  limit?: number | undefined;
  /** Keep hits whose cosine similarity is at least this (compared as a float32, as C compares). */
  minSimilarity?: number | undefined;
  /** Keep hits whose Euclidean distance is at most this (compared as a float32). */
  maxDistance?: number | undefined;
  /** Label pre-filter: only slots whose labels include every bit of this mask (as enumerateMatches). 0n: none. */
  labels?: bigint | undefined;
  /** Key filter applied before scoring: a RegExp tested on the key, a prefix its bytes must start with, or a predicate. */
  keys?: RegExp | string | ((key: Key) => boolean) | undefined;
  /** A key left out of the search (the CLI leaves out its own scratch key, as C does). */
  exclude?: Key | undefined;
  /**
   * true: split the slots with a worker thread that opens the same store (kept for later searches,
   * ended by close()). Off by default: on a busy 2-core machine it did not pay (bench/README.md,
   * "Search"). A search with a `signal` or a predicate as `keys` runs on one thread.
   */
  parallel?: boolean | undefined;
  /** Stops the search with an AbortError. */
  signal?: AbortSignal | undefined;
}

export interface SearchHit {
  /** A string when the key is UTF-8, else its bytes (as keys() gives it). */
  key: Key;
  /** Cosine similarity, C's float32 formula: 0 when either norm is below 1e-9. */
  similarity: number;
  /** Euclidean distance, C's float32 formula. */
  distance: number;
  /** The slot's epoch when its vector was read. */
  epoch: bigint;
  /** The value's length in bytes. */
  length: number;
  /** The slot's type byte (type_flag). */
  type: number;
  /** The slot's labels (its bloom mask). */
  labels: bigint;
}

export interface SearchResults {
  /** Best first: similarity descending, then distance ascending, then slot order. */
  hits: SearchHit[];
  /** Candidates left out, so that nothing is dropped unseen. */
  skipped: {
    /** Slots that stayed mid-write past the retry budget: their vectors could not be read whole. */
    busy: Key[];
    /** Slots whose vector scores NaN or infinite under C's formula (NaN or infinite components, or overflow). */
    nonFinite: Key[];
  };
  /** How many slots were scored (passed the label, key and value-length selection). */
  scored: number;
  /** How many passed the similarity and distance filters: the hits before the limit cut them (C's active_keys). */
  matched: number;
}
