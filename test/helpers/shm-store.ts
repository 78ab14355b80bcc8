/** A fresh shared-memory store for one test, closed and unlinked (with any side files it grew) at teardown. */
import { Store } from '../../src/index.js';
import type { Test } from './assert.js';
import { shmName } from './fixtures.js';

export function shmStore(t: Test, label: string, slots: number, maxValueSize = 64): { store: Store; name: string } {
  const name = shmName(t, label);
  const store = Store.create(name, { slots, maxValueSize });
  t.teardown(() => {
    store.close();
    try {
      Store.unlink(name);
    } catch {
      // already gone: the test removed it
    }
  });
  return { store, name };
}
