import t from 'tap';
import * as C from '../../src/layout/constants.js';

t.test('the constants table (a layout change shows in review)', async (t) => {
  t.matchSnapshot(
    {
      HEADER: C.HEADER,
      SLOT: C.SLOT,
      SHARD_BID: C.SHARD_BID,
      SLOT_SIZE: C.SLOT_SIZE,
      SLOT_SIZE_EMBEDDINGS: C.SLOT_SIZE_EMBEDDINGS,
      SPLINTER_MAGIC: C.SPLINTER_MAGIC,
      SPLINTER_VER: C.SPLINTER_VER,
      KEY_MAX: C.KEY_MAX,
      SlotType: C.SlotType,
      IntOp: C.IntOp,
      Intent: C.Intent,
      Mop: C.Mop,
      OURS: C.OURS,
      OURS_SIZE: C.OURS_SIZE,
    },
    'layout constants',
  );
});

t.test('the header regions tile the 5440-byte header as docs/spec/FORMAT.md §2 draws it', async (t) => {
  const H = C.HEADER;
  t.equal(H.bloom_watches + C.SPLINTER_MAX_GROUPS + 8, H.signal_groups, 'bloom_watches, then 8 bytes of padding');
  t.equal(H.signal_groups + C.SPLINTER_MAX_GROUPS * C.SIGNAL_GROUP_STRIDE, H.dirty_mask, 'one cache line per signal group');
  t.equal(H.dirty_mask + C.DIRTY_MASK_WORDS * 8, H.owner_fd, '16 dirty words');
  t.equal(H.owner_pid + 4 + 56, H.shard_bids, 'owner fd/pid then 56 bytes of padding');
  t.equal(H.shard_bids + C.SPLINTER_MAX_BIDS * C.SHARD_BID_SIZE, H.size, '32 bid records end the header');
  t.equal(H.size % 64, 0, 'slots start 64-byte aligned');
  t.equal(C.SLOT.key + C.KEY_MAX, C.SLOT_SIZE, 'the key ends the 128-byte slot');
  t.equal(C.SLOT_SIZE_EMBEDDINGS, 3200);
  t.equal(C.SHARD_BID.claimed_at + 8, C.SHARD_BID_SIZE);
});

t.test('our bookkeeping bytes lie inside header padding, and no two overlap', async (t) => {
  // docs/spec/FORMAT.md §2: the header's padding (C never reads or writes it after creation).
  const padding = [
    [26, 28],
    [120, 128],
    [4360, 4416],
  ];
  const taken = new Map<number, string>();
  for (const [field, at] of Object.entries(C.OURS)) {
    const size = C.OURS_SIZE[field as keyof typeof C.OURS];
    t.ok(padding.some(([from, to]) => at >= from! && at + size <= to!), `${field} (${at}..${at + size}) is padding`);
    if (size >= 4) t.equal(at % 4, 0, `${field} is 4-byte aligned (Int32Array and Atomics)`);
    for (let b = at; b < at + size; b++) {
      if (taken.has(b)) t.fail(`${field} overlaps ${taken.get(b)} at byte ${b}`);
      taken.set(b, field);
    }
  }
  t.equal(C.MOVE_MARKS & (C.MOVE_MARKS - 1), 0, 'the marks ring is a power of two');
});

t.test('the magic reads "TNLS" on disk', async (t) => {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, C.SPLINTER_MAGIC, true);
  t.equal(Buffer.from(bytes).toString('latin1'), 'TNLS');
});
