/** The bridge's store side: which keys it notices, without Redis. */
import t from 'tap';
import { Store } from '../../src/index.js';
import { StoreSide } from '../../src/bridge/store-side.js';
import type { Key } from '../../src/store/keys/key-text.js';

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
  const changed: Key[] = [];
  const side = new StoreSide(interleaved, 'team:', (key) => changed.push(key), (error) => t.fail(String(error)), 60_000);
  t.teardown(() => side.stop());
  side.start([]);
  side.write('team:from-remote', Buffer.from('remote value'), 1);
  side.scan();
  t.ok([...side.knownKeys()].includes('team:inserted-meanwhile'), 'the key inserted meanwhile is known after one scan');
});

t.test('keys of any bytes are in the namespace when their bytes start with the prefix\'s UTF-8 bytes', async (t) => {
  const store = Store.createShared({ slots: 64, maxValueSize: 64 });
  t.teardown(() => store.close());
  const prefix = 'a\\xff'; // five characters; the escaped form of the bytes 61 ff, and the UTF-8 of neither
  const under = Uint8Array.from([...Buffer.from(prefix), 0xfe]);
  const escapedLookalike = Uint8Array.from([0x61, 0xff, 0x62]); // its escaped form a\xffb starts with the prefix, its bytes do not
  store.set(under, 'in');
  store.set(escapedLookalike, 'out');
  store.set(`${prefix}plain`, 'in too');
  store.set('elsewhere', 'out');
  const side = new StoreSide(store, prefix, () => undefined, (error) => t.fail(String(error)), 60_000);
  t.teardown(() => side.stop());
  const listed = side.keys();
  t.equal(listed.length, 2, 'two keys are under the prefix');
  t.ok(listed.some((key) => key instanceof Uint8Array && Buffer.from(key).equals(Buffer.from(under))), 'the bytes key under the prefix, as its bytes');
  t.ok(listed.includes(`${prefix}plain`), 'and the string key');
  t.notOk(side.inNamespace(escapedLookalike), 'a key whose escaped form only looks like the prefix is not under it');
  side.write(under, Buffer.from('written'), 1);
  t.equal(Buffer.from(store.get(under)!).toString(), 'written', 'the store side writes a bytes key under its own bytes');
  t.equal(side.read(under)?.value?.toString(), 'written', 'and reads it back');
});
