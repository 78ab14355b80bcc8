/** The keeper: removes keys past their deadline (C readers see them gone), tells watchers why, one per store. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import t from 'tap';
import { Store } from '../../src/index.js';
import { keep, type KeepEvent } from '../../src/keep/index.js';
import { lockPath } from '../../src/keep/lock.js';
import { throwsCode, type Test } from '../helpers/assert.js';
import { Peer } from '../helpers/peer.js';
import { shmStore } from '../helpers/shm-store.js';

const hex = (text: string): string => Buffer.from(text).toString('hex');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const makeStore = (t: Test, slots = 64): { store: Store; name: string } => shmStore(t, 'keep', slots);

/** Waits until `check` holds, up to a generous deadline. */
async function eventually(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await sleep(10);
  }
  return check();
}

t.test('the keeper removes an expired key: the C peer reads "not found"', async (t) => {
  const { store, name } = makeStore(t);
  const peer = Peer.open(name);
  t.teardown(() => peer.close());
  store.set('job', 'done', { ttl: 1000 });
  store.set('stays', 'here');
  t.equal((await peer.send({ op: 'get', key: 'job' })).rc, 0, 'C reads it before its deadline');
  const events: KeepEvent[] = [];
  const keeper = keep({ store: name, onEvent: (event) => events.push(event) });
  t.teardown(() => keeper.close());
  t.ok(
    await eventually(async () => (await peer.send({ op: 'get', key: 'job' })).errno === 'ENOENT'),
    'C gets ENOENT once the keeper ran',
  );
  t.same((await peer.send({ op: 'list' })).keys, ['stays'], "C's list has only the key without a deadline");
  t.same(events, [{ type: 'expired', keys: [{ key: 'job', slot: events[0]?.type === 'expired' ? events[0].keys[0]!.slot : -1 }] }], 'one event naming the key');
  t.equal(store.getString('stays'), 'here');
});

t.test('a watcher sees the removal with reason "expired"; a plain unset has none', async (t) => {
  const { store, name } = makeStore(t);
  const keeper = keep({ store: name });
  t.teardown(() => keeper.close());
  store.set('temp', 'x', { ttl: 500 });
  store.set('plain', 'y');
  const changes = store.watch(['temp', 'plain']);
  t.teardown(() => changes.return?.());
  store.unset('plain');
  const first = await changes.next();
  t.same(first.value, { key: 'plain', epoch: 0n }, 'an unset: no reason');
  const second = await changes.next();
  t.same(second.value, { key: 'temp', epoch: 0n, reason: 'expired' }, 'the keeper removal says why');
});

t.test('the keeper leaves a key whose deadline was cleared or moved, and a key C put into the slot', async (t) => {
  const { store, name } = makeStore(t, 1); // one slot: every key lands in slot 0
  store.set('a', 'v', { ttl: 40 });
  store.set('a', 'v2'); // no ttl: the deadline is gone
  const events: KeepEvent[] = [];
  const keeper = keep({ store: name, onEvent: (event) => events.push(event) });
  t.teardown(() => keeper.close());
  await sleep(150);
  t.equal(store.getString('a'), 'v2', 'a key set again without a ttl stays');
  store.set('a', 'v3', { ttl: 300 });
  t.equal(store.expire('a', 60_000), true);
  await sleep(500);
  t.equal(store.getString('a'), 'v3', 'a deadline moved later is honoured');
  store.unset('a');
  store.set('b', 'w', { ttl: 30 });
  // The key expires; before the keeper can act, C removes it and sets another key into the slot.
  await keeper.close();
  await sleep(60);
  const peer = Peer.open(name);
  t.teardown(() => peer.close());
  t.equal((await peer.send({ op: 'unset', key: 'b' })).rc, 1);
  t.equal((await peer.send({ op: 'set', key: 'c', value_hex: hex('C wrote') })).rc, 0);
  const again = keep({ store: name, onEvent: (event) => events.push(event) });
  t.teardown(() => again.close());
  await sleep(150);
  t.equal((await peer.send({ op: 'get', key: 'c' })).rc, 0, "C's key stays");
  t.equal(store.getString('c'), 'C wrote');
  t.same(events, [], 'nothing removed');
});

t.test('a second keeper is refused, naming the first one; a dead keeper\'s lock is taken over', async (t) => {
  const { name } = makeStore(t);
  const first = keep({ store: name });
  const error = throwsCode(t, () => keep({ store: name }), 'EBUSY', 'a second keeper in this process');
  t.match(error?.message, new RegExp(`pid ${process.pid}\\b`), 'the message names the holder');
  await first.close();
  t.notOk(fs.existsSync(lockPath(name)), 'close removes the lock');
  // A lock left by a keeper that died: its pid is no live process.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  fs.writeFileSync(lockPath(name), `${dead.stdout}\n`);
  t.teardown(() => fs.rmSync(lockPath(name), { force: true }));
  const second = keep({ store: name });
  t.equal(fs.readFileSync(lockPath(name), 'utf8'), `${process.pid}\n`, 'the stale lock is ours now');
  await second.close();
});
