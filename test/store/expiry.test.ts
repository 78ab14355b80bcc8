/** Key deadlines: set with a ttl, expire, ttl, persist; readers of ours never return a value past its deadline. */
import fs from 'node:fs';
import t from 'tap';
import { Store } from '../../src/index.js';
import { deadlineFilePath } from '../../src/facade/deadline-file.js';
import { DEADLINE_ENTRY_BYTES, DEADLINE_HEADER_BYTES } from '../../src/store/slot/deadlines.js';
import { throwsCode, type Test } from '../helpers/assert.js';
import { Peer } from '../helpers/peer.js';
import { shmStore } from '../helpers/shm-store.js';

const hex = (text: string): string => Buffer.from(text).toString('hex');

const makeStore = (t: Test, slots = 16): { store: Store; name: string } => shmStore(t, 'expiry', slots);

/** The deadline table file of an open shm store. */
function tablePath(name: string): string {
  const stat = fs.statSync(`/dev/shm/${name}`);
  return deadlineFilePath(`${stat.dev}-${stat.ino}`);
}

t.test('a value past its deadline is missing to every reader of ours, with no keeper running', async (t) => {
  const { store } = makeStore(t);
  // Generous deadlines: the checks before them must run before them on a loaded machine too.
  store.set('short', 'gone soon', { ttl: 1000 });
  store.setJSON('doc', { a: 1 }, { ttl: 1000 });
  store.set('stays', 'here');
  t.equal(store.getString('short'), 'gone soon', 'readable before the deadline');
  t.ok(store.has('doc'));
  await new Promise((resolve) => setTimeout(resolve, 1100));
  t.equal(store.get('short'), undefined, 'get');
  t.equal(store.getString('short'), undefined, 'getString');
  t.equal(store.getInto('short', new Uint8Array(64)), -1, 'getInto');
  t.equal(store.getJSON('doc'), undefined, 'getJSON');
  t.equal(store.has('short'), false, 'has');
  t.same(store.keys(), ['stays'], 'keys');
  t.equal(store.count(), 1, 'count');
  t.same([...store.entries()].map(([key]) => key), ['stays'], 'entries');
  t.equal(store.ttl('short'), undefined, 'ttl of an expired key: missing');
  t.equal(store.unset('short'), undefined, 'unset of an expired key: it was missing already');
  t.equal(store.getString('stays'), 'here');
});

t.test('another handle, another process, sees the deadline', async (t) => {
  const { store, name } = makeStore(t);
  const other = Store.open(name);
  t.teardown(() => other.close());
  t.equal(other.getString('k'), undefined);
  store.set('k', 'v', { ttl: 1000 });
  t.equal(other.getString('k'), 'v');
  await new Promise((resolve) => setTimeout(resolve, 1100));
  t.equal(other.getString('k'), undefined, 'the other handle opened the table when the flag appeared');
});

t.test('expire, ttl, persist', async (t) => {
  const { store } = makeStore(t);
  t.equal(store.expire('nope', 1000), false, 'expire of a missing key');
  t.equal(store.ttl('nope'), undefined, 'ttl of a missing key');
  t.equal(store.persist('nope'), false);
  store.set('k', 'v');
  t.equal(store.ttl('k'), Infinity, 'no deadline: Infinity');
  t.equal(store.expire('k', 10_000), true);
  const left = store.ttl('k')!;
  t.ok(left > 9000 && left <= 10_000, `ttl counts down (${left})`);
  t.equal(store.persist('k'), true, 'persist removes it');
  t.equal(store.ttl('k'), Infinity);
  t.equal(store.persist('k'), false, 'nothing left to remove');
  store.expire('k', 20);
  await new Promise((resolve) => setTimeout(resolve, 60));
  t.equal(store.get('k'), undefined, 'expired by expire()');
  t.equal(store.expire('k', 1000), false, 'an expired key cannot be given a new deadline: it is missing');
  throwsCode(t, () => store.expire('k', -1), 'EINVAL', 'a negative ms');
  throwsCode(t, () => store.set('k', 'v', { ttl: Number.NaN }), 'EINVAL', 'a NaN ttl');
});

t.test('a write without a ttl clears the deadline, as Redis SET does; a write with one replaces it', async (t) => {
  const { store } = makeStore(t);
  store.set('k', 'v1', { ttl: 30 });
  store.set('k', 'v2');
  t.equal(store.ttl('k'), Infinity);
  store.setJSON('j', 1, { ttl: 30 });
  store.setJSON('j', 2);
  store.set('l', 'x', { ttl: 30 });
  store.set('l', 'y', { ttl: 60_000 });
  await new Promise((resolve) => setTimeout(resolve, 70));
  t.equal(store.getString('k'), 'v2');
  t.equal(store.getJSON('j'), 2);
  t.equal(store.getString('l'), 'y');
  t.equal(store.unset('l'), 1, 'our unset removes the key and its deadline');
  store.set('l', 'z');
  t.equal(store.ttl('l'), Infinity, 'a key set again after our unset has no deadline');
});

t.test('a deadline never passes to another key C puts into the slot', async (t) => {
  const { store, name } = makeStore(t, 1); // one slot: every key lands in slot 0
  store.set('old', 'v', { ttl: 20 });
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(store.get('old'), undefined, 'expired');
  const peer = Peer.open(name);
  t.teardown(() => peer.close());
  t.equal((await peer.send({ op: 'unset', key: 'old' })).rc, 1, 'C unsets the expired key');
  t.equal((await peer.send({ op: 'set', key: 'new', value_hex: hex('fresh') })).rc, 0, 'C sets another key into the same slot');
  t.equal(store.getString('new'), 'fresh', 'the new key does not inherit the old deadline');
  t.equal(store.ttl('new'), Infinity);
  t.same(store.keys(), ['new']);
});

t.test('hostile bytes in the deadline table: never a crash, a garbage deadline binds no key', async (t) => {
  const { store, name } = makeStore(t, 4);
  store.set('a', 'v', { ttl: 60_000 });
  const file = tablePath(name);
  const bytes = fs.readFileSync(file);
  // Garbage in every entry (the header stays): hashes that are no key's, deadlines of every shape.
  for (let i = DEADLINE_HEADER_BYTES; i < bytes.length; i++) bytes[i] = (i * 131 + 7) & 0xff;
  fs.writeFileSync(file, bytes);
  t.equal(store.getString('a'), 'v', 'a deadline bound to another hash does not apply');
  t.equal(store.ttl('a'), Infinity);
  // An entry bound to the key's own hash with a deadline in 1969 (negative): long past, so missing.
  store.set('a', 'v', { ttl: 60_000 });
  const fd = fs.openSync(file, 'r+');
  const slotOfA = store.slotSnapshot('a')!.index;
  const word = Buffer.alloc(8);
  word.writeBigInt64LE(-5n);
  fs.writeSync(fd, word, 0, 8, DEADLINE_HEADER_BYTES + slotOfA * DEADLINE_ENTRY_BYTES + 8);
  fs.closeSync(fd);
  t.equal(store.get('a'), undefined, 'a deadline before 1970 is past');
  // A table of the wrong size: readers are warned and see no deadlines; a ttl write is refused.
  const other = Store.open(name);
  t.teardown(() => other.close());
  fs.truncateSync(file, 10);
  const warnings: string[] = [];
  const onWarning = (warning: Error & { code?: string }): void => void warnings.push(`${warning.code}`);
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  t.equal(other.getString('a'), 'v', 'an unusable table: no deadlines');
  throwsCode(t, () => other.set('b', 'v', { ttl: 10 }), 'ENOTSUP', 'a ttl write on an unusable table');
  await new Promise((resolve) => setImmediate(resolve));
  t.same(warnings, ['SPLINTER_DEADLINES'], 'warned once');
});

t.test('a SharedArrayBuffer store refuses deadlines', async (t) => {
  const store = Store.createShared({ slots: 4, maxValueSize: 16 });
  t.teardown(() => store.close());
  throwsCode(t, () => store.set('k', 'v', { ttl: 10 }), 'ENOTSUP', 'ttl');
  store.set('k', 'v');
  t.equal(store.getString('k'), 'v');
});
