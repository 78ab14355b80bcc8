/** Copies in and out of the store (copy.ts): any caller array, aligned or not, in any order. */
import t from 'tap';
import { Store } from '../../src/index.js';

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

t.test('get, getInto and set in turn, with arrays of every alignment, never mix up their bytes', async (t) => {
  const store = Store.createShared({ slots: 8, maxValueSize: 256 });
  const backing = new Uint8Array(1024);
  const views = [0, 1, 2, 3, 4, 8].map((offset) => backing.subarray(offset, offset + 300));
  const own = new Uint8Array(300);
  for (const length of [1, 3, 15, 16, 17, 64, 65, 255, 256]) {
    const value = bytes(length, length);
    // A value written from an unaligned view of a larger array, and from a whole array.
    const source = new Uint8Array(length + 3);
    source.set(value, 3);
    store.set('a', source.subarray(3));
    store.set('b', value);
    for (const target of [own, ...views, own]) {
      target.fill(0xee);
      t.equal(store.getInto('a', target), length);
      t.same(target.subarray(0, length), value, `getInto of ${length} bytes at offset ${target.byteOffset}`);
      t.equal(target[length], 0xee, 'nothing past the value is written');
      t.same(store.get('b'), value, `get of ${length} bytes between getIntos`);
    }
    const copy = store.get('a')!;
    t.equal(copy.buffer.byteLength, length, 'get returns an array of its own, not a view of shared scratch');
  }
});
