/**
 * Keys are bytes (docs/api.md, "Keys are bytes"): keys a C writer stored that are not UTF-8, of 4,
 * 61, 62 and 63 bytes, are listed exactly and every key-taking call handles them; what we write
 * under a Uint8Array key C reads under the same bytes.
 */
import t, { type Test } from 'tap';
import { escapeKey, IntOp, SlotType, Store, unescapeKey, type Key } from '../../src/index.js';
import { shmName } from '../helpers/fixtures.js';
import { Peer } from '../helpers/peer.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const bytesOf = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'));
const sortedHex = (keys: Key[]): string[] => keys.map((k) => hex(typeof k === 'string' ? Buffer.from(k) : k)).sort();

/** `caf\xe9` (Latin-1), and long keys with bytes that are not UTF-8 near their end and start. */
const LATIN1 = bytesOf('636166e9');
const LONG = [61, 62, 63].map((n) => bytesOf(`${'ff'.repeat(3)}${'61'.repeat(n - 4)}e9`));
const C_KEYS = [LATIN1, ...LONG];

async function storeWithCKeys(t: Test): Promise<{ name: string; peer: Peer; store: Store }> {
  const name = shmName(t, 'byte-keys');
  const peer = Peer.create(name, 64, 64);
  await peer.ready;
  t.teardown(() => void peer.close());
  for (const [i, key] of C_KEYS.entries()) {
    t.equal((await peer.send({ op: 'set', key_hex: hex(key), value_hex: hex(Buffer.from(`c${i}`)) })).rc, 0, `C sets a ${key.length}-byte key`);
  }
  t.equal((await peer.send({ op: 'set', key: 'plain', value_hex: hex(Buffer.from('p')) })).rc, 0);
  const store = Store.open(name);
  t.teardown(() => store.close());
  return { name, peer, store };
}

t.test('keys C wrote that are not UTF-8 are listed as their bytes, and count, keys and entries agree', async (t) => {
  const { store } = await storeWithCKeys(t);
  const keys = store.keys();
  t.equal(keys.length, store.count(), 'keys() lists every key count() counts');
  t.same(sortedHex(keys), sortedHex([...C_KEYS, 'plain']), 'each key exactly, no replacement characters');
  t.ok(keys.includes('plain'), 'a UTF-8 key is a string');
  t.equal(keys.filter((k) => k instanceof Uint8Array).length, C_KEYS.length, 'the others are Uint8Arrays');
  t.same(sortedHex(store.keys({ bytes: true })), sortedHex([...C_KEYS, 'plain']), 'keys({ bytes: true }): every key as bytes');
  t.ok(store.keys({ bytes: true }).every((k) => k instanceof Uint8Array));
  const entries = [...store.entries()];
  t.equal(entries.length, store.count(), 'entries() yields every key (a 61–63-byte one too)');
  for (const [key, value] of store) {
    const i = C_KEYS.findIndex((k) => typeof key !== 'string' && hex(k) === hex(key));
    t.equal(Buffer.from(value).toString(), i < 0 ? 'p' : `c${i}`, `the value of ${escapeKey(key)}`);
  }
});

t.test('every key-taking call takes a bytes key', async (t) => {
  const { peer, store } = await storeWithCKeys(t);
  for (const key of C_KEYS) {
    const what = `${key.length}-byte key`;
    const i = C_KEYS.indexOf(key);
    t.ok(store.has(key), `has ${what}`);
    t.equal(Buffer.from(store.get(key)!).toString(), `c${i}`, `get ${what}`);
    t.equal(store.getString(key), `c${i}`, `getString ${what}`);
    const into = new Uint8Array(8);
    t.equal(store.getInto(key, into), 2, `getInto ${what}`);
    t.ok(store.getEpoch(key) > 0n, `getEpoch ${what}`);
    const view = store.rawView(key)!;
    t.equal(Buffer.from(view.bytes).toString(), `c${i}`, `rawView ${what}`);
    const snapshot = store.slotSnapshot(key)!;
    t.ok(snapshot.key instanceof Uint8Array && hex(snapshot.key) === hex(key), `slotSnapshot ${what}: its key is the bytes`);
    t.equal(store.append(key, '+'), 3, `append ${what}`);
    store.set(key, `ours${i}`);
    t.equal((await peer.send({ op: 'get', key_hex: hex(key) })).value_hex, hex(Buffer.from(`ours${i}`)), `C reads our set of ${what}`);
    store.setLabel(key, 0b100n);
    t.ok(
      store.enumerateMatches(0b100n).some((m) => m.key instanceof Uint8Array && hex(m.key) === hex(key)),
      `setLabel / enumerateMatches ${what}`,
    );
    store.unsetLabel(key, 0b100n);
    store.setSlotTime(key, 'ctime', 1234n);
    t.equal(store.slotSnapshot(key)!.ctime, 1234n, `setSlotTime ${what}`);
    store.watchRegister(key, 3);
    const before = store.getSignalCount(3);
    store.pulseKeygroup(key);
    t.equal(store.getSignalCount(3), before + 1n, `watchRegister / pulseKeygroup ${what}`);
    store.watchUnregister(key, 3);
    const epoch = store.getEpoch(key);
    store.bumpSlot(key);
    t.ok(store.getEpoch(key) > epoch, `bumpSlot ${what}`);
  }
  // Numbers and JSON under a bytes key.
  store.setBigUint(LATIN1, 41n);
  t.equal(store.integerOp(LATIN1, IntOp.INC, 1n), 42n, 'setBigUint / integerOp');
  t.equal(store.getBigUint(LATIN1), 42n, 'getBigUint');
  store.setNamedType(LATIN1, SlotType.VOID);
  store.setJSON(LONG[0]!, { a: 1 });
  t.same(store.getJSON(LONG[0]!), { a: 1 }, 'setJSON / getJSON');
  // Tandem orders of a bytes key are its bytes then ".N".
  store.setTandem(LATIN1, ['zero', 'one']);
  t.equal(store.getString(Uint8Array.from([...LATIN1, 0x2e, 0x31])), 'one', 'setTandem: order 1 is the key then ".1"');
  store.unsetTandem(LATIN1, 2);
  t.notOk(store.has(LATIN1), 'unsetTandem');
  // unset, and C sees it gone.
  for (const key of LONG) t.equal(store.unset(key), key === LONG[0] ? 7 : 5, `unset ${key.length}-byte key`);
  t.equal((await peer.send({ op: 'get', key_hex: hex(LONG[2]!) })).errno, 'ENOENT', 'C no longer finds it');
  t.same(store.keys(), ['plain']);
  t.equal(store.count(), 1);
});

t.test('a Uint8Array key is its bytes: the same key as the string of those bytes', async (t) => {
  const store = Store.createShared({ slots: 32, maxValueSize: 32 });
  t.teardown(() => store.close());
  store.set(new TextEncoder().encode('ключ'), 'v');
  t.equal(store.getString('ключ'), 'v');
  t.same(store.keys(), ['ключ'], 'listed as a string: its bytes are UTF-8');
  // A string remembered as missing is found once its bytes are set (the handle's own insert).
  t.notOk(store.has('π'));
  store.set(new TextEncoder().encode('π'), 'pi');
  t.equal(store.getString('π'), 'pi', 'the string form finds what its bytes inserted');
  t.equal(store.unset('π'), 2);
  t.notOk(store.has(new TextEncoder().encode('π')), 'and the bytes form sees the string form unset it');
  store.set(bytesOf('efbbbf61'), 'bom');
  t.ok(store.keys().includes('\ufeffa'), 'a leading U+FEFF is kept (not taken for a byte order mark)');
  t.equal(store.count(), store.keys().length);
  // The caller's array is not held: changing it afterwards changes nothing stored.
  const mine = Uint8Array.from([0x80, 0x81]);
  store.set(mine, 'x');
  mine[0] = 0x41;
  t.equal(store.getString(Uint8Array.from([0x80, 0x81])), 'x');
  t.notOk(store.has(mine));
  const buffer = Buffer.from([0x80, 0x81]);
  const snapshot = store.slotSnapshot(buffer)!;
  buffer.fill(0x41);
  t.same([...(snapshot.key as Uint8Array)], [0x80, 0x81], "slotSnapshot's key is a copy, not the caller's Buffer");
});

t.test('poll and watch take bytes keys', async (t) => {
  const store = Store.createShared({ slots: 32, maxValueSize: 32 });
  t.teardown(() => store.close());
  store.set(LATIN1, 'a');
  const polled = store.poll(LATIN1, { timeout: 30_000 });
  store.set(LATIN1, 'b');
  t.equal(await polled, true, 'poll wakes on a write to the bytes key');
  const given = Buffer.from(LATIN1); // a Buffer, whose slice() would share its memory
  const changes = store.watch([given, 'plain']);
  given.fill(0x41); // the watch copied the key it was given
  const first = changes.next();
  store.set(LATIN1, 'c');
  const change = await first;
  t.ok(!change.done && change.value.key instanceof Uint8Array && hex(change.value.key) === hex(LATIN1), 'watch reports the change under the bytes key');
  await changes.return?.();
});

t.test('bytes keys are checked: at most 63 bytes, no NUL, and only strings or Uint8Arrays', async (t) => {
  const store = Store.createShared({ slots: 32, maxValueSize: 32 });
  t.teardown(() => store.close());
  t.throws(() => store.set(new Uint8Array(64).fill(0x61), 'v'), { code: 'EINVAL', message: /at most 63 bytes, received a Uint8Array of 64 bytes/ });
  t.throws(() => store.get(Uint8Array.from([0x61, 0, 0x62])), { code: 'EINVAL', message: /NUL.*a\\x00b/ });
  t.throws(() => store.get(42 as unknown as string), { code: 'EINVAL', message: /a string or a Uint8Array, received number/ });
  t.equal(store.getString(bytesOf('ff')), undefined, 'a missing bytes key');
  t.equal(store.unset(bytesOf('ff')), undefined);
  t.throws(() => store.append(bytesOf('ff'), 'x'), { code: 'ENOENT', message: /append "\\xff": no such key/ }, 'messages name a bytes key escaped');
  t.equal(store.count(), 0, 'nothing was written');
});

t.test('escapeKey and unescapeKey', async (t) => {
  t.equal(escapeKey(LATIN1), 'caf\\xe9');
  t.equal(escapeKey('a\\b'), 'a\\\\b');
  t.equal(escapeKey('tab\there\u2028'), 'tab\\x09here\\xe2\\x80\\xa8');
  t.equal(escapeKey('ключ 🗝'), 'ключ 🗝', 'printable UTF-8 as it is');
  t.equal(escapeKey(bytesOf('eda080')), '\\xed\\xa0\\x80', 'a surrogate encoded in UTF-8 is not UTF-8');
  t.equal(escapeKey(bytesOf('c0af')), '\\xc0\\xaf', 'nor is an overlong encoding');
  t.same(unescapeKey('caf\\xe9'), LATIN1);
  t.equal(unescapeKey('a\\\\b'), 'a\\b');
  t.equal(unescapeKey('\\x41\\x42'), 'AB', 'bytes that make UTF-8 give a string');
  t.equal(unescapeKey('plain'), 'plain');
  t.throws(() => unescapeKey('a\\nb'), { code: 'EINVAL', message: /backslash starts/ });
  t.throws(() => unescapeKey('a\\x4'), { code: 'EINVAL' });
});
