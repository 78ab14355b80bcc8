/**
 * Bad input is refused cheaply and by name: keys too long (from their length alone), tandem
 * orders past C's bound, unknown options and options of the wrong type, files shorter than
 * their header says. And the empty key, which the format allows, is a key.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { HEADER } from '../../src/layout/constants.js';
import { Store } from '../../src/index.js';
import { throwsCode } from '../helpers/assert.js';
import { shmName, tempDir } from '../helpers/fixtures.js';
import { Peer } from '../helpers/peer.js';

const HUGE = 400_000_000;

t.test('a 400 MB key is refused from its length: EINVAL in microseconds, nothing allocated, by every call that takes a key', async (t) => {
  const store = Store.createShared({ slots: 16, maxValueSize: 64, embeddings: true });
  t.teardown(() => store.close());
  store.set('k', 'v');
  const calls: Record<string, (key: string) => unknown> = {
    set: (k) => store.set(k, 'v'),
    get: (k) => store.get(k),
    getString: (k) => store.getString(k),
    getInto: (k) => store.getInto(k, new Uint8Array(64)),
    has: (k) => store.has(k),
    unset: (k) => store.unset(k),
    append: (k) => store.append(k, 'x'),
    getEpoch: (k) => store.getEpoch(k),
    rawView: (k) => store.rawView(k),
    slotSnapshot: (k) => store.slotSnapshot(k),
    setNamedType: (k) => store.setNamedType(k, 1),
    integerOp: (k) => store.integerOp(k, 4, 1n),
    getBigUint: (k) => store.getBigUint(k),
    setSlotTime: (k) => store.setSlotTime(k, 'ctime', 1n),
    setLabel: (k) => store.setLabel(k, 1n),
    unsetLabel: (k) => store.unsetLabel(k, 1n),
    setAsSystem: (k) => store.setAsSystem(k),
    bumpSlot: (k) => store.bumpSlot(k),
    retrainSlot: (k) => store.retrainSlot(k),
    setTandem: (k) => store.setTandem(k, ['a', 'b']),
    unsetTandem: (k) => store.unsetTandem(k, 2),
    setEmbedding: (k) => store.setEmbedding(k, new Float32Array(768)),
    getEmbedding: (k) => store.getEmbedding(k),
    watchRegister: (k) => store.watchRegister(k, 1),
    watchUnregister: (k) => store.watchUnregister(k, 1),
    pollSync: (k) => store.pollSync(k, 0),
    watch: (k) => store.watch(k),
  };
  let slowest = 0;
  for (const [name, call] of Object.entries(calls)) {
    // repeat() builds the string without its characters: reading any of them would cost 400 MB.
    const key = 'x'.repeat(HUGE);
    const before = process.memoryUsage().rss;
    const error = throwsCode(t, () => call(key), 'EINVAL', name);
    // The fastest of three tries: one preemption of this process on a busy machine is not the call's cost.
    let ms = Infinity;
    for (let attempt = 0; attempt < 3; attempt++) {
      const started = performance.now();
      try {
        call(key);
      } catch {}
      ms = Math.min(ms, performance.now() - started);
    }
    const grewMb = (process.memoryUsage().rss - before) / 2 ** 20;
    slowest = Math.max(slowest, ms);
    t.ok(ms < 20, `${name}: refused in ${ms.toFixed(3)} ms`);
    t.ok(grewMb < 50, `${name}: memory grew ${grewMb.toFixed(1)} MB`);
    t.match(error?.message, /a key is at most 63 UTF-8 bytes, received a string of 400000000 UTF-16 units \(at least 400000000 bytes\)$/, `${name}: says the limit and what came`);
  }
  const pollKey = 'x'.repeat(HUGE);
  let pollMs = Infinity;
  for (let attempt = 0; attempt < 3; attempt++) {
    const started = performance.now();
    const refused = await store.poll(pollKey, { timeout: 0 }).then(() => undefined, (error: unknown) => error);
    pollMs = Math.min(pollMs, performance.now() - started);
    if (attempt === 0) t.match(refused, { code: 'EINVAL', message: /received a string of 400000000 UTF-16 units/ }, 'poll rejects');
  }
  t.ok(pollMs < 20, `poll: at once (${pollMs.toFixed(3)} ms)`);
  t.comment(`slowest refusal of a 400 MB key: ${slowest.toFixed(3)} ms`);
});

t.test('keys within 63 UTF-16 units are measured in UTF-8 bytes', async (t) => {
  using store = Store.createShared({ slots: 8, maxValueSize: 16 });
  const error = throwsCode(t, () => store.set('é'.repeat(40), 'v'), 'EINVAL', '40 × é: 80 bytes');
  t.match(error?.message, /at most 63 UTF-8 bytes, received 80 bytes: "é{40}"/);
  store.set('é'.repeat(31) + 'x', 'v'); // 63 bytes exactly
  t.equal(store.getString('é'.repeat(31) + 'x'), 'v', '63 bytes: a key');
  t.match(throwsCode(t, () => store.set('x'.repeat(64), 'v'), 'EINVAL', '64 ASCII units')?.message, /received a string of 64 UTF-16 units \(at least 64 bytes\): "x{64}"/);
});

t.test('tandem orders are bounded as in C (a uint8_t count): 1..255', async (t) => {
  using store = Store.createShared({ slots: 512, maxValueSize: 16 });
  const refused = throwsCode(t, () => store.unsetTandem('t', 256), 'EINVAL', 'unsetTandem of 256 orders');
  t.match(refused?.message, /orders must be an integer from 1 to 255 \(the base key counts as order 0\), received 256/);
  if (refused !== undefined) {
    // Only once the bound holds: without it this call walks a billion keys.
    const started = performance.now();
    throwsCode(t, () => store.unsetTandem('t', 1e9), 'EINVAL', 'unsetTandem of 10^9 orders');
    t.ok(performance.now() - started < 20, 'refused at once');
  }
  for (const bad of [0, -1, 1.5, Number.NaN, Infinity, '3']) throwsCode(t, () => store.unsetTandem('t', bad as number), 'EINVAL', `orders ${String(bad)}`);
  const values = Array.from({ length: 256 }, (_, i) => `v${i}`);
  t.match(throwsCode(t, () => store.setTandem('t', values), 'EINVAL', 'setTandem of 256 values')?.message, /an array of 1 to 255 values \(one per order\), received 256 values/);
  t.same(store.keys(), [], 'nothing written');
  store.setTandem('t', values.slice(0, 255));
  t.equal(store.keys().length, 255, '255 orders: the most there are');
  t.equal(store.getString('t.254'), 'v254');
  store.unsetTandem('t', 255);
  t.same(store.keys(), [], 'and all removed');
});

t.test('options: unknown names and wrong types are EINVAL naming the option, the type expected and the value received', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'opts.spl');
  const geometry = { slots: 4, maxValueSize: 16 };
  Store.create(file, geometry).close();
  const shared = Store.createShared(geometry);
  t.teardown(() => shared.close());
  const fresh = path.join(dir, 'new.spl');
  const entries: Record<string, (options: unknown) => Store> = {
    'Store.create': (o) => Store.create(fresh, geometry, o as never),
    'Store.open': (o) => Store.open(file, o as never),
    'Store.createOrOpen': (o) => Store.createOrOpen(file, geometry, o as never),
    'Store.openOrCreate': (o) => Store.openOrCreate(file, geometry, o as never),
    'Store.createShared': (o) => Store.createShared(geometry, o as never),
    'Store.attach': (o) => Store.attach(shared.buffer!, o as never),
  };
  const named = (what: string): string => what.replace('.', '\\.');
  for (const [what, open] of Object.entries(entries)) {
    const typo = throwsCode(t, () => open({ pollInterval: 5 }), 'EINVAL', `${what}: a misspelt option`);
    t.match(typo?.message, new RegExp(`^EINVAL: ${named(what)}: unknown option "pollInterval"; the options are contentionBudgetMs, pollIntervalMs, mapping, trustShared$`));
    for (const [value, shown] of [['x', '"x"'], [null, 'null'], [true, 'true']] as const) {
      const wrong = throwsCode(t, () => open({ contentionBudgetMs: value }), 'EINVAL', `${what}: contentionBudgetMs ${shown}`);
      t.match(wrong?.message, new RegExp(`^EINVAL: ${named(what)}: option contentionBudgetMs must be a number, received ${shown}$`));
    }
    for (const [value, shown] of [[5, '5'], ['x', '"x"'], [null, 'null']] as const) {
      const bag = throwsCode(t, () => open(value), 'EINVAL', `${what}: options ${shown}`);
      t.match(bag?.message, new RegExp(`^EINVAL: ${named(what)}: options must be an object \\{ contentionBudgetMs\\?, pollIntervalMs\\?, mapping\\?, trustShared\\? \\}, received ${shown}$`));
    }
    t.equal(fs.existsSync(fresh), false, `${what}: nothing created by a refused call`);
    const store = open({ contentionBudgetMs: 2, pollIntervalMs: undefined });
    t.ok(store, `${what}: known options, and an undefined one, are fine`);
    store.close();
    if (fs.existsSync(fresh)) fs.rmSync(fresh);
  }
  t.match(
    throwsCode(t, () => Store.createShared({ slots: 4, maxValueSize: 16, embedding: true } as never), 'EINVAL', 'geometry')?.message,
    /Store\.createShared geometry: unknown option "embedding"; the options are slots, maxValueSize, embeddings/,
  );

  // The bus: poll rejects (an async call), watch and signals throw.
  await t.rejects(shared.poll('k', { timeout: 0, lowLatencty: true } as never), { code: 'EINVAL', message: /poll: unknown option "lowLatencty"; the options are timeout, signal, lowLatency/ });
  await t.rejects(shared.poll('k', { lowLatency: 'yes' } as never), { code: 'EINVAL', message: /poll: option lowLatency must be a boolean, received "yes"/ });
  await t.rejects(shared.poll('k', { signal: 5 } as never), { code: 'EINVAL', message: /poll: option signal must be an AbortSignal, received 5/ });
  await t.rejects(shared.poll('k', null as never), { code: 'EINVAL', message: /poll: options must be an object/ });
  t.match(throwsCode(t, () => shared.watch('k', { lowLatency: 1 } as never), 'EINVAL', 'watch')?.message, /watch: option lowLatency must be a boolean, received 1/);
  t.match(throwsCode(t, () => shared.watch('k', { timeout: 5 } as never), 'EINVAL', 'watch')?.message, /watch: unknown option "timeout"; the options are signal, lowLatency/);
  t.match(throwsCode(t, () => shared.signals(1, { signal: 'x' } as never), 'EINVAL', 'signals')?.message, /signals: option signal must be an AbortSignal, received "x"/);

  // Logic Shards: claim, rebid, madvise.
  const s = shared.shards;
  t.match(throwsCode(t, () => s.claim({ id: 1, intent: 1, priority: 1, duration: 1n, prio: 3 } as never), 'EINVAL', 'claim')?.message, /unknown option "prio"; the options are id, intent, priority, duration, pid, claimedAt/);
  t.match(throwsCode(t, () => s.claim({ id: 1, intent: 1, priority: 1, duration: 'x' } as never), 'EINVAL', 'claim')?.message, /duration must be a u64.*received "x"/);
  s.claim({ id: 1, intent: 1, priority: 1, duration: 1000n });
  t.match(throwsCode(t, () => s.rebid(1, { intent: 1, priority: 1, duration: 1n, pid: 5 } as never), 'EINVAL', 'rebid')?.message, /unknown option "pid"/);
  await t.rejects(s.madvise(1, { advice: 'normal', timout: 5 } as never), { code: 'EINVAL', message: /unknown option "timout"/ });
});

t.test('a file shorter than its header says: open is ECORRUPT with both sizes', async (t) => {
  const file = path.join(tempDir(t), 'cut.spl');
  Store.create(file, { slots: 16, maxValueSize: 32 }).close();
  const full = fs.statSync(file).size;
  fs.truncateSync(file, full - 100);
  const error = throwsCode(t, () => Store.open(file), 'ECORRUPT', 'a truncated file');
  t.match(
    error?.message,
    new RegExp(`is truncated: it is ${full - 100} bytes, but its header describes 16 slots × 32 bytes, ${full} bytes at least .*val_sz records ${full}\\), 100 bytes more than there are`),
  );
  fs.truncateSync(file, HEADER.size + 10);
  t.match(throwsCode(t, () => Store.open(file), 'ECORRUPT', 'cut inside the slots')?.message, /is truncated/);
});

t.test('the empty key is a key, as in C and docs/spec/FORMAT.md §5', async (t) => {
  const name = shmName(t, 'empty-key');
  using store = Store.create(name, { slots: 8, maxValueSize: 16 });
  store.set('', 'nothing');
  t.equal(store.getString(''), 'nothing');
  t.equal(store.has(''), true);
  t.same(store.keys(), ['']);
  t.equal(store.getEpoch(''), 2n);
  const peer = Peer.open(name);
  t.teardown(() => peer.close());
  const read = await peer.send({ op: 'get', key: '' });
  t.equal(read.rc, 0, 'the C peer finds it');
  t.equal(read['value_hex'], Buffer.from('nothing').toString('hex'));
  t.equal((await peer.send({ op: 'set', key: '', value_hex: Buffer.from('from C').toString('hex') })).rc, 0);
  t.equal(store.getString(''), 'from C', 'and we read what C wrote under it');
  t.equal(store.unset(''), 6);
  t.equal(store.has(''), false);
});
