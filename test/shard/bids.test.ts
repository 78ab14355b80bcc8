/** The bid table (docs/spec/FORMAT.md §2, §8): claim, refresh, CAS on a free record, ENOSPC, rebid, release, and the bytes they leave. */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import t from 'tap';
import { Intent, Store } from '../../src/index.js';
import { HEADER, SHARD_BID_SIZE, SPLINTER_MAX_BIDS } from '../../src/layout/constants.js';
import { throwsCode } from '../helpers/assert.js';
import { copyFixture, tempDir } from '../helpers/fixtures.js';
import { finishTsWorker, startTsWorker } from '../helpers/ts-worker.js';

const FOREVER = 1n << 60n;
const TABLE_END = HEADER.shard_bids + SPLINTER_MAX_BIDS * SHARD_BID_SIZE;

function shared(t: { teardown(fn: () => void): void }): Store {
  const store = Store.createShared({ slots: 4, maxValueSize: 64 });
  t.teardown(() => store.close());
  return store;
}
const record = (store: Store, index: number): Uint8Array =>
  new Uint8Array(store.buffer!, HEADER.shard_bids + index * SHARD_BID_SIZE, SHARD_BID_SIZE);
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

t.test('a claim writes the 32-byte record exactly as C lays it out', async (t) => {
  const store = shared(t);
  store.shards.claim({ id: 0x01020304, pid: 0x0a0b0c0d, intent: Intent.SEQUENTIAL, priority: 0xfe, duration: 0x1122334455667788n, claimedAt: 0x99aabbccddeeff00n });
  t.equal(
    hex(record(store, 0)),
    '04030201' + '0d0c0b0a' + '02' + 'fe' + '000000000000' + '8877665544332211' + '00ffeeddccbbaa99',
    'shard_id, pid, intent, priority, 6 zero bytes, duration, claimed_at: little-endian',
  );
  t.same(store.shards.table()[0], {
    index: 0,
    shardId: 0x01020304,
    pid: 0x0a0b0c0d,
    intent: 2,
    priority: 0xfe,
    duration: 0x1122334455667788n,
    claimedAt: 0x99aabbccddeeff00n,
    expired: store.shards.table()[0]!.expired,
    sovereign: store.shards.table()[0]!.sovereign,
  });
});

t.test('id 0 is refused, an existing id is refreshed in place, a new id takes the first free record', async (t) => {
  const store = shared(t);
  const s = store.shards;
  const error = throwsCode(t, () => s.claim({ id: 0, intent: 1, priority: 1, duration: 1n }), 'EINVAL', 'claim of id 0');
  t.match(error?.message, /shard id is an integer from 1 to 4294967295.*received 0/);
  for (const bad of [-1, 2 ** 32, 1.5, '7', undefined]) throwsCode(t, () => s.claim({ id: bad as number, intent: 1, priority: 1, duration: 1n }), 'EINVAL', `id ${String(bad)}`);
  s.claim({ id: 10, pid: 100, intent: 1, priority: 100, duration: FOREVER, claimedAt: 1000n });
  s.claim({ id: 11, pid: 200, intent: 2, priority: 200, duration: FOREVER, claimedAt: 2000n });
  s.claim({ id: 12, pid: 300, intent: 4, priority: 255, duration: FOREVER, claimedAt: 3000n });
  t.same(s.table().slice(0, 4).map((r) => r.shardId), [10, 11, 12, 0], 'records taken in order');
  s.claim({ id: 11, pid: 201, intent: 3, priority: 7, duration: 5n, claimedAt: 9n });
  t.match(s.table()[1], { shardId: 11, pid: 201, intent: 3, priority: 7, duration: 5n, claimedAt: 9n }, 'refresh rewrites every field of the same record');
  t.equal(s.table().filter((r) => r.shardId === 11).length, 1, 'no second record for the same id');
  s.release(11);
  t.equal(hex(record(store, 1)), '00'.repeat(32), 'release zeroes the whole record');
  s.claim({ id: 14, pid: 500, intent: 1, priority: 9, duration: 12345n, claimedAt: 5000n });
  t.equal(s.table()[1]!.shardId, 14, 'the freed record is the first free one again');
});

t.test('the 33rd claim is ENOSPC; a full table still refreshes and frees', async (t) => {
  const s = shared(t).shards;
  for (let i = 0; i < SPLINTER_MAX_BIDS; i++) s.claim({ id: 0x100 + i, intent: Intent.RANDOM, priority: 1, duration: FOREVER });
  const error = throwsCode(t, () => s.claim({ id: 0x999, intent: Intent.RANDOM, priority: 1, duration: FOREVER }), 'ENOSPC', '33rd claim');
  t.match(error?.message, /32 records and all hold other shard ids.*shard 2457/);
  s.claim({ id: 0x105, intent: Intent.WILLNEED, priority: 9, duration: FOREVER });
  t.equal(s.table()[5]!.intent, Intent.WILLNEED, 'refreshing an id already in the full table works');
  s.release(0x110);
  s.claim({ id: 0x999, intent: Intent.RANDOM, priority: 1, duration: FOREVER });
  t.equal(s.table()[16]!.shardId, 0x999, 'after one release the next claim gets that record');
});

t.test('rebid rewrites intent, priority, duration and stamps claimedAt; unknown ids are ENOENT', async (t) => {
  const s = shared(t).shards;
  let tick = 1000n;
  s.useClock(() => tick);
  s.claim({ id: 0x12, pid: 77, intent: Intent.WILLNEED, priority: 100, duration: 0n });
  t.match(s.table()[0], { pid: 77, claimedAt: 1000n, expired: true }, 'claimedAt defaults to now(); duration 0 is expired at once');
  tick = 1500n;
  s.rebid(0x12, { intent: Intent.SEQUENTIAL, priority: 101, duration: FOREVER });
  t.match(s.table()[0], { shardId: 0x12, pid: 77, intent: 2, priority: 101, duration: FOREVER, claimedAt: 1500n, expired: false }, 'pid kept, the rest rewritten');
  s.rebid(0x12, { intent: Intent.SEQUENTIAL, priority: 101, duration: 10n, claimedAt: 42n });
  t.equal(s.table()[0]!.claimedAt, 42n, 'an explicit claimedAt (beyond docs/spec/API.md) for callers passing ticks');
  const rebid = throwsCode(t, () => s.rebid(0x13, { intent: 1, priority: 1, duration: 1n }), 'ENOENT', 'rebid of an unknown id');
  t.match(rebid?.message, /cannot rebid shard 19: expected a bid record holding that id, none does/);
  throwsCode(t, () => s.release(0x13), 'ENOENT', 'release of an unknown id');
  throwsCode(t, () => s.rebid(0, { intent: 1, priority: 1, duration: 1n }), 'EINVAL', 'rebid of id 0');
  throwsCode(t, () => s.release(0), 'EINVAL', 'release of id 0');
  s.release(0x12);
  throwsCode(t, () => s.release(0x12), 'ENOENT', 'a second release');
});

t.test('bad fields are EINVAL and write nothing', async (t) => {
  const store = shared(t);
  const s = store.shards;
  const ok = { id: 5, intent: Intent.RANDOM, priority: 3, duration: 10n };
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['intent 5', { ...ok, intent: 5 }, /an intent is one of 0 NONE, 1 WILLNEED, 2 SEQUENTIAL, 3 RANDOM, 4 DONTNEED, received 5/],
    ['intent -1', { ...ok, intent: -1 }, /received -1/],
    ['priority 256', { ...ok, priority: 256 }, /a priority is an integer from 0 to 255.*received 256/],
    ['priority 1.5', { ...ok, priority: 1.5 }, /received 1.5/],
    ['duration -1n', { ...ok, duration: -1n }, /duration must be a u64.*received -1n/],
    ['duration 2^64', { ...ok, duration: 1n << 64n }, /received 18446744073709551616n/],
    ['claimedAt "now"', { ...ok, claimedAt: 'now' }, /claimedAt must be a u64.*received "now"/],
    ['pid -5', { ...ok, pid: -5 }, /a pid is an integer from 0 to 4294967295, received -5/],
  ];
  for (const [what, claim, message] of cases) {
    const error = throwsCode(t, () => s.claim(claim as never), 'EINVAL', what);
    t.match(error?.message, message, `${what}: the message says what was expected and received`);
  }
  throwsCode(t, () => s.claim(null as never), 'EINVAL', 'a null claim');
  throwsCode(t, () => s.rebid(5, undefined as never), 'EINVAL', 'a missing rebid object');
  t.equal(hex(new Uint8Array(store.buffer!, HEADER.shard_bids, TABLE_END - HEADER.shard_bids)), '00'.repeat(1024), 'the table is still empty');
  s.claim({ id: 5, intent: Intent.NONE, priority: 0, duration: 0, claimedAt: 0, pid: 0 });
  t.equal(s.table()[0]!.shardId, 5, 'numbers are accepted where they are safe integers');
});

t.test('bids never touch any epoch, nor any byte outside the bid table', async (t) => {
  const store = Store.create(path.join(tempDir(t), 'e.spl'), { slots: 8, maxValueSize: 32 });
  t.teardown(() => store.close());
  store.set('a', 'x');
  store.set('b', 'y');
  const bytes = store.memory.u8;
  const before = Uint8Array.from(bytes);
  const epoch = store.epoch;
  const s = store.shards;
  s.claim({ id: 1, intent: 1, priority: 1, duration: 5n });
  s.claim({ id: 2, intent: 4, priority: 2, duration: FOREVER, pid: 9, claimedAt: 3n });
  s.rebid(1, { intent: 2, priority: 3, duration: 7n });
  s.election();
  s.table();
  s.isSovereign(2);
  s.release(1);
  t.equal(store.epoch, epoch, 'the global epoch did not move');
  t.equal(store.getEpoch('a'), 2n, 'nor the slot epochs');
  let outside = 0;
  for (let i = 0; i < bytes.length; i++) if ((i < HEADER.shard_bids || i >= TABLE_END) && bytes[i] !== before[i]) outside++;
  t.equal(outside, 0, 'no byte outside 4416..5440 changed');
});

t.test('shards-4x64 (written by C) reads back: records, expiry and the election at chosen ticks', async (t) => {
  const store = Store.open(copyFixture(t, 'shards-4x64'));
  t.teardown(() => store.close());
  const table = store.shards.table(6050n);
  t.same(
    table.slice(0, 5).map(({ shardId, pid, intent, priority, duration, claimedAt, expired }) => [shardId, pid, intent, priority, duration, claimedAt, expired]),
    [
      [10, 101, 3, 50, 99n, 6000n, false],
      [14, 500, 1, 9, 12345n, 5000n, false],
      [12, 300, 4, 255, 1n << 60n, 3000n, false],
      [13, 400, 3, 7, 0n, 4000n, true],
      [0, 0, 0, 0, 0n, 0n, true],
    ],
    'the refreshed 10 kept record 0; 14 took the record 11 freed; 13 has duration 0',
  );
  t.same(store.shards.election(6050n), { id: 10, intent: Intent.RANDOM }, 'at 6050: 10 (priority 50); 12 is DONTNEED behind the live WILLNEED 14');
  t.ok(table[0]!.sovereign && table.filter((r) => r.sovereign).length === 1, 'table() marks exactly the winner');
  t.same(store.shards.election(6099n), { id: 14, intent: Intent.WILLNEED }, 'at 6099 = 6000 + 99, 10 has expired (half-open): 14');
  t.same(store.shards.election(17345n), { id: 12, intent: Intent.DONTNEED }, 'at 17345 = 5000 + 12345, 14 has expired: the bumper falls, 12 wins');
  t.equal(store.shards.election(3000n + (1n << 60n)), undefined, 'when 12 expires too, nothing is live');
});

t.test('worker threads racing for free records: every claim lands in its own record (the CAS)', async (t) => {
  const store = Store.createShared({ slots: 4, maxValueSize: 64 });
  t.teardown(() => store.close());
  const script = pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), 'children', 'claim-worker.ts')).href;
  const barrier = new SharedArrayBuffer(8);
  new Int32Array(barrier)[1] = 4;
  const workers = Array.from({ length: 4 }, (_, w) => startTsWorker(script, { buffer: store.buffer, barrier, first: 1 + w * 8, count: 8 }));
  const results = await Promise.all(workers.map(finishTsWorker));
  t.same(results, ['done', 'done', 'done', 'done']);
  const ids = store.shards.table().map((r) => r.shardId).sort((a, b) => a - b);
  t.same(ids, Array.from({ length: 32 }, (_, i) => i + 1), '32 claims from 4 threads at once: 32 distinct records, none lost');
  throwsCode(t, () => store.shards.claim({ id: 99, intent: 1, priority: 1, duration: 1n }), 'ENOSPC', 'and the table is full');
});
