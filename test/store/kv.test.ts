/** Key-value operations, on each kind of backing. */
import path from 'node:path';
import t from 'tap';
import { SlotType, Store } from '../../src/index.js';
import { throwsCode, type Test } from '../helpers/assert.js';
import { shmName, tempDir } from '../helpers/fixtures.js';
import { ROUTES, routeSkip } from '../helpers/routes.js';

type Make = (t: Test, slots: number, maxValueSize: number) => Store;

const backings: Record<string, Make> = {
  shared: (_t, slots, maxValueSize) => Store.createShared({ slots, maxValueSize }),
};
const skipped: Record<string, string> = {};
for (const mapping of ROUTES) {
  backings[`shm/${mapping}`] = (t, slots, maxValueSize) => Store.create(shmName(t), { slots, maxValueSize }, { mapping });
  backings[`file/${mapping}`] = (t, slots, maxValueSize) => Store.create(path.join(tempDir(t), 's.spl'), { slots, maxValueSize }, { mapping });
  const skip = routeSkip(mapping);
  if (skip !== false) skipped[`shm/${mapping}`] = skipped[`file/${mapping}`] = skip;
}

for (const [kind, make] of Object.entries(backings)) {
  if (skipped[kind] !== undefined) {
    t.test(`${kind}: key-value operations`, { skip: skipped[kind] }, () => {});
    continue;
  }
  t.test(`${kind}: set, get, getString, getInto, has, getEpoch`, async (t) => {
    const store = make(t, 16, 64);
    t.teardown(() => store.close());
    t.equal(store.mapping, kind === 'shared' ? undefined : kind.split('/')[1], 'the handle names its mapping route');
    t.equal(store.get('a'), undefined);
    t.equal(store.has('a'), false);
    t.equal(store.getEpoch('a'), 0n);
    store.set('a', 'hello');
    t.same(store.get('a'), new TextEncoder().encode('hello'));
    t.equal(store.getString('a'), 'hello');
    t.equal(store.has('a'), true);
    t.equal(store.getEpoch('a'), 2n, 'one write: epoch 0 → 1 → 2');
    const target = new Uint8Array(10).fill(0xee);
    t.equal(store.getInto('a', target), 5);
    t.same([...target], [104, 101, 108, 108, 111, 0xee, 0xee, 0xee, 0xee, 0xee], 'only the value is written');
    t.equal(store.getInto('missing', target), -1);
    store.set('a', new Uint8Array([0, 255, 1]));
    t.same([...store.get('a')!], [0, 255, 1], 'binary overwrite');
    t.equal(store.getEpoch('a'), 4n);
    t.equal(store.epoch, 3n, 'global epoch: 1 at creation, +1 per set');
    store.set('ключ 🗝', 'значение');
    t.equal(store.getString('ключ 🗝'), 'значение', 'UTF-8 key and value');
    store.set('', 'empty key');
    t.equal(store.getString(''), 'empty key', 'the empty key is legal');
    const k63 = 'k'.repeat(63);
    store.set(k63, 'x');
    t.equal(store.getString(k63), 'x', 'a 63-byte key');
    t.same(store.keys().sort(), ['', 'a', k63, 'ключ 🗝'].sort());
  });

  t.test(`${kind}: value length limits`, async (t) => {
    const store = make(t, 4, 8);
    t.teardown(() => store.close());
    store.set('one', new Uint8Array([7]));
    store.set('max', new Uint8Array(8).fill(1));
    t.equal(store.get('max')!.length, 8);
    throwsCode(t, () => store.set('big', new Uint8Array(9)), 'EMSGSIZE', '9 bytes in an 8-byte store');
    throwsCode(t, () => store.set('empty', new Uint8Array(0)), 'EMSGSIZE', 'empty value');
    throwsCode(t, () => store.set('empty', ''), 'EMSGSIZE', 'empty string');
    throwsCode(t, () => store.set('s', 'ééééé'), 'EMSGSIZE', '10 UTF-8 bytes in 5 characters');
    t.equal(store.has('big'), false, 'nothing stored by a refused set');
    throwsCode(t, () => store.getInto('max', new Uint8Array(4)), 'EMSGSIZE', 'target smaller than the value');
  });

  t.test(`${kind}: key validation`, async (t) => {
    const store = make(t, 4, 8);
    t.teardown(() => store.close());
    throwsCode(t, () => store.set('k'.repeat(64), 'x'), 'EINVAL', '64-byte key');
    throwsCode(t, () => store.set('é'.repeat(32), 'x'), 'EINVAL', '32 two-byte characters = 64 bytes');
    throwsCode(t, () => store.set('a\0b', 'x'), 'EINVAL', 'key with NUL');
    throwsCode(t, () => store.set('\ud800', 'x'), 'EINVAL', 'lone surrogate');
    throwsCode(t, () => store.get(42 as unknown as string), 'EINVAL', 'non-string key');
    throwsCode(t, () => store.set('k', 42 as unknown as string), 'EINVAL', 'non-bytes value');
    store.set('é'.repeat(31) + 'a', 'x');
    t.equal(store.getString('é'.repeat(31) + 'a'), 'x', '63 UTF-8 bytes is fine');
  });

  t.test(`${kind}: unset and holes`, async (t) => {
    const store = make(t, 8, 16);
    t.teardown(() => store.close());
    store.set('a', 'abc');
    t.equal(store.unset('a'), 3);
    t.equal(store.unset('a'), undefined);
    t.equal(store.get('a'), undefined);
    t.equal(store.getEpoch('a'), 0n);
    store.set('a', 'again');
    t.equal(store.getString('a'), 'again');
    const s = store.slotSnapshot('a')!;
    t.equal(s.epoch, 6n, 'unset moves the epoch on (2 → 4, where C resets it to 2); the next set makes it 6');
    t.equal(s.typeFlag, SlotType.VOID);
  });

  t.test(`${kind}: append`, async (t) => {
    const store = make(t, 4, 8);
    t.teardown(() => store.close());
    store.set('log', 'ab');
    t.equal(store.append('log', 'cd'), 4);
    t.equal(store.append('log', new Uint8Array([0x65])), 5);
    t.equal(store.getString('log'), 'abcde');
    const epoch = store.getEpoch('log');
    throwsCode(t, () => store.append('log', 'xyzw'), 'EMSGSIZE', 'past maxValueSize');
    t.equal(store.getEpoch('log'), epoch, 'a refused append does not wake watchers');
    throwsCode(t, () => store.append('log', ''), 'EINVAL', 'empty data');
    throwsCode(t, () => store.append('nokey', 'x'), 'ENOENT', 'missing key');
    throwsCode(t, () => store.append('log', 5 as unknown as string), 'EINVAL', 'bad data');
  });

  t.test(`${kind}: a full store`, async (t) => {
    const store = make(t, 4, 8);
    t.teardown(() => store.close());
    for (let i = 0; i < 4; i++) store.set(`k${i}`, `v${i}`);
    throwsCode(t, () => store.set('k4', 'v4'), 'ENOSPC', 'fifth key in four slots');
    store.set('k2', 'new');
    t.equal(store.getString('k2'), 'new', 'overwrites still work when full');
    store.unset('k0');
    store.set('k4', 'v4');
    t.equal(store.getString('k4'), 'v4', 'the hole is reused');
  });
}

t.test('no duplicate after a hole (docs/spec/FORMAT.md §9 Q1)', async (t) => {
  // k0 and k4 share home slot 2 in a 4-slot store (see quirk-duplicate-after-hole-4x16).
  const store = Store.createShared({ slots: 4, maxValueSize: 16 });
  store.set('k0', 'zero');
  store.set('k4', 'four-old');
  t.equal(store.slotSnapshot('k4')!.index, 3, 'k4 probed past k0');
  store.unset('k0');
  store.set('k4', 'four-new');
  t.equal(store.slotSnapshot('k4')!.index, 2, 'like C, k4 goes into the hole first on its path…');
  t.same(store.keys(), ['k4'], '…but unlike C the copy past the hole is removed');
  t.equal(store.getString('k4'), 'four-new');
  t.equal(store.unset('k4'), 8);
  t.equal(store.get('k4'), undefined, 'one unset removes it');
});

t.test('rawView: zero-copy with validation', async (t) => {
  const store = Store.createShared({ slots: 4, maxValueSize: 16 });
  store.set('k', 'abc');
  const view = store.rawView('k')!;
  t.equal(Buffer.from(view.bytes).toString(), 'abc');
  t.equal(view.epoch, 2n);
  t.equal(view.stillValid(), true);
  t.equal(view.bytes.buffer, store.buffer, 'the view is over the store itself');
  store.set('k', 'xyz');
  t.equal(view.stillValid(), false, 'a write invalidates it');
  t.equal(store.rawView('nope'), undefined);
});

t.test('snapshots', async (t) => {
  const store = Store.createShared({ slots: 4, maxValueSize: 16 });
  const header = store.headerSnapshot();
  t.match(header, { magic: 0x534c4e54, version: 4, slots: 4, maxValueSize: 16, epoch: 1n, coreFlags: 3, userFlags: 0 });
  t.equal(header.ownerFd, -1);
  store.set('k', 'v');
  const slot = store.slotSnapshot('k')!;
  t.match(slot, { key: 'k', epoch: 2n, valueLength: 1, typeFlag: 1, watcherMask: 0n, bloom: 0n });
  t.equal(slot.valueOffset, slot.index * 16, 'values live in their own region');
  t.equal(store.slotSnapshot('nope'), undefined);
});

t.test('mop modes and purge', async (t) => {
  const store = Store.createShared({ slots: 2, maxValueSize: 128 });
  t.equal(store.getMop(), 1, 'hybrid after creation');
  store.setMop(0);
  t.equal(store.getMop(), 0);
  store.setMop(2);
  t.equal(store.getMop(), 2);
  store.setMop(1);
  store.setMop(2);
  t.equal(store.getMop(), 1, 'C quirk Q4: full after hybrid keeps reporting hybrid');
  throwsCode(t, () => store.setMop(3 as 0), 'EINVAL', 'mop mode 3');
  store.setMop(0);
  store.set('k', 'x'.repeat(100));
  store.set('k', 'y');
  const region = () => {
    const slot = store.slotSnapshot('k')!;
    return new Uint8Array(store.buffer!, store.headerSnapshot().slots * 128 + 5440 + slot.valueOffset, 128);
  };
  t.equal(region()[1], 'x'.charCodeAt(0), 'mop off leaves old bytes past the value');
  store.purge();
  t.equal(region()[0], 'y'.charCodeAt(0), 'purge keeps the value');
  t.ok(region().subarray(1).every((b) => b === 0), 'purge zeroes the rest of the region');
  t.equal(store.getString('k'), 'y');
});

t.test('a closed store refuses every call with ECLOSED', async (t) => {
  const store = Store.createShared({ slots: 2, maxValueSize: 8 });
  store.close();
  store.close();
  t.equal(store.closed, true);
  const calls: Array<[string, () => unknown]> = [
    ['set', () => store.set('k', 'v')],
    ['get', () => store.get('k')],
    ['getString', () => store.getString('k')],
    ['getInto', () => store.getInto('k', new Uint8Array(1))],
    ['has', () => store.has('k')],
    ['unset', () => store.unset('k')],
    ['append', () => store.append('k', 'v')],
    ['keys', () => store.keys()],
    ['getEpoch', () => store.getEpoch('k')],
    ['rawView', () => store.rawView('k')],
    ['headerSnapshot', () => store.headerSnapshot()],
    ['slotSnapshot', () => store.slotSnapshot('k')],
    ['setMop', () => store.setMop(1)],
    ['getMop', () => store.getMop()],
    ['purge', () => store.purge()],
    ['epoch', () => store.epoch],
    ['flush', () => store.flush()],
  ];
  for (const [name, call] of calls) throwsCode(t, call, 'ECLOSED', name);
});

t.test('a slot stuck odd (a writer died inside) gives EAGAIN after the retry budget', async (t) => {
  const store = Store.createShared({ slots: 4, maxValueSize: 8 }, { contentionBudgetMs: 2 });
  store.set('k', 'v');
  const slot = store.slotSnapshot('k')!;
  const epochWord = new Uint32Array(store.buffer!, 5440 + slot.index * 128 + 8, 1);
  Atomics.add(epochWord, 0, 1); // leave it odd, as a dead writer would
  const started = performance.now();
  throwsCode(t, () => store.get('k'), 'EAGAIN', 'get');
  throwsCode(t, () => store.set('k', 'w'), 'EAGAIN', 'set');
  throwsCode(t, () => store.unset('k'), 'EAGAIN', 'unset');
  throwsCode(t, () => store.append('k', 'w'), 'EAGAIN', 'append');
  t.ok(performance.now() - started < 1000, 'bounded, no hang');
  t.equal(store.has('k'), true, 'has needs no seqlock');
  Atomics.add(epochWord, 0, 1);
  t.equal(store.getString('k'), 'v', 'readable once even again');
});
