/**
 * `splinter import`: an export loads back into a fresh store and exports the same (but for
 * epochs, slots and what docs/cli.md says does not carry); keys that are not UTF-8 keep their
 * bytes; every bad document fails with its code and leaves the store as it was; the document is
 * read only up to what the store could hold.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { HEADER, SLOT, SLOT_SIZE } from '../../src/layout/constants.js';
import { SlotType, Store } from '../../src/index.js';
import { shmName } from '../helpers/fixtures.js';
import type { Test } from '../helpers/assert.js';
import { testedLauncher } from './compiled.js';
import { documentLimit } from '../../src/cli/import-document.js';
import { cli, cliEnv, oneLineError } from './helpers.js';

t.setTimeout(600_000); // many CLI processes: minutes on a loaded machine

const LATIN1 = new Uint8Array([0x63, 0x61, 0x66, 0xe9]); // caf\xe9
const RAW = new Uint8Array([0xff, 0x01, 0x5c, 0x80]); // \xff\x01\\\x80

interface Exported {
  store: Record<string, unknown>;
  labelGroups: Record<string, number>;
  signalGroups: Record<string, string>;
  keys: Array<Record<string, unknown>>;
}

function makeStore(t: Test, label: string, embeddings = false): { name: string; store: Store } {
  const name = shmName(t, label);
  const store = Store.create(name, { slots: 32, maxValueSize: 128, embeddings });
  t.teardown(() => store.close());
  return { name, store };
}

function exported(name: string, extra: string[] = []): Exported {
  const run = cli(['--use', name, ...extra, 'export']);
  if (run.code !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout) as Exported;
}

/** What must survive an import: everything but the header's target and epoch, signal counts, and each key's epoch and slot. */
function carried(doc: Exported): unknown {
  const { target: _t, epoch: _e, ...store } = doc.store;
  return { store, labelGroups: doc.labelGroups, keys: doc.keys.map(({ epoch: _ep, slot: _s, ...rest }) => rest).sort((a, b) => String(a['key']).localeCompare(String(b['key']))) };
}

function docFile(t: Test, content: string | Uint8Array): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'splinter-import-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'doc.json');
  fs.writeFileSync(file, content);
  return file;
}

function fill(store: Store): void {
  store.set('greeting', 'hello, world');
  store.set('blob', new Uint8Array([0, 1, 2, 250, 251]));
  store.setBigUint('counter', 41n);
  store.set('config', '{"a":1}');
  store.setNamedType('config', SlotType.JSON);
  store.set(LATIN1, 'latin');
  store.set(RAW, new Uint8Array([9, 0, 9]));
  store.setLabel('greeting', 0x9n);
  store.setLabel(LATIN1, 1n << 63n);
  store.watchRegister('config', 7);
  store.watchRegister(RAW, 63);
  store.watchLabelRegister(0x8n, 5);
  store.setSlotTime('greeting', 'ctime', 1_700_000_000_000n);
  store.setSlotTime(RAW, 'atime', 18_446_744_073_709_551_615n);
}

t.test('export → import into a fresh store → export: the same keys, values, types, labels, watchers, times, bindings', async (t) => {
  const { name: from, store } = makeStore(t, 'import-from');
  fill(store);
  const { name: to } = makeStore(t, 'import-to');
  const file = docFile(t, cli(['--use', from, 'export']).stdout);

  const run = cli(['--use', to, 'import', file]);
  t.equal(run.code, 0, run.stderr);
  t.equal(run.stdout, 'imported 6 keys (6 new, 0 overwritten)\n');
  const before = exported(from);
  const after = exported(to);
  t.same(carried(after), carried(before), 'the export of the imported store equals the original');
  t.equal(before.keys.filter((k) => k['keyHex'] !== undefined).length, 2, 'two keys that are not UTF-8 were exported');

  const target = Store.open(to);
  t.teardown(() => target.close());
  t.same(target.get(LATIN1), Buffer.from('latin'), 'a Latin-1 key holds its value under its bytes');
  t.same(target.get(RAW), new Uint8Array([9, 0, 9]), 'a key of control and non-UTF-8 bytes too');
  t.equal(target.getBigUint('counter'), 41n);
  t.equal(target.slotSnapshot(RAW)?.atime, 18_446_744_073_709_551_615n, 'a u64 time survives whole');
  t.equal(target.headerSnapshot().labelGroups[3], 5, 'label bit 3 is bound to group 5');

  const again = cli(['--use', to, 'import', file]);
  t.equal(again.stdout, 'imported 6 keys (0 new, 6 overwritten)\n', 'importing twice overwrites');
  t.same(carried(exported(to)), carried(before), 'and leaves the same store');
});

t.test('embeddings round-trip between stores that have them; an overwritten key loses a vector the document lacks', async (t) => {
  const { name: from, store } = makeStore(t, 'import-emb-from', true);
  store.set('doc', 'text');
  store.setEmbedding('doc', new Float32Array(768).map((_, i) => i / 7));
  store.set('plain', 'no vector');
  const { name: to, store: target } = makeStore(t, 'import-emb-to', true);
  target.set('plain', 'old');
  target.setEmbedding('plain', new Float32Array(768).fill(1));
  const run = cli(['--use', to, 'import', docFile(t, cli(['--use', from, 'export']).stdout)]);
  t.equal(run.code, 0, run.stderr);
  t.same(carried(exported(to)), carried(exported(from)), 'the same export, embeddings included');
  t.same(target.getEmbedding('doc'), new Float32Array(768).map((_, i) => i / 7), 'the vector, float for float');
  t.ok(target.getEmbedding('plain')?.every((x) => x === 0), 'the old vector of an overwritten key is cleared');
});

t.test('stdin, a prefix, an old export without keyHex, --replace and --dry-run', async (t) => {
  const { name, store } = makeStore(t, 'import-stdin');
  store.set('stays', 'here');
  store.set('ns:old', 'gone with --replace');
  store.set('ns:a', 'before');
  const old = JSON.stringify({ format: 'splinter-export', keys: [{ key: 'a', encoding: 'utf8', value: 'after' }, { key: 'b', encoding: 'base64', value: 'AAE=' }] });

  const dry = cli(['--use', name, '--prefix', 'ns:', '--json', 'import', '--replace', '--dry-run'], { input: old });
  t.equal(dry.code, 0, dry.stderr);
  t.same(JSON.parse(dry.stdout), { imported: 2, created: 1, overwritten: 1, removed: 1, dryRun: true }, '--dry-run says what would change');
  t.equal(store.getString('ns:a'), 'before', '--dry-run writes nothing');
  t.equal(store.getString('ns:old'), 'gone with --replace');

  const run = cli(['--use', name, '--prefix', 'ns:', 'import', '-', '--replace'], { input: old });
  t.equal(run.code, 0, run.stderr);
  t.equal(run.stdout, 'imported 2 keys (1 new, 1 overwritten, 1 removed)\n');
  t.same(store.keys().sort(), ['ns:a', 'ns:b', 'stays'], '--replace removed the namespace key the document lacks, and only it');
  t.equal(store.getString('ns:a'), 'after', 'the document overwrote the existing key');
  t.same(store.get('ns:b'), new Uint8Array([0, 1]), 'a base64 value, from stdin');
});

const valid = { key: 'first', encoding: 'utf8', value: 'would be written first' };
const doc = (...keys: unknown[]): string => JSON.stringify({ format: 'splinter-export', formatVersion: 1, keys: [valid, ...keys] });

const BAD: Array<[string, string | Uint8Array, string, RegExp]> = [
  ['not JSON', '{"format": "splinter-export", "keys": [', 'EINVAL', /not JSON/],
  ['not an export', '[1, 2, 3]', 'EINVAL', /"format": "splinter-export", received \[1,2,3\]/],
  ['keys not an array', JSON.stringify({ format: 'splinter-export', keys: { a: 1 } }), 'EINVAL', /"keys": an array, received \{"a":1\}/],
  ['a newer format', JSON.stringify({ format: 'splinter-export', formatVersion: 2, keys: [] }), 'EINVAL', /"formatVersion": 1, received 2/],
  ['a key too long', doc({ key: 'k'.repeat(64), encoding: 'utf8', value: 'v' }), 'EINVAL', /keys\[1\]: a key is at most 63 bytes, received "k{64}", 64 bytes/],
  ['a key with NUL', doc({ key: 'a\u0000b', encoding: 'utf8', value: 'v' }), 'EINVAL', /keys\[1\]: a key has no NUL byte/],
  ['a bad keyHex', doc({ key: 'x', keyHex: 'zz', encoding: 'utf8', value: 'v' }), 'EINVAL', /keys\[1\]: "keyHex" is the key's bytes as pairs of hex digits, received "zz"/],
  ['keyHex and key disagree', doc({ key: 'caf\\xe8', keyHex: '636166e9', encoding: 'utf8', value: 'v' }), 'EINVAL', /"keyHex" is the key "caf\\\\xe9" and "key" says "caf\\\\xe8"/],
  ['bad base64', doc({ key: 'b', encoding: 'base64', value: 'AA$=' }), 'EINVAL', /keys\[1\] \("b"\) "value" is base64 .*received "AA\$="/],
  ['an unknown encoding', doc({ key: 'b', encoding: 'hex', value: '00' }), 'EINVAL', /"encoding" is "utf8" or "base64", received "hex"/],
  ['a value too large', doc({ key: 'big', encoding: 'utf8', value: 'x'.repeat(129) }), 'EMSGSIZE', /keys\[1\] \("big"\): a value is 1\.\.128 bytes in this store, received 129 bytes/],
  ['an empty value', doc({ key: 'e', encoding: 'utf8', value: '' }), 'EMSGSIZE', /received 0 bytes/],
  ['a length that disagrees', doc({ key: 'l', encoding: 'utf8', value: 'abc', length: 4 }), 'EINVAL', /"length" says 4 and the value is 3 bytes/],
  ['an unknown type', doc({ key: 't', encoding: 'utf8', value: 'v', type: 'float' }), 'EINVAL', /unknown type "float"/],
  ['type and typeFlag disagree', doc({ key: 't', encoding: 'utf8', value: 'v', type: 'json', typeFlag: 1 }), 'EINVAL', /"type" "json" is 8, and "typeFlag" says 1/],
  ['a bad label mask', doc({ key: 'm', encoding: 'utf8', value: 'v', labels: '0x1ffffffffffffffff' }), 'EINVAL', /"labels" is a 64-bit mask in hex/],
  ['a bad time', doc({ key: 'c', encoding: 'utf8', value: 'v', ctime: '-1' }), 'EINVAL', /"ctime" is an unsigned 64-bit number .*received "-1"/],
  ['an embedding the store cannot keep', doc({ key: 'v', encoding: 'utf8', value: 'v', embedding: 'AAAA' }), 'ENOTSUP', /keys\[1\] \("v"\) has an embedding and this store has none/],
  ['a duplicate key', doc({ key: 'first', encoding: 'utf8', value: 'again' }), 'EINVAL', /keys\[1\]: the key "first" is already keys\[0\]/],
  ['a duplicate by its bytes', doc({ key: 'caf\\xe9', keyHex: '636166e9', encoding: 'utf8', value: '1' }, { key: 'caf\\xe9', keyHex: '636166E9', encoding: 'utf8', value: '2' }), 'EINVAL', /keys\[2\]: the key "caf\\\\xe9" is already keys\[1\]/],
  ['a bad binding', JSON.stringify({ format: 'splinter-export', keys: [valid], labelGroups: { 3: 64 } }), 'EINVAL', /"labelGroups" bit 3: a signal group is 0\.\.63, received 64/],
  ['more keys than slots', doc(...Array.from({ length: 32 }, (_, i) => ({ key: `k${i}`, encoding: 'utf8', value: 'v' }))), 'ENOSPC', /the document has 33 keys and the store only 32 slots/],
  ['not UTF-8', new Uint8Array([0x7b, 0xff, 0x7d]), 'EINVAL', /not UTF-8/],
];

t.test('a bad document changes nothing and says what is wrong', async (t) => {
  const { name, store } = makeStore(t, 'import-bad');
  store.set('first', 'as it was');
  store.set('other', 'kept');
  const image = (): Buffer => fs.readFileSync(`/dev/shm/${name}`);
  const before = image();
  for (const [what, input, code, message] of BAD) {
    const run = cli(['--use', name, '--json', 'import', '--replace'], { input });
    t.equal(run.code, 1, `${what}: exit 1`);
    const error = (JSON.parse(run.stderr) as { error: { code: string; message: string } }).error;
    t.equal(error.code, code, `${what}: ${code}`);
    t.match(error.message, message, `${what}: the message names the entry, what was expected and what was received`);
    t.ok(image().equals(before), `${what}: the store's bytes are unchanged`);
  }
  const text = cli(['--use', name, 'import'], { input: 'nope' });
  t.ok(oneLineError(text.stderr), 'one line on stderr without --json');
  t.match(text.stderr, /^splinter: EINVAL: an import document is the JSON that export writes/);
});

t.test('a document larger than the store could hold: EMSGSIZE, reading stops at the bound', async (t) => {
  const { name } = makeStore(t, 'import-big');
  const file = cli(['--use', name, 'import', '/dev/zero'], { timeout: 120_000 });
  t.equal(file.code, 1, file.stderr);
  t.match(file.stderr, /^splinter: EMSGSIZE: an import document for this store \(32 slots of at most 128 bytes\) is at most 139,264 bytes; \/dev\/zero holds more \(reading stopped there\)\n$/);
  // An endless pipe: a reader without a bound would run until the 60 s kill.
  const command = `yes | '${process.execPath}' '${testedLauncher().bin}' --use '${name}' import`;
  const stdin = spawnSync('/bin/sh', ['-c', command], { env: cliEnv(), timeout: 60_000, killSignal: 'SIGKILL' });
  t.equal(stdin.status, 1, stdin.stderr.toString());
  t.match(stdin.stderr.toString(), /^splinter: EMSGSIZE: .* is at most 139,264 bytes; stdin holds more \(reading stopped there\)\n$/);
  t.equal(cli(['--use', name, 'import', '/nonexistent/dump.json']).stderr, 'splinter: ENOENT: cannot read /nonexistent/dump.json: no such file\n', 'a missing file');
});

t.test('help lists import and shows its usage', async (t) => {
  t.match(cli(['help']).stdout, /^  import +load an export document/m);
  t.match(cli(['help', 'import']).stdout, /^usage: splinter import \[FILE\|-\] \[--replace\] \[--dry-run\]$/m);
});

t.test('a write that fails midway says at which key and how many keys were written', async (t) => {
  const { name, store } = makeStore(t, 'import-midway');
  store.set('stuck', 'a dead writer holds this slot');
  const slot = store.slotSnapshot('stuck')!.index;
  const fd = fs.openSync(`/dev/shm/${name}`, 'r+');
  const epoch = Buffer.alloc(8);
  epoch.writeBigUInt64LE(13n); // odd: a writer died inside the seqlock
  fs.writeSync(fd, epoch, 0, 8, HEADER.size + slot * SLOT_SIZE + SLOT.epoch);
  fs.closeSync(fd);
  const input = JSON.stringify({
    format: 'splinter-export',
    keys: ['one', 'stuck', 'three'].map((key) => ({ key, encoding: 'utf8', value: `new ${key}` })),
  });
  const run = cli(['--use', name, '--json', 'import'], { input });
  t.equal(run.code, 1, run.stderr);
  const error = (JSON.parse(run.stderr) as { error: { code: string; message: string } }).error;
  t.equal(error.code, 'EAGAIN');
  t.match(error.message, /^import stopped at keys\[1\] \("stuck"\): 1 of 3 keys were written; /);
  t.equal(store.getString('one'), 'new one', 'the key before it was written');
  t.notOk(store.has('three'), 'the keys after it were not');
});

t.test('the bound grows with the store, up to the longest string Node can parse', async (t) => {
  t.equal(documentLimit({ slots: 32, maxValueSize: 128, embeddings: false }), 32 * (256 + 2048) + 65_536);
  t.equal(documentLimit({ slots: 32, maxValueSize: 128, embeddings: true }), 32 * (256 + 4096 + 2048) + 65_536, 'an embedding is 4,096 bytes of base64');
  t.equal(documentLimit({ slots: 1 << 20, maxValueSize: 1 << 16, embeddings: true }), 2 ** 29 - 24, 'a huge store: capped, not 137 GB');
});
