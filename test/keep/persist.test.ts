/** Persistence: the keeper keeps a file copy (C can open it), makes a last copy at close, restores a missing store; splinter restore. */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { Store } from '../../src/index.js';
import { keep, restoreStore, type KeepEvent } from '../../src/keep/index.js';
import { Persister } from '../../src/keep/persist.js';
import { SLOT } from '../../src/layout/constants.js';
import { throwsCode, type Test } from '../helpers/assert.js';
import { shmName, tempDir } from '../helpers/fixtures.js';
import { Peer } from '../helpers/peer.js';
import { cli } from '../cli/helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const hex = (text: string): string => Buffer.from(text).toString('hex');

function setup(t: Test): { name: string; file: string } {
  const name = shmName(t, 'persist');
  const file = path.join(tempDir(t), 'copy.spl');
  t.teardown(() => {
    try {
      Store.unlink(name);
    } catch {
      // already gone
    }
  });
  return { name, file };
}

t.test('the file follows the store within the interval, and C reads it', async (t) => {
  const { name, file } = setup(t);
  const store = Store.create(name, { slots: 64, maxValueSize: 64 });
  t.teardown(() => store.close());
  const keeper = keep({ store: name, persist: file, interval: 50 });
  t.teardown(() => keeper.close());
  store.set('greeting', 'hello');
  store.setJSON('doc', { n: 1 });
  await sleep(300);
  const peer = Peer.open(file);
  t.teardown(() => peer.close());
  t.same(await peer.send({ op: 'get', key: 'greeting' }), { rc: 0, value_hex: hex('hello') }, 'C reads the value in the file');
  t.same(((await peer.send({ op: 'list' })).keys as string[]).sort(), ['doc', 'greeting'], 'C lists the keys');
  store.unset('greeting');
  store.set('late', 'written just before close');
  await keeper.close();
  t.equal((await peer.send({ op: 'get', key: 'late' })).rc, 0, 'close makes a last copy');
  t.equal((await peer.send({ op: 'get', key: 'greeting' })).errno, 'ENOENT', 'an unset reaches the file too');
});

t.test('a keeper started on a missing store restores it from the file first', async (t) => {
  const { name, file } = setup(t);
  const store = Store.create(name, { slots: 32, maxValueSize: 64 });
  store.set('a', '1');
  store.set('b', '2');
  const first = keep({ store: name, persist: file, interval: 50 });
  await first.close();
  store.close();
  Store.unlink(name); // a reboot
  const events: KeepEvent[] = [];
  const second = keep({ store: name, persist: file, onEvent: (event) => events.push(event) });
  t.teardown(() => second.close());
  t.same(events.map((event) => event.type), ['restored'], 'restored before keep returned');
  t.same(second.store.keys().sort(), ['a', 'b']);
  t.equal(second.store.getString('b'), '2');
  throwsCode(t, () => restoreStore(name, file), 'EEXIST', 'restore refuses a store that exists');
});

t.test('a restore drops a slot the file holds mid-copy and keeps the others', async (t) => {
  const { name, file } = setup(t);
  const store = Store.create(name, { slots: 8, maxValueSize: 32 });
  store.set('whole', 'kept');
  store.set('torn', 'dropped');
  const slot = store.slotSnapshot('torn')!.index;
  const keeper = keep({ store: name, persist: file, interval: 50 });
  await keeper.close();
  store.close();
  Store.unlink(name);
  // A keeper killed inside the copy of a slot leaves its epoch odd.
  const copy = Store.open(file);
  const epochW = copy.memory.epochW32(copy.memory.slotByte(slot));
  copy.memory.u32[epochW] = copy.memory.u32[epochW]! | 1;
  copy.close();
  const report = restoreStore(name, file);
  t.same(report, { slots: 8, keys: 1, dropped: 1 });
  const restored = Store.open(name);
  t.teardown(() => restored.close());
  t.same(restored.keys(), ['whole']);
  t.equal(restored.getString('whole'), 'kept');
  t.equal(restored.memory.u32[restored.memory.epochW32(restored.memory.slotByte(slot))]! & 1, 0, 'the dropped slot is even again');
  t.equal(restored.memory.u32[(restored.memory.slotByte(slot) + SLOT.val_len) >>> 2], 0);
});

t.test('splinter restore and splinter keep --persist', async (t) => {
  const { name, file } = setup(t);
  const store = Store.create(name, { slots: 16, maxValueSize: 64 });
  store.set('k', 'v');
  const keeper = keep({ store: name, persist: file });
  await keeper.close();
  store.close();
  Store.unlink(name);
  const done = cli(['restore', '--use', name, '--from', file]);
  t.equal(done.code, 0, done.stderr);
  t.equal(done.stdout, `restored ${name} from ${file}: 1 key\n`);
  const again = cli(['restore', '--use', name, '--from', file]);
  t.equal(again.code, 1);
  t.match(again.stderr, /exists/);
  t.ok(fs.existsSync(`/dev/shm/${name}`));
});

t.test('passes come every half interval, so a write is in the file within the interval', async (t) => {
  const { name, file } = setup(t);
  const store = Store.create(name, { slots: 16, maxValueSize: 64 });
  t.teardown(() => store.close());
  const passes: number[] = [];
  const keeper = keep({ store: name, persist: file, interval: 1000, onEvent: (event) => void (event.type === 'persisted' && passes.push(event.startedAt)) });
  await sleep(4400);
  await keeper.close();
  // Every 500 ms: 8 passes in 4.4 s (each may come late on a loaded machine); every 1000 ms would make 4.
  t.ok(passes.length - 1 >= 6, `${passes.length - 1} passes in 4.4 s with an interval of 1000 ms`);
});

t.test('the file reaches the disk on the thread pool: one fdatasync at a time, and close waits for none', async (t) => {
  const { name, file } = setup(t);
  const store = Store.create(name, { slots: 16, maxValueSize: 64 });
  t.teardown(() => store.close());
  const descriptors = (): number => fs.readdirSync('/proc/self/fd').length;
  const before = descriptors();
  const persister = new Persister(store, file);
  persister.pass(false);
  const results: (Error | null)[] = [];
  const done = new Promise<void>((resolve) => t.ok(persister.flushInBackground((error) => (results.push(error), resolve())), 'started'));
  t.notOk(persister.flushInBackground(() => results.push(new Error('a second one ran'))), 'a second one waits for the first');
  await done;
  t.same(results, [null], 'the fdatasync succeeded');
  const again = new Promise<void>((resolve) => persister.flushInBackground(() => resolve()));
  persister.close(); // while the second one may still run
  await again;
  await sleep(50);
  t.equal(descriptors(), before, 'the mapping and the descriptor are closed once the last fdatasync returned');
  t.notOk(persister.flushInBackground(() => {}), 'none after close');
});

t.test('sync: the file goes to disk every sync ms; without it only at close; a bad sync is EINVAL', async (t) => {
  const { name, file } = setup(t);
  const store = Store.create(name, { slots: 16, maxValueSize: 64 });
  t.teardown(() => store.close());
  const flushes = async (sync: number | undefined): Promise<boolean[]> => {
    const seen: boolean[] = [];
    const keeper = keep({ store: name, persist: file, interval: 100, sync, onEvent: (event) => void (event.type === 'persisted' && seen.push(event.flushed)) });
    await sleep(1500);
    await keeper.close();
    return seen;
  };
  const withSync = await flushes(200);
  t.ok(withSync.slice(0, -1).filter(Boolean).length >= 2, `sync 200: ${withSync.filter(Boolean).length} of ${withSync.length} copies started a write to disk`);
  const without = await flushes(undefined);
  t.same(without.slice(0, -1).filter(Boolean), [], 'no sync: no copy but the last one writes to disk');
  t.equal(without.at(-1), true, 'the last copy, at close, is written to disk');
  for (const bad of [0, -1, 1.5, '100', 2 ** 31]) {
    throwsCode(t, () => keep({ store: name, persist: file, sync: bad as number }), 'EINVAL', `sync ${String(bad)}`);
  }
});
