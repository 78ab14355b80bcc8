/** The bridge's store side: which keys it notices, without Redis. */
import t from 'tap';
import { Store } from '../../src/index.js';
import { StoreSide } from '../../src/bridge/store-side.js';

t.test('a key another process inserts while the bridge writes a remote value is still found by the next scan', async (t) => {
  const store = Store.createShared({ slots: 64, maxValueSize: 64 });
  const other = Store.attach(store.buffer!);
  t.teardown(() => {
    other.close();
    store.close();
  });
  // Another process's insert lands between the bridge's own set and its look at the global epoch.
  const interleaved = new Proxy(store, {
    get(target, name, receiver) {
      if (name === 'set') {
        return (key: string, value: Uint8Array) => {
          target.set(key, value);
          if (!other.has('team:inserted-meanwhile')) other.set('team:inserted-meanwhile', 'x');
        };
      }
      const member = Reflect.get(target, name, receiver) as unknown;
      return typeof member === 'function' ? (member as (...args: unknown[]) => unknown).bind(target) : member;
    },
  });
  const changed: string[] = [];
  const side = new StoreSide(interleaved, 'team:', (key) => changed.push(key), (error) => t.fail(String(error)), 60_000);
  t.teardown(() => side.stop());
  side.start([]);
  side.write('team:from-remote', Buffer.from('remote value'), 1);
  side.scan();
  t.ok([...side.knownKeys()].includes('team:inserted-meanwhile'), 'the key inserted meanwhile is known after one scan');
});
