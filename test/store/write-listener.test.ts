/** The write-to-wake seam (src/store/handle/write-listener.ts): the store tells its handle's listener after every write, and only then. */
import t from 'tap';
import { SlotType, Store } from '../../src/index.js';
import { WakeOnWrite } from '../../src/bus/wake-on-write.js';
import type { WriteListener } from '../../src/store/handle/write-listener.js';

/** A listener that records each call, put in place of the handle's own. */
function recording(store: Store): Array<[number, boolean]> {
  const calls: Array<[number, boolean]> = [];
  const listener: WriteListener = { afterWrite: (index, dirty) => void calls.push([index, dirty]) };
  store.kv.writeListener = listener;
  return calls;
}

t.test('a handle is wired to the bus through one WakeOnWrite', async (t) => {
  const store = Store.createShared({ slots: 16, maxValueSize: 32 });
  t.ok(store.kv.writeListener instanceof WakeOnWrite, 'the facade sets a WakeOnWrite, not a closure');
  store.close();
});

t.test('every kind of write calls afterWrite with its slot; value writes are dirty, unset and pulses are not', async (t) => {
  const store = Store.createShared({ slots: 16, maxValueSize: 32 });
  store.set('seed', 'x'); // before the recorder: where the key lands is found below
  const calls = recording(store);
  const slot = (): number => store.slotSnapshot('k')!.index;

  store.set('k', 'v');
  const at = slot();
  t.same(calls.splice(0), [[at, true]], 'set');
  store.setNamedType('k', SlotType.VARTEXT);
  t.same(calls.splice(0), [[at, true]], 'setNamedType');
  store.setLabel('k', 1n);
  t.same(calls.splice(0), [[at, true]], 'setLabel');
  store.pulseKeygroup('k');
  t.same(calls.splice(0), [[at, false]], 'pulseKeygroup: a wake without a write of the value');
  store.unset('k');
  t.same(calls.splice(0), [[at, false]], 'unset');
  store.purge();
  t.same(calls.splice(0), [[-1, false]], 'purge: every slot epoch moved, one wake for all');

  // Reads call nothing.
  store.get('seed');
  store.getString('seed');
  store.slotSnapshot('seed');
  t.same(calls, [], 'reads call no listener');
  store.close();
});

t.test('the wiring still wakes a watcher of this process', async (t) => {
  const store = Store.createShared({ slots: 16, maxValueSize: 32 });
  const changed = store.poll('k', { timeout: 60_000 });
  store.set('k', 'v');
  t.equal(await changed, true, 'a set wakes a poll through WakeOnWrite → BusLine.ring');
  store.close();
});
