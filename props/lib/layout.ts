/**
 * The format-v4 layout written out again from docs/spec/FORMAT.md §2-3, independently of src/layout, so
 * the property tests do not trust the code they test. Also: naming a byte offset for failures.
 */
export const HEADER_SIZE = 5440;
export const SLOT_SIZE = 128;
/** Slot size in the embeddings build: 128 + 768 float32 (docs/spec/FORMAT.md §1, §3). */
export const EMBED_SLOT_SIZE = 3200;
export const EMBED_DIM = 768;
export const EMBED_BYTES = EMBED_DIM * 4;
export const KEY_BYTES = 64;
/** The longest key: the key field less its NUL. */
export const KEY_MAX_BYTES = KEY_BYTES - 1;
/** Signal group counters in the header (bloom_watches and watch groups are bounded by it). */
export const MAX_GROUPS = 64;
/** Each signal group counter owns one cache line. */
export const SIGNAL_GROUP_STRIDE = 64;
/** Label bits: the bloom mask is one u64. */
export const BLOOM_BITS = 64;
/** u64 fields wrap past this. */
export const U64_MAX = 0xffffffffffffffffn;

export const H = {
  magic: 0,
  version: 4,
  slots: 8,
  max_val_sz: 12,
  epoch: 16,
  core_flags: 24,
  user_flags: 25,
  val_brk: 28,
  val_sz: 32,
  alignment: 36,
  parse_failures: 40,
  last_failure_epoch: 48,
  bloom_watches: 56,
  signal_groups: 128,
  dirty_mask: 4224,
  owner_fd: 4352,
  owner_pid: 4356,
  shard_bids: 4416,
} as const;

export const S = {
  hash: 0,
  epoch: 8,
  val_off: 16,
  val_len: 20,
  type_flag: 24,
  user_flag: 25,
  watcher_mask: 32,
  ctime: 40,
  atime: 48,
  bloom: 56,
  key: 64,
  /** Embeddings build only: 768 float32. */
  embedding: 128,
} as const;

export const TYPE_VOID = 1;
export const CF_AUTO_SCRUB = 1;
export const CF_HYBRID_SCRUB = 2;

export interface Geo {
  slots: number;
  maxValueSize: number;
  /** Built with embeddings: 3200-byte slots. */
  embeddings?: boolean;
}

export const slotSize = (g?: Geo): number => (g?.embeddings ? EMBED_SLOT_SIZE : SLOT_SIZE);
export const slotsStart = HEADER_SIZE;
export const arenaStart = (g: Geo): number => HEADER_SIZE + g.slots * slotSize(g);
export const storeBytes = (g: Geo): number => arenaStart(g) + g.slots * g.maxValueSize;
/** Byte offset of slot i (128-byte slots unless the geometry has embeddings). */
export const slotByte = (i: number, g?: Geo): number => HEADER_SIZE + i * slotSize(g);

function fieldAt(table: Record<string, number>, rel: number): string {
  let best = '?';
  let bestAt = -1;
  for (const [name, at] of Object.entries(table)) {
    if (at <= rel && at > bestAt) {
      best = name;
      bestAt = at;
    }
  }
  return `${best}+${rel - bestAt}`;
}

/** "header epoch+0", "slot 3 val_len+0", "arena of slot 2, byte 17". */
export function describeOffset(g: Geo, offset: number): string {
  if (offset < HEADER_SIZE) return `header ${fieldAt(H, offset)}`;
  const a = arenaStart(g);
  if (offset < a) {
    const i = Math.floor((offset - HEADER_SIZE) / slotSize(g));
    return `slot ${i} ${fieldAt(S, (offset - HEADER_SIZE) % slotSize(g))}`;
  }
  if (offset < storeBytes(g)) {
    const rel = offset - a;
    return `arena of slot ${Math.floor(rel / g.maxValueSize)}, byte ${rel % g.maxValueSize}`;
  }
  return `past the store (offset ${offset})`;
}

/** Every differing byte of two equal-size images, grouped by field, for a failure message. */
/**
 * Header padding (docs/spec/FORMAT.md §2: bytes 26–27, 120–127, 4360–4415): C never reads it, and our
 * processes keep bookkeeping there (docs/format.md), so the model leaves it out.
 */
export function isOursPadding(offset: number): boolean {
  return (offset >= 26 && offset < 28) || (offset >= 120 && offset < 128) || (offset >= 4360 && offset < 4416);
}

export function describeDifferences(g: Geo, actual: Uint8Array, expected: Uint8Array, limit = 12): string | undefined {
  if (actual.length !== expected.length) return `sizes differ: ${actual.length} vs ${expected.length}`;
  const lines: string[] = [];
  let count = 0;
  for (let i = 0; i < actual.length; i++) {
    // Our processes' bookkeeping in header padding (docs/format.md) is not part of the model.
    if (actual[i] === expected[i] || isOursPadding(i)) continue;
    count++;
    if (lines.length < limit) lines.push(`  ${describeOffset(g, i)} (offset ${i}): actual ${actual[i]}, model ${expected[i]}`);
  }
  if (count === 0) return undefined;
  return `${count} byte(s) differ:\n${lines.join('\n')}${count > limit ? '\n  …' : ''}`;
}

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
export const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
export const sameBytes = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean =>
  a !== undefined && b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);

/** FNV-1a 64, straight from docs/spec/FORMAT.md §5 with bigints (the oracle; src has its own). */
export function fnv1a64Oracle(bytes: Uint8Array): bigint {
  let h = 14695981039346656037n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 1099511628211n) & U64_MAX;
  return h;
}
