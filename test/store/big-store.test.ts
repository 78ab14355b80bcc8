/**
 * Stores past 2 GiB (the format's limit is 4 GiB - 1: the header records the file size in the
 * u32 val_sz): a sparse file store is written at its last slot, read back, advised past 2 GiB,
 * and read by the C peer; a store whose slot table passes 2 GiB finds its keys there.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { Intent, Store } from '../../src/index.js';
import { SLOT } from '../../src/layout/constants.js';
import { storeSize } from '../../src/layout/geometry.js';
import { throwsCode } from '../helpers/assert.js';
import { shmName, tempDir } from '../helpers/fixtures.js';
import { homeOf } from '../helpers/home.js';
import { Peer } from '../helpers/peer.js';
import { routeSkip } from '../helpers/routes.js';

// Each store here is reserved in full at create (gigabytes of zeroed pages): slower than tap's default allows on a busy machine.
t.setTimeout(300_000);

const SLOTS = 64;
const MAX_VALUE = 40 * 2 ** 20; // 64 × 40 MiB: a 2.5 GiB arena
const utf8 = new TextEncoder();

/** The first key `big-<i>` (i from `from` on) whose home slot in a store of `slots` passes `test`. */
function keyHomed(slots: number, test: (home: number) => boolean, from = 0): string {
  for (let i = from; ; i++) {
    const key = `big-${i}`;
    if (test(homeOf(key, slots))) return key;
  }
}

t.test('a file store larger than 2 GiB: written at its last slot, read back, advised there, read by the C peer', async (t) => {
  const file = path.join(tempDir(t), 'big.spl');
  const size = storeSize(SLOTS, MAX_VALUE, false);
  t.ok(size > 2 ** 31, `${size} bytes is past 2 GiB`);
  const store = Store.create(file, { slots: SLOTS, maxValueSize: MAX_VALUE }, { mapping: 'koffi' });
  t.teardown(() => store.close());
  t.equal(fs.statSync(file).size, size);
  const key = keyHomed(SLOTS, (home) => home === SLOTS - 1); // its value region starts past 2 GiB
  const value = new Uint8Array(64 * 1024).map((_, i) => (i * 7 + 3) & 0xff);
  value.set(utf8.encode('the last slot'), 0);
  store.set(key, value);
  const slot = store.slotSnapshot(key)!;
  t.equal(slot.index, SLOTS - 1, 'the key sits in the last slot');
  t.equal(slot.valueOffset, (SLOTS - 1) * MAX_VALUE, 'its value starts past 2 GiB into the arena');
  t.same(store.get(key), value, 'read back');
  t.equal(store.headerSnapshot().valSz, size, 'val_sz records the whole size');

  // madvise past 2 GiB: full 64-bit offsets on the koffi route.
  store.shards.claim({ id: 7, intent: Intent.RANDOM, priority: 1, duration: 2n ** 64n - 1n });
  await t.resolves(store.shards.madvise(7, { offset: slot.valueOffset, length: value.length, advice: 'random' }), 'madvise of the last slot, past 2 GiB, accepted');
  store.flush();

  const peer = Peer.open(file);
  t.teardown(() => peer.kill());
  t.equal((await peer.ready).max_val_sz, MAX_VALUE);
  const answer = await peer.send({ op: 'get', key });
  t.equal(answer.rc, 0, 'the C peer finds the key');
  t.equal(answer['value_hex'], Buffer.from(value).toString('hex'), 'and reads the same bytes');
  const back = await peer.send({ op: 'set', key: 'from-c', value_hex: Buffer.from('written by C').toString('hex') });
  t.equal(back.rc, 0);
  t.equal(await peer.close(), 0);
  t.equal(store.getString('from-c'), 'written by C', 'and we read what the peer wrote');

  store.close();
  using again = Store.open(file);
  t.same(again.get(key), value, 'reopened: the value is still there');
});

t.test('the mmap-io route refuses a store past 2 GiB, naming its limit', { skip: routeSkip('mmap-io') }, async (t) => {
  const file = path.join(tempDir(t), 'big.spl');
  const error = throwsCode(t, () => Store.create(file, { slots: SLOTS, maxValueSize: MAX_VALUE }, { mapping: 'mmap-io' }), 'ENOTSUP', 'mmap-io');
  t.match(error?.message, /maps at most 2147483647 bytes.*koffi/);
  t.equal(fs.existsSync(file), false, 'nothing is left behind');
});

t.test('create refuses a geometry past the format limit (4 GiB - 1), naming it', async (t) => {
  const file = path.join(tempDir(t), 'huge.spl');
  const error = throwsCode(t, () => Store.create(file, { slots: 2, maxValueSize: 2 ** 31 }), 'EINVAL', 'past 4 GiB');
  t.match(error?.message, /the format records sizes up to 4294967295 bytes/);
  t.equal(fs.existsSync(file), false);
});

t.test('a slot table past 2 GiB: a key stored there is matched byte by byte too (bytes after its NUL are not compared)', async (t) => {
  // 17 M slots of 128 bytes: slots past index 16 777 173 start past 2^31 bytes, where a 32-bit shift turns negative.
  const slots = 17_000_000;
  const name = shmName(t);
  const store = Store.create(name, { slots, maxValueSize: 8 }, { mapping: 'koffi' });
  t.teardown(() => {
    store.close();
    Store.unlink(name);
  });
  // 9 bytes (big-10000 on): the key's last word holds its NUL and two bytes more.
  const firstPast = Math.ceil((2 ** 31 - store.memory.slotsStart) / store.memory.slotSize);
  const key = keyHomed(slots, (home) => home >= firstPast, 10_000);
  store.set(key, 'one');
  const slot = store.slotSnapshot(key)!;
  const slotByte = store.memory.slotByte(slot.index);
  t.ok(slotByte > 2 ** 31, `the key's slot starts at byte ${slotByte}, past 2 GiB`);
  // A foreign writer may leave bytes after the NUL (only the bytes up to it name the key): the word compare fails, the byte compare decides.
  store.memory.u8[slotByte + SLOT.key + utf8.encode(key).length + 1] = 0x7a;
  using other = Store.open(name, { mapping: 'koffi' });
  t.equal(other.getString(key), 'one', 'a handle that never saw the key finds it');
  other.set(key, 'two');
  t.equal(store.getString(key), 'two', 'and overwrites it in place');
  t.equal([...other.keys()].filter((k) => k === key).length, 1, 'one copy of the key');
  t.equal(other.unset(key), 3);
  t.equal(store.has(key), false);
});
