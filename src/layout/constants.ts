/**
 * Every offset, size and constant of the Splinter format version 4, defined once and
 * named after the C fields (docs/spec/FORMAT.md §2–3). Offsets are in bytes from the start of
 * the header, the slot, or the bid record they belong to.
 */

/** "SLNT": bytes 54 4E 4C 53 on disk. */
export const SPLINTER_MAGIC = 0x534c4e54;
/** The on-disk format version this library reads and writes. */
export const SPLINTER_VER = 4;
/** Key field size: at most 63 bytes of key and a NUL. */
export const KEY_MAX = 64;
/** The longest key we accept, in UTF-8 bytes. */
export const KEY_MAX_BYTES = KEY_MAX - 1;
/** Signal groups in the header; also the bound of a watch group number. */
export const SPLINTER_MAX_GROUPS = 64;
/** Each signal group counter owns one cache line. */
export const SIGNAL_GROUP_STRIDE = 64;
/** Label bits (the bloom mask is one u64). */
export const SPLINTER_BLOOM_BITS = 64;
/** bloom_watches[b] value meaning "this label pulses no group". */
export const BLOOM_WATCH_NONE = 0xff;
/** Words of the event bus dirty mask (16 × 64 = 1024 bits). */
export const DIRTY_MASK_WORDS = 16;
export const DIRTY_MASK_BITS = DIRTY_MASK_WORDS * 64;
/** Logic Shard bid records in the header. */
export const SPLINTER_MAX_BIDS = 32;
export const SHARD_BID_SIZE = 32;
/** Floats per slot in the embeddings build. */
export const SPLINTER_EMBED_DIM = 768;
/** The largest u64 (C's UINT64_MAX): u64 fields wrap past it. */
export const U64_MAX = 0xffffffffffffffffn;
/** The largest u32: the low word of a u64 counter just before it carries into the high word. */
export const U32_MAX = 0xffffffff;
/** Scrub granularity of the hybrid mop mode. */
export const SCRUB_LINE = 64;

/** The header: 5440 bytes. */
export const HEADER = {
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
  size: 5440,
} as const;

/**
 * Header padding (docs/spec/FORMAT.md §2: bytes 26–27, 120–127, 4360–4415) where processes of ours keep
 * shared bookkeeping. C never reads or writes padding after creation (which zeroes it). Every
 * byte ours may write is declared here once; test/layout/constants.test.ts checks that each
 * field lies inside padding and that no two overlap.
 */
export const OURS = {
  /** u8: a waiter of ours has created the doorbell table, so writers look for it (bus/doorbell.ts). */
  bus_present: 26,
  /** u8: some process of ours has given a key a deadline, so readers look at the deadline table (store/slot/deadlines.ts). */
  deadlines_present: 27,
  /** SharedArrayBuffer stores only: waiter count and wake sequence for Atomics.wait (bus/sab-wait.ts). */
  sab_waiters: 4360,
  sab_sequence: 4364,
  /** MOVE_MARKS × u32: each global-epoch move of ours writes its number here (store/keys/reach.ts). */
  move_marks: 4368,
  /** u32: every global-epoch move before this one is known to be ours, or counted in foreign_found. */
  vouched: 4400,
  /** u32: walks that found a global-epoch move not made by ours (a C writer's). */
  foreign_found: 4404,
  /** u32: the foreign_found count the last full scan of the hashes began after. */
  foreign_scanned: 4408,
  /** u32: no key sits more than this many slots past its home slot (the reach). */
  reach: 4412,
} as const;
/** The OURS fields the bus waits on, as indices of 32-bit words from the start of the header. */
export const SAB_WAITERS_W32 = OURS.sab_waiters >>> 2;
export const SAB_SEQUENCE_W32 = OURS.sab_sequence >>> 2;
/** The OURS byte writers look at before looking for a doorbell table. */
export const BUS_PRESENT_BYTE = OURS.bus_present;
/** The OURS byte readers look at before looking for a deadline table. */
export const DEADLINES_PRESENT_BYTE = OURS.deadlines_present;
/** Marks kept of our latest global-epoch moves (a power of two). */
export const MOVE_MARKS = 8;
/** Bytes of each OURS field. */
export const OURS_SIZE = {
  bus_present: 1,
  deadlines_present: 1,
  sab_waiters: 4,
  sab_sequence: 4,
  move_marks: 4 * MOVE_MARKS,
  vouched: 4,
  foreign_found: 4,
  foreign_scanned: 4,
  reach: 4,
} as const satisfies Record<keyof typeof OURS, number>;

/** A slot: 128 bytes, or 3200 in the embeddings build; 64-byte aligned. */
export const SLOT = {
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
  embedding: 128,
} as const;

export const SLOT_SIZE = 128;
export const SLOT_SIZE_EMBEDDINGS = SLOT_SIZE + SPLINTER_EMBED_DIM * 4;

/** A Logic Shard bid record (32 bytes, packed). */
export const SHARD_BID = {
  shard_id: 0,
  pid: 4,
  intent: 8,
  priority: 9,
  duration: 16,
  claimed_at: 24,
} as const;

/** core_flags bits. */
export const SPL_SYS_AUTO_SCRUB = 1 << 0;
export const SPL_SYS_HYBRID_SCRUB = 1 << 1;
/** core_flags after creation: mop mode 1 (hybrid). */
export const CORE_FLAGS_INITIAL = SPL_SYS_AUTO_SCRUB | SPL_SYS_HYBRID_SCRUB;

/** Slot type_flag values (one bit each). */
export const SlotType = {
  VOID: 1,
  BIGINT: 2,
  BIGUINT: 4,
  JSON: 8,
  BINARY: 16,
  IMGDATA: 32,
  AUDIO: 64,
  VARTEXT: 128,
} as const;
export type SlotTypeName = keyof typeof SlotType;
/** One slot type bit (C's type_flag is a byte of them). */
export type SlotType = (typeof SlotType)[SlotTypeName];

/** integer_op operations on a BIGUINT slot. */
export const IntOp = { AND: 0, OR: 1, XOR: 2, NOT: 3, INC: 4, DEC: 5 } as const;
export type IntOp = (typeof IntOp)[keyof typeof IntOp];

/** Logic Shard intents (madvise advice a bid asks for). */
export const Intent = { NONE: 0, WILLNEED: 1, SEQUENTIAL: 2, RANDOM: 3, DONTNEED: 4 } as const;
export type Intent = (typeof Intent)[keyof typeof Intent];

/** Mop (scrub) modes of set_mop/get_mop. */
export const Mop = { OFF: 0, HYBRID: 1, FULL: 2 } as const;
export type Mop = (typeof Mop)[keyof typeof Mop];

/** Global epoch of a freshly created store. */
export const EPOCH_INITIAL = 1n;
/** Slot epoch that unset leaves behind (C stores 0, then adds 2). */
export const EPOCH_AFTER_UNSET = 2;
