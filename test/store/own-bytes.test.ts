/**
 * Writes whose source is the store's own memory (a raw view, or a view over its bytes) store
 * the source's bytes as they were when the call was made, in every mop mode and on every
 * backing; a Proxy around a typed array is refused with EINVAL, not a TypeError.
 */
import t from 'tap';
import { isSplinterError, Mop, Store } from '../../src/index.js';
import { shmName } from '../helpers/fixtures.js';
import type { Test } from '../helpers/assert.js';

const pattern = (n: number): string => Array.from({ length: n }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');

function stores(t: Test): Array<[string, Store]> {
  const shared = Store.createShared({ slots: 16, maxValueSize: 256 });
  const shm = Store.create(shmName(t, 'own-bytes'), { slots: 16, maxValueSize: 256 });
  t.teardown(() => {
    shared.close();
    shm.close();
  });
  return [
    ['SharedArrayBuffer', shared],
    ['shm', shm],
  ];
}

t.test('set from a view of the key\'s own value stores the viewed bytes', async (t) => {
  for (const [backing, store] of stores(t)) {
    for (const [mop, mode] of Object.entries(Mop)) {
      store.setMop(mode);
      for (const length of [10, 40, 100, 256]) {
        const value = pattern(length);
        store.set('k', value);
        store.set('k', store.rawView('k')!.bytes.subarray(2));
        t.equal(store.getString('k'), value.slice(2), `${backing}, mop ${mop}, ${length} bytes: shifted by 2`);
        store.set('k', value);
        const view = store.rawView('k')!.bytes;
        store.set('k', view.subarray(0, length - 3));
        t.equal(store.getString('k'), value.slice(0, length - 3), `${backing}, mop ${mop}, ${length} bytes: cut short`);
      }
    }
  }
});

t.test('set from a view that spans the value and what follows it stores the bytes seen before', async (t) => {
  for (const [backing, store] of stores(t)) {
    // Without scrubbing, a shorter value leaves the longer one's bytes after it.
    store.setMop(Mop.OFF);
    store.set('k', pattern(100));
    store.set('k', pattern(30));
    store.setMop(Mop.FULL);
    const view = store.rawView('k')!.bytes;
    // A view over the region, longer than the value: its tail is what the scrub is about to zero.
    const wide = new Uint8Array(view.buffer, view.byteOffset + 1, 60);
    const before = Buffer.from(wide);
    store.set('k', wide);
    t.same(Buffer.from(store.get('k')!), before, `${backing}: the 60 bytes as they were`);
  }
});

t.test('append from a view that overlaps where the bytes go appends the bytes seen before', async (t) => {
  for (const [backing, store] of stores(t)) {
    for (const length of [10, 20, 100]) {
      store.set('k', pattern(length));
      const view = store.rawView('k')!.bytes;
      const source = new Uint8Array(view.buffer, view.byteOffset + 2, length);
      const expected = Buffer.concat([Buffer.from(pattern(length)), Buffer.from(source)]);
      t.equal(store.append('k', source), 2 * length);
      t.same(Buffer.from(store.get('k')!), expected, `${backing}, ${length} bytes`);
    }
  }
});

t.test('set from a view taken through another handle on the same store stores the viewed bytes', async (t) => {
  const name = shmName(t, 'own-bytes-two');
  const writer = Store.create(name, { slots: 16, maxValueSize: 256 });
  const other = Store.open(name);
  t.teardown(() => {
    writer.close();
    other.close();
  });
  for (const length of [10, 100, 256]) {
    const value = pattern(length);
    writer.set('k', value);
    writer.set('k', other.rawView('k')!.bytes.subarray(2));
    t.equal(writer.getString('k'), value.slice(2), `${length} bytes, shifted by 2`);
  }
});

t.test('setTandem with a view of the base value gives order 1 the value the base had', async (t) => {
  for (const [backing, store] of stores(t)) {
    store.set('t', 'the old base value');
    store.setTandem('t', ['new', store.rawView('t')!.bytes]);
    t.equal(store.getString('t'), 'new', backing);
    t.equal(store.getString('t.1'), 'the old base value', `${backing}: order 1`);
  }
});

t.test('a Proxy around a typed array is EINVAL, saying what was expected', async (t) => {
  const store = Store.createShared({ slots: 16, maxValueSize: 64, embeddings: true });
  t.teardown(() => store.close());
  store.set('k', 'v');
  const proxy = new Proxy(new Uint8Array([1, 2, 3]), {});
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['set', () => store.set('k', proxy), /^EINVAL: a value must be a Uint8Array or a string, received a Proxy/],
    ['append', () => store.append('k', proxy), /^EINVAL: append data must be a Uint8Array or a string, received a Proxy/],
    ['setTandem', () => store.setTandem('k', ['a', proxy]), /^EINVAL: a tandem value must be a Uint8Array or a string, received a Proxy/],
    ['getInto', () => store.getInto('k', proxy), /^EINVAL: getInto needs a Uint8Array target, received a Proxy/],
    ['setEmbedding', () => store.setEmbedding('k', new Proxy(new Float32Array(768), {})), /^EINVAL: setEmbedding needs a Float32Array of 768 values, received a Proxy/],
  ];
  for (const [what, call, message] of cases) {
    let error: unknown;
    try {
      call();
    } catch (e) {
      error = e;
    }
    t.ok(isSplinterError(error, 'EINVAL'), `${what}: EINVAL, not ${String(error)}`);
    t.match((error as Error | undefined)?.message, message, what);
  }
  t.equal(store.getString('k'), 'v', 'nothing was written');
  t.equal(store.has('k.1'), false);
});

t.test('getInto fills a Proxy target whose traps forward to the array it wraps', async (t) => {
  const store = Store.createShared({ slots: 16, maxValueSize: 64 });
  t.teardown(() => store.close());
  store.set('k', 'forwarded');
  const written: string[] = [];
  const bytes = new Uint8Array(16);
  const watched = new Proxy(bytes, {
    get: (target, property) => {
      const value = Reflect.get(target, property) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
    set: (target, property, value) => {
      written.push(String(property));
      return Reflect.set(target, property, value);
    },
  });
  t.equal(store.getInto('k', watched), 9);
  t.equal(Buffer.from(bytes.subarray(0, 9)).toString(), 'forwarded');
  t.ok(written.length > 0, 'the bytes went through its set trap');
});
