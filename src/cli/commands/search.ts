/** `splinter search`: C's `search` (docs/search.md): rank keys by how near their embeddings are to a query. */
import { isSplinterError, SplinterError } from '../../errors.js';
import type { Store } from '../../facade/store.js';
import { escapeKey, type Key, type SearchOptions } from '../../facade/inspect.js';
import type { Context } from '../context.js';
import { embedThroughScratch, EMBED_WAIT_MS, parseVectorFile, scratchKeyName } from '../search-query.js';
import { searchJson, searchTable, type SearchRow } from '../search-format.js';
import { CliFailure, UsageError } from '../usage-error.js';
import { parseMask, storedKey } from '../values.js';
import type { Handler } from './handler.js';

const VECTOR_FILE_LIMIT = 1 << 20; // a JSON array of 768 numbers is ~16 KiB

/** C's --bloom: hex with or without 0x (strtoull base 16); also "bit:N". 0: no pre-filter. */
function parseBloom(text: string): bigint {
  const hex = /^(?:0x)?([0-9a-f]+)$/i.exec(text.trim());
  if (hex === null) return parseMask(text, 'search');
  const mask = BigInt(`0x${hex[1]}`);
  if (mask >= 1n << 64n) throw new UsageError(`--bloom takes a 64-bit hex mask, received ${JSON.stringify(text)}`, 'search');
  return mask;
}

/** C's --similarity and --distance: a number; only a positive one filters. */
function parseBound(ctx: Context, name: string): number | undefined {
  const text = ctx.option(name);
  if (typeof text !== 'string') return undefined;
  const value = Number(text.trim());
  if (text.trim() === '' || Number.isNaN(value)) throw new UsageError(`--${name} takes a number, received ${JSON.stringify(text)}`, 'search');
  return value > 0 ? value : undefined;
}

/** The text a --regex is tested on: a UTF-8 key as it is, a bytes key one character per byte (as the library does). */
const keyText = (key: Key): string => (typeof key === 'string' ? key : String.fromCharCode(...key));

interface Query {
  /** What the JSON's "query" shows: the text, the --like key or the --vector file. */
  label: string;
  text?: Uint8Array;
  like?: Key;
  vector?: Float32Array;
}

/** Exactly one source: QUERY (or - for stdin), --file, --like or --vector. */
async function readQuery(ctx: Context, store: Store): Promise<Query> {
  const given = ctx.inv.args[0];
  const file = ctx.option('file');
  const like = ctx.option('like');
  const vector = ctx.option('vector');
  const sources = [given, file, like, vector].filter((x) => x !== undefined).length;
  if (sources === 0) throw new UsageError('search needs a QUERY, - for stdin, --file PATH, --like KEY or --vector FILE', 'search');
  if (typeof file === 'string' && given !== undefined) throw new UsageError('search: --file is mutually exclusive with a positional query.', 'search');
  if (sources > 1) throw new UsageError('search takes one query: QUERY, --file, --like or --vector', 'search');
  if (typeof like === 'string') return { label: like, like: storedKey(ctx.prefix, like, 'search') };
  if (typeof vector === 'string') {
    const bytes = await ctx.inputAtMost(vector, VECTOR_FILE_LIMIT);
    return { label: vector, vector: parseVectorFile(bytes, vector === '-' ? 'stdin' : vector) };
  }
  // C caps the text at max_val_sz - 1 so that the scratch key's set cannot fail for size.
  const cap = Math.max(1, store.maxValueSize - 1);
  const source = typeof file === 'string' ? file : given === '-' ? '-' : undefined;
  const from = source === undefined ? 'the query' : source === '-' ? 'stdin' : source;
  const all = source === undefined ? new TextEncoder().encode(given!) : await ctx.inputAtMost(source, cap);
  if (all.length === 0) throw new CliFailure('EINVAL', `no query text read from ${from}.`);
  if (all.length > cap) ctx.io.err(`search: warning: ${from} exceeded store max_val_sz (${store.maxValueSize}); truncated to ${cap} bytes.`);
  const text = all.subarray(0, cap);
  return { label: Buffer.from(text).toString('utf8'), text };
}

function keyFilter(ctx: Context): SearchOptions['keys'] {
  const pattern = ctx.option('regex');
  let re: RegExp | undefined;
  if (typeof pattern === 'string') {
    try {
      re = new RegExp(pattern);
    } catch (error) {
      throw new UsageError(`--regex ${JSON.stringify(pattern)} is not a regular expression: ${(error as Error).message}`, 'search');
    }
  }
  if (ctx.prefix === '') return re;
  const test = re;
  return (key) => ctx.inNamespace(key) && (test === undefined || test.test(keyText(ctx.shown(key))));
}

/** Without a query vector (no embedding process answered) C still lists the keys its filters pick, unscored. */
function unscoredRows(ctx: Context, store: Store, mask: bigint, keys: SearchOptions['keys'], scratch: string): SearchRow[] {
  const candidates = mask !== 0n ? store.enumerateMatches(mask).map((m) => m.key) : store.keys();
  const rows: SearchRow[] = [];
  for (const key of candidates) {
    if (key === scratch) continue;
    if (keys instanceof RegExp && !keys.test(keyText(key))) continue;
    if (typeof keys === 'function' && !keys(key)) continue;
    const s = store.slotSnapshot(key);
    if (s === undefined || s.epoch === 0n) continue;
    rows.push({ key: escapeKey(ctx.shown(key)), similarity: undefined, distance: undefined, epoch: s.epoch, length: s.valueLength, type: s.typeFlag, labels: s.bloom });
  }
  return rows;
}

export const search: Handler = async (ctx) => {
  const store = ctx.store();
  if (!store.embeddings) throw new SplinterError('ENOTSUP', 'search: this store has 128-byte slots without embeddings (create it with --embeddings)');
  const limitOption = ctx.option('limit') as number | undefined;
  const limit = limitOption === undefined || limitOption === 0 ? undefined : limitOption;
  const minSimilarity = parseBound(ctx, 'similarity');
  const maxDistance = parseBound(ctx, 'distance');
  const bloom = ctx.option('bloom');
  const labels = typeof bloom === 'string' ? parseBloom(bloom) : 0n;
  const keys = keyFilter(ctx);
  const waitOption = ctx.option('wait') as number | undefined;
  const query = await readQuery(ctx, store);
  const scratch = scratchKeyName();
  let vector: Float32Array | Key | undefined = query.vector ?? query.like;
  try {
    if (query.text !== undefined) {
      vector = await embedThroughScratch(store, scratch, query.text, waitOption ?? EMBED_WAIT_MS, (line) => ctx.io.err(line), ctx.signal);
    }
    let rows: SearchRow[];
    let active: number;
    if (vector === undefined) {
      if (ctx.option('regex') === undefined && labels === 0n) {
        ctx.io.err('search: splinference unavailable and no regex/bloom filter; no results.');
        return 0;
      }
      const all = unscoredRows(ctx, store, labels, keys, scratch);
      active = all.length;
      rows = all.slice(0, limit ?? all.length);
    } else {
      const found = runSearch(store, vector, { limit, minSimilarity, maxDistance, labels, keys, exclude: scratch, signal: ctx.signal }, query.label);
      for (const [what, list] of [['stayed mid-write', found.skipped.busy], ['score NaN or infinity', found.skipped.nonFinite]] as const) {
        if (list.length > 0) ctx.io.err(`search: warning: ${list.length} key(s) left out, their slots ${what}: ${list.map((k) => escapeKey(k)).join(', ')}`);
      }
      active = found.matched;
      rows = found.hits.map((h) => ({ ...h, key: escapeKey(ctx.shown(h.key)) }));
    }
    if (ctx.json) ctx.line(searchJson(query.label, store.slots, active, rows));
    else ctx.line(searchTable(rows));
    return 0;
  } finally {
    if (query.text !== undefined) unsetScratch(store, scratch, (line) => ctx.io.err(line));
  }
};

function runSearch(store: Store, vector: Float32Array | Key, options: SearchOptions, label: string): ReturnType<Store['search']> {
  try {
    return store.search(vector, options);
  } catch (error) {
    if (isSplinterError(error, 'ENOENT')) throw new CliFailure('ENOENT', `--like ${label}: no such key`);
    throw error;
  }
}

/** The scratch key goes whatever happened; a failure to remove it is told, not thrown over the search's own outcome. */
function unsetScratch(store: Store, scratch: string, warn: (line: string) => void): void {
  try {
    store.unset(scratch);
  } catch (error) {
    warn(`search: warning: could not remove the scratch key ${scratch}: ${(error as Error).message}`);
  }
}
