/** poll, pollSync, watch and signals, in one process and across processes. */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import t from 'tap';
import { isSplinterError, Store, type KeyChange } from '../../src/index.js';
import { throwsCode } from '../helpers/assert.js';
import { shmName } from '../helpers/fixtures.js';
import { Peer, peerBinary } from '../helpers/peer.js';
import { finishTsWorker, startTsWorker } from '../helpers/ts-worker.js';

const children = path.join(path.dirname(fileURLToPath(import.meta.url)), 'children');

const makers = {
  shm: (t: Parameters<typeof shmName>[0]) => Store.create(shmName(t), { slots: 32, maxValueSize: 64 }),
  shared: () => Store.createShared({ slots: 32, maxValueSize: 64 }),
};

for (const [kind, make] of Object.entries(makers)) {
  t.test(`${kind}: poll resolves true on change, false on timeout, rejects on abort`, async (t) => {
    const store = make(t);
    t.teardown(() => store.close());
    store.set('k', 'v1');
    t.equal(await store.poll('k', { timeout: 30 }), false, 'nothing changed: false after the timeout');
    setTimeout(() => store.set('k', 'v2'), 15);
    t.equal(await store.poll('k', { timeout: 2000 }), true, 'a set is a change');
    setTimeout(() => store.unset('k'), 15);
    t.equal(await store.poll('k', { timeout: 2000 }), true, 'an unset is a change (the slot epoch moves on)');
    setTimeout(() => store.set('k', 'back'), 15);
    t.equal(await store.poll('k', { timeout: 2000 }), true, 'creation of a missing key is a change');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 15);
    await t.rejects(store.poll('k', { signal: controller.signal }), { name: 'AbortError' }, 'abort rejects with an AbortError');
    const mine = new Error('mine');
    await t.rejects(store.poll('k', { signal: AbortSignal.abort(mine) }), { name: 'AbortError', cause: mine }, 'an already aborted signal: an AbortError caused by its reason');
    t.equal(await store.poll('k', { timeout: 0 }), false, 'timeout 0 checks once');
    await t.rejects(store.poll('k', { timeout: -1 }), { code: 'EINVAL' });
  });

  t.test(`${kind}: watch over several keys, coalescing, return()`, async (t) => {
    const store = make(t);
    t.teardown(() => store.close());
    store.set('a', '1');
    const changes = store.watch(['a', 'b']);
    store.set('a', '2');
    store.set('a', '3');
    store.set('b', 'new');
    const within = <T>(promise: Promise<T>): Promise<T> =>
    Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('no change reported within 5 s')), 5000).unref())]);
  const first = await within(changes.next());
    const second = await within(changes.next());
    t.same(
      [first.value, second.value],
      [
        { key: 'a', epoch: store.getEpoch('a') },
        { key: 'b', epoch: 2n },
      ],
      'two writes to a coalesce into one change with the latest epoch; b reports its creation',
    );
    setTimeout(() => store.unset('b'), 10);
    t.same((await changes.next()).value, { key: 'b', epoch: 0n }, 'an unset reports epoch 0');
    t.same(await changes.return!(), { value: undefined, done: true });
    t.same(await changes.next(), { value: undefined, done: true }, 'ended after return()');
  });

  t.test(`${kind}: abort and close end watch iterators; close rejects polls`, async (t) => {
    const store = make(t);
    const controller = new AbortController();
    const aborted = store.watch('x', { signal: controller.signal });
    const pending = aborted.next();
    controller.abort();
    await t.rejects(pending, { name: 'AbortError' }, 'abort ends the iteration with an AbortError (test/bus/abort.test.ts)');
    t.same(await aborted.next(), { value: undefined, done: true }, 'then it is done');
    const iterator = store.watch(['x', 'y']);
    const pull = iterator.next();
    const signals = store.signals(0);
    const signalPull = signals.next();
    const poll = store.poll('x');
    store.close();
    t.same(await pull, { value: undefined, done: true }, 'close ends watch');
    t.same(await signalPull, { value: undefined, done: true }, 'close ends signals');
    await t.rejects(poll, { code: 'ECLOSED' });
    throwsCode(t, () => store.watch('x'), 'ECLOSED', 'watch on a closed store');
  });

  t.test(`${kind}: signals yields the group counter as it changes`, async (t) => {
    const store = make(t);
    t.teardown(() => store.close());
    store.set('s', 'v');
    store.watchRegister('s', 7);
    const counts = store.signals(7);
    store.set('s', 'w');
    t.equal((await counts.next()).value, 1n, 'a write to a watched key pulses its group');
    store.pulseKeygroup('s');
    store.bumpSlot('s');
    t.equal((await counts.next()).value, 3n, 'pulse and bump pulse too (coalesced)');
    await counts.return!();
    throwsCode(t, () => store.signals(64), 'EINVAL', 'group 64');
  });

  t.test(`${kind}: pollSync`, async (t) => {
    const store = make(t);
    t.teardown(() => store.close());
    store.set('k', 'v');
    const started = performance.now();
    t.equal(store.pollSync('k', 30), false, 'times out');
    t.ok(performance.now() - started >= 29, 'after the timeout');
    throwsCode(t, () => store.pollSync('k', Number.NaN), 'EINVAL', 'NaN timeout');
  });
}

t.test('pollSync wakes on a write from a worker (SharedArrayBuffer)', async (t) => {
  const store = Store.createShared({ slots: 8, maxValueSize: 64 });
  store.set('from-main', 'x');
  store.set('counter-log', 'm'); // the worker appends to it
  const worker = startTsWorker(pathToFileURL(path.join(children, '..', '..', 'store', 'children', 'worker.ts')).href, { buffer: store.buffer });
  t.equal(store.pollSync('from-worker', 20_000), true, 'the worker created the key');
  t.equal(await finishTsWorker(worker), 'done');
  t.equal(store.getString('from-worker'), 'worker saw x');
  t.equal(store.getString('counter-log'), 'mw');
});

t.test('watch a store from another process, including a key created after the watch began', async (t) => {
  const name = shmName(t);
  const store = Store.create(name, { slots: 64, maxValueSize: 64 });
  t.teardown(() => store.close());
  store.set('existing', 'v');
  const changes = store.watch(['existing', 'later']);
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(children, 'setter.ts'), name, '300', 'existing=v2', 'later=born'], {
    stdio: 'inherit',
  });
  const seen: KeyChange[] = [];
  for await (const change of changes) {
    seen.push(change);
    if (seen.some((c) => c.key === 'later')) break;
  }
  await new Promise((resolve) => child.once('exit', resolve));
  t.same(
    seen.map((c) => c.key),
    ['existing', 'later'],
    'both changes reported, in the order they happened',
  );
  t.equal(seen[1]!.epoch, 2n, 'the new key reports its first epoch');
  t.equal(store.getString('later'), 'born');
});

t.test('a watch follows the copy readers see when C stores a key twice (docs/spec/FORMAT.md §9 Q1)', { skip: !fs.existsSync(peerBinary) && 'no C peer built' }, async (t) => {
  // k0 and k4 share home slot 2 of a 4-slot store: k4 lands in slot 3; once k0 leaves, C puts a new k4 in slot 2.
  const name = shmName(t);
  const store = Store.create(name, { slots: 4, maxValueSize: 16 });
  t.teardown(() => store.close());
  store.set('k0', 'zero');
  store.set('k4', 'old');
  const peer = Peer.open(name);
  t.teardown(() => peer.close());
  await peer.ready;
  const changes = store.watch('k4');
  const hex = (text: string): string => Buffer.from(text).toString('hex');
  await peer.send({ op: 'unset', key: 'k0' });
  await peer.send({ op: 'set', key: 'k4', value_hex: hex('first') });
  const within = <T>(promise: Promise<T>): Promise<T> =>
    Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('no change reported within 5 s')), 5000).unref())]);
  const first = await within(changes.next());
  t.equal(store.getString('k4'), 'first');
  t.same(first.value, { key: 'k4', epoch: store.getEpoch('k4') }, 'the new copy is reported');
  await peer.send({ op: 'set', key: 'k4', value_hex: hex('second') });
  const second = await within(changes.next());
  t.equal(store.getString('k4'), 'second', 'C keeps writing the first copy on the path');
  t.same(second.value, { key: 'k4', epoch: store.getEpoch('k4') }, 'and the watch reports those writes');
  await changes.return?.();
});

t.test('no timer, FIFO or wait keeps a process alive after close', async (t) => {
  const name = shmName(t);
  const store = Store.create(name, { slots: 16, maxValueSize: 16 });
  t.teardown(() => store.close());
  const started = performance.now();
  const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(children, 'watch-then-close.ts'), name], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  t.same(JSON.parse(out), ['ECLOSED', true, true], 'poll rejected, watch and signals ended');
  t.ok(performance.now() - started < 15_000, 'the child exited by itself');
});

t.test('writes mark the dirty mask when an event bus is armed', async (t) => {
  const store = Store.createShared({ slots: 1100, maxValueSize: 8 });
  t.same(store.dirtySlots(), Array(16).fill(0n), 'clean after creation');
  store.set('a', '1');
  t.same(store.dirtySlots(), Array(16).fill(0n), 'no event bus armed (owner_fd -1): nothing marked');
  new Int32Array(store.buffer!, 4352, 1)[0] = 7; // as if a C process had armed its event bus
  store.set('a', '2');
  const index = store.slotSnapshot('a')!.index;
  const words = store.dirtySlots();
  const bit = index % 1024;
  t.equal((words[bit >> 6]! >> BigInt(bit & 63)) & 1n, 1n, `bit ${bit} set for slot ${index}`);
  t.equal(words.reduce((n, w) => n + w.toString(2).split('1').length - 1, 0), 1, 'and only that bit');
});

t.test('bad arguments', async (t) => {
  const store = Store.createShared({ slots: 8, maxValueSize: 8 });
  throwsCode(t, () => store.watch([]), 'EINVAL', 'no keys');
  throwsCode(t, () => store.watch(['k'.repeat(64)]), 'EINVAL', 'a key too long');
  await t.rejects(store.poll('k', { timeout: Number.NaN }), { code: 'EINVAL' });
  t.ok(isSplinterError(await store.poll('k', { timeout: 'x' as unknown as number }).catch((e: unknown) => e), 'EINVAL'));
});
