/**
 * Byte keys property (docs/api.md, "Keys are bytes"; docs/cli.md, "Keys"): arbitrary keys of 1..63
 * bytes without NUL, UTF-8 or not, set, read and unset through either form (the bytes, or the
 * string when they are UTF-8), agree with a model of the store as a map from bytes to value:
 *  - keys() lists each model key once, a string exactly when its bytes are UTF-8, and count(),
 *    keys({ bytes: true }) and entries() say the same; get of each listed key gives its value;
 *  - the C peer's list, on the same store, holds exactly the model's keys;
 *  - the CLI's escaped form reads back to the same bytes, alone and as a shell word of the
 *    interactive mode (showKey's output, split as the prompt splits it).
 * Runs: SPLINTER_PROPS_RUNS (default 40 sequences, 60 keys); replay with the printed
 * SPLINTER_PROPS_SEED / SPLINTER_PROPS_PATH.
 */
import fc from 'fast-check';
import t from 'tap';
import { tokenizeLine } from '../src/cli/parse.js';
import { showKey, storedKey } from '../src/cli/values.js';
import { escapeKey, Store, unescapeKey, type Key } from '../src/index.js';
import { shmName } from '../test/helpers/fixtures.js';
import { Peer } from '../test/helpers/peer.js';
import { checkProperty, parameters } from './lib/run.js';

const DEFAULT_RUNS = 40;
const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const bytesOf = (key: Key): Uint8Array => (typeof key === 'string' ? new TextEncoder().encode(key) : key);

function utf8Text(bytes: Uint8Array): string | undefined {
  try {
    return strict.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Keys of 1..63 bytes without NUL: raw bytes (mostly not UTF-8), UTF-8 text, and text with bytes spliced in. */
const keyBytes: fc.Arbitrary<Uint8Array> = fc
  .oneof(
    fc.uint8Array({ minLength: 1, maxLength: 63 }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }).map((s) => new TextEncoder().encode(s.replaceAll('\0', '0'))),
    fc
      .tuple(fc.string({ unit: 'grapheme', maxLength: 8 }), fc.constantFrom(0x5c, 0x80, 0xc3, 0xe9, 0xff, 0x0a, 0x7f), fc.string({ maxLength: 8 }))
      .map(([a, b, c]) => Uint8Array.from([...new TextEncoder().encode(a), b, ...new TextEncoder().encode(c)])),
  )
  .map((bytes) => bytes.map((b) => (b === 0 ? 1 : b)).subarray(0, 63))
  .filter((bytes) => bytes.length > 0);

interface Op {
  kind: 'set' | 'unset' | 'get';
  key: number;
  /** Pass the key as its string when its bytes are UTF-8. */
  asString: boolean;
  value: number;
}

const scenario = fc.record({
  keys: fc.uniqueArray(keyBytes, { minLength: 1, maxLength: 12, selector: hex }),
  ops: fc.array(
    fc.record({ kind: fc.constantFrom<'set' | 'unset' | 'get'>('set', 'set', 'unset', 'get'), key: fc.nat(), asString: fc.boolean(), value: fc.nat(999) }),
    { minLength: 1, maxLength: 60 },
  ),
});

t.test('byte keys agree with a model, through the library, C and the CLI escaping', async (t) => {
  const name = shmName(t, 'props-byte-keys');
  const peer = Peer.create(name, 128, 32);
  await peer.ready;
  t.teardown(() => void peer.close());
  const store = Store.open(name);
  t.teardown(() => store.close());

  const property = fc.asyncProperty(scenario, async ({ keys, ops }: { keys: Uint8Array[]; ops: Op[] }) => {
    for (const key of store.keys()) store.unset(key);
    const model = new Map<string, string>();
    const form = (bytes: Uint8Array, asString: boolean): Key => (asString ? (utf8Text(bytes) ?? bytes) : bytes);
    for (const op of ops) {
      const bytes = keys[op.key % keys.length]!;
      const key = form(bytes, op.asString);
      if (op.kind === 'set') {
        store.set(key, `v${op.value}`);
        model.set(hex(bytes), `v${op.value}`);
      } else if (op.kind === 'unset') {
        const had = model.get(hex(bytes));
        if (store.unset(key) !== (had === undefined ? undefined : had.length)) throw new Error(`unset ${escapeKey(bytes)}: not the model's length`);
        model.delete(hex(bytes));
      } else if (store.getString(key) !== model.get(hex(bytes))) {
        throw new Error(`get ${escapeKey(bytes)}: ${store.getString(key)}, the model has ${model.get(hex(bytes))}`);
      }
    }
    const listed = store.keys();
    if (store.count() !== model.size || listed.length !== model.size) throw new Error(`count ${store.count()}, keys ${listed.length}, model ${model.size}`);
    if ([...store.entries()].length !== model.size) throw new Error('entries() does not list every key');
    for (const key of listed) {
      const bytes = bytesOf(key);
      if ((typeof key === 'string') !== (utf8Text(bytes) !== undefined)) throw new Error(`${escapeKey(bytes)} listed as ${typeof key}`);
      if (store.getString(key) !== model.get(hex(bytes))) throw new Error(`${escapeKey(bytes)}: listed, but its value is not the model's`);
    }
    const asBytes = store.keys({ bytes: true }).map(hex).sort();
    if (JSON.stringify(asBytes) !== JSON.stringify([...model.keys()].sort())) throw new Error('keys({ bytes: true }) is not the model');
    const c = (await peer.send({ op: 'list' })).keys_hex as string[];
    if (JSON.stringify([...c].sort()) !== JSON.stringify(asBytes)) throw new Error(`C lists ${c.length} keys, the model ${model.size}`);
    // The CLI's escaped form and the shell word it prints read back to the key.
    for (const bytes of keys) {
      const text = escapeKey(bytes);
      if (/[\x00-\x1f\x7f-\x9f\u2028\u2029]/u.test(text)) throw new Error(`${JSON.stringify(text)}: a control character left unescaped`);
      if (hex(bytesOf(unescapeKey(text))) !== hex(bytes)) throw new Error(`${text}: unescapeKey gives other bytes`);
      const words = tokenizeLine(showKey(bytes));
      if (words.length !== 1 || hex(bytesOf(storedKey('', words[0]!, 'get'))) !== hex(bytes)) throw new Error(`${showKey(bytes)}: not one word naming the key`);
    }
  });
  await checkProperty(t, 'byte keys', property, parameters(DEFAULT_RUNS));
});
