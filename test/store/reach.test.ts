/**
 * The reach (store/keys/reach.ts): lookups stop `reach` slots past a key's home. Our inserters raise
 * it before publishing; a key placed farther by a writer that does not keep it (C) is still
 * found, through one pass over the hashes; writers of ours alone never cause such a pass.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { Store } from '../../src/index.js';
import { HEADER, OURS, SLOT } from '../../src/layout/constants.js';
import { fnv1a64 } from '../../src/layout/fnv1a.js';
import { repoRoot, shmName } from '../helpers/fixtures.js';
import { homeOf } from '../helpers/home.js';
import { Peer, peerBinary } from '../helpers/peer.js';

const REACH_W32 = OURS.reach >>> 2;

/** `count` distinct keys whose home slot is `home`. */
function keysHomedAt(home: number, slots: number, count: number, prefix = 'k'): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) if (homeOf(`${prefix}${i}`, slots) === home) keys.push(`${prefix}${i}`);
  return keys;
}

const reachOf = (store: Store): number => store.memory.u32[REACH_W32]!;

/** Writes a key into an empty slot as a writer that keeps no reach and moves no global epoch would. */
function plantKey(store: Store, index: number, key: string, value: string): void {
  const m = store.memory;
  const at = m.slotByte(index);
  const bytes = new TextEncoder().encode(key);
  m.u8.set(bytes, at + SLOT.key);
  m.u8.fill(0, at + SLOT.key + bytes.length, at + SLOT.key + 64);
  const v = new TextEncoder().encode(value);
  m.u8.set(v, m.arenaStart + m.homeOffset(index));
  Atomics.store(m.u32, (at + SLOT.val_len) >>> 2, v.length);
  Atomics.store(m.u64, (at + SLOT.epoch) >>> 3, 2n);
  Atomics.store(m.u64, at >>> 3, fnv1a64(bytes));
}

t.test('an insert raises the reach to its distance from home, and a lookup stops there', async (t) => {
  const slots = 64;
  const store = Store.create(shmName(t), { slots, maxValueSize: 16 });
  t.teardown(() => store.close());
  t.equal(reachOf(store), 0, 'a fresh store: every key at home');
  const [a, b, c, missing] = keysHomedAt(10, slots, 4);
  store.set(a!, 'a');
  t.equal(reachOf(store), 0, 'at home');
  store.set(b!, 'b');
  store.set(c!, 'c');
  t.equal(reachOf(store), 2, 'the third key of home 10 sits 2 slots past it');
  t.equal(store.slotSnapshot(c!)!.index, 12);
  store.set(c!, 'c2');
  t.equal(reachOf(store), 2, 'an overwrite leaves it');

  // Planted 5 slots past home with no global-epoch move: beyond the reach, so not looked for.
  plantKey(store, 15, missing!, 'far');
  t.equal(store.get(missing!), undefined, 'the lookup stopped at the reach');
  t.equal(store.memory.trust.rescans, 0, 'and made no pass over the table');

  // One foreign move of the global epoch (no mark of ours): the next miss passes over the table once.
  Atomics.add(store.memory.u32, HEADER.epoch >>> 2, 1);
  t.equal(store.getString(missing!), 'far', 'found after the foreign move');
  t.equal(store.memory.trust.rescans, 1, 'through one pass');
  t.equal(reachOf(store), 5, 'which raised the reach to the farthest key');
  t.equal(store.get(`${missing!}-nothing`), undefined);
  t.equal(store.memory.trust.rescans, 1, 'later misses need no other pass');
});

t.test('a reach raised by another handle is seen, and a handle that writes alone never scans', async (t) => {
  const slots = 256;
  const name = shmName(t);
  const a = Store.create(name, { slots, maxValueSize: 16 });
  const b = Store.open(name);
  t.teardown(() => (a.close(), b.close()));
  const cluster = keysHomedAt(7, slots, 6, 'c');
  for (const key of cluster.slice(0, 3)) a.set(key, 'x');
  t.equal(b.get(cluster[4]!), undefined, 'b misses a key of the cluster');
  t.equal(b.memory.trust.rescans, 1, 'b opened the store: its first miss made one pass (it trusts no padding it did not see kept)');
  for (const key of cluster.slice(3)) a.set(key, 'y');
  t.equal(b.getString(cluster[5]!), 'y', 'b finds the farthest key a placed since');
  // Many inserts, unsets and misses from both handles in turn.
  for (let i = 0; i < 2000; i++) {
    const writer = i % 2 === 0 ? a : b;
    writer.set(`key${i % 150}`, `v${i}`);
    if (i % 3 === 0) writer.unset(`key${(i * 7) % 150}`);
    t.equal((i % 2 === 0 ? b : a).get(`never-${i}`), undefined);
  }
  t.equal(a.memory.trust.rescans, 0, 'no pass over the table by the creator: every move was ours');
  t.equal(b.memory.trust.rescans, 1, 'nor any other by b');
});

t.test('a store C filled: its keys far from home are found, after one pass', { skip: !fs.existsSync(peerBinary) && 'C peer not built' }, async (t) => {
  const slots = 32;
  const name = shmName(t);
  const peer = Peer.create(name, slots, 16);
  t.teardown(async () => {
    await peer.close();
  });
  await peer.ready;
  const cluster = keysHomedAt(30, slots, 6, 'far');
  for (const key of cluster) t.equal((await peer.send({ op: 'set', key, value_hex: Buffer.from(key).toString('hex') })).rc, 0);
  const store = Store.open(name);
  t.teardown(() => store.close());
  t.equal(reachOf(store), 0, 'C keeps no reach');
  // The sixth key of home 30 wrapped to slot 3: five slots from home.
  t.equal(store.getString(cluster[5]!), cluster[5], 'found');
  t.equal(store.memory.trust.rescans, 1, 'through one pass over the hashes');
  t.equal(reachOf(store), 5);
  // C inserts again, far from home: found again, one more pass.
  const more = keysHomedAt(30, slots, 8, 'far').slice(6);
  t.equal((await peer.send({ op: 'set', key: more[0]!, value_hex: '61' })).rc, 0);
  t.equal(store.getString(more[0]!), 'a', 'a key C placed after our pass is found');
  t.equal(store.memory.trust.rescans, 2);
  t.equal(store.get('not-there'), undefined);
  t.equal(store.memory.trust.rescans, 2, 'no further foreign move: no further pass');
  // Our insert after a C insert: the duplicate check covers C's far copy, whatever holes lie before it.
  t.equal((await peer.send({ op: 'set', key: more[1]!, value_hex: '62' })).rc, 0);
  t.equal((await peer.send({ op: 'unset', key: cluster[0]! })).rc, cluster[0]!.length, 'C opens a hole at home');
  store.set(more[1]!, 'ours');
  const listed = (await peer.send({ op: 'list' }))['keys'] as string[];
  t.equal(listed.filter((k) => k === more[1]).length, 1, 'one copy: the one past the hole was removed');
  t.equal((await peer.send({ op: 'get', key: more[1]! }))['value_hex'], Buffer.from('ours').toString('hex'), 'C reads our value');
});

t.test('two processes of ours inserting the same keys at once leave one copy of each', async (t) => {
  const slots = 512;
  const name = shmName(t);
  const store = Store.create(name, { slots, maxValueSize: 16 });
  t.teardown(() => store.close());
  // Holes in front of the keys' places: fill, then unset every other filler.
  for (let i = 0; i < 200; i++) store.set(`filler${i}`, 'f');
  for (let i = 0; i < 200; i += 2) store.unset(`filler${i}`);
  const keys = Array.from({ length: 150 }, (_, i) => `race${i}`);
  const child = path.join(repoRoot, 'test', 'store', 'children', 'writer.ts');
  const run = (value: string): Promise<number | null> =>
    new Promise((resolve) => {
      const p = spawn(process.execPath, ['--import', 'tsx', child, name, ...keys.map((k) => `${k}=${value}`)], { cwd: repoRoot, stdio: 'ignore' });
      p.on('exit', resolve);
    });
  const codes = await Promise.all([run('one'), run('two')]);
  t.same(codes, [0, 0], 'both writers finished');
  const counts = new Map<string, number>();
  for (const key of store.keys() as string[]) counts.set(key, (counts.get(key) ?? 0) + 1);
  t.same(keys.filter((k) => counts.get(k) !== 1), [], 'every key once');
  t.same(keys.filter((k) => !['one', 'two'].includes(store.getString(k) ?? '')), [], 'with one writer\'s value');
  t.ok(reachOf(store) < slots, `reach ${reachOf(store)}`);
});

t.test('after a C set, an unset of ours never takes the key for gone: the copy C left is read next', { skip: !fs.existsSync(peerBinary) && 'C peer not built' }, async (t) => {
  const slots = 8;
  const name = shmName(t);
  const store = Store.create(name, { slots, maxValueSize: 16 });
  t.teardown(() => store.close());
  const peer = Peer.open(name);
  t.teardown(async () => {
    await peer.close();
  });
  await peer.ready;
  const [first, key] = keysHomedAt(2, slots, 2, 'dup') as [string, string];
  store.set(first, 'a');
  store.set(key, 'ours'); // slot 3, past `first`
  store.unset(first); // a hole at home
  t.equal(store.memory.trust.foreignFree, true, 'so far every move was ours');
  // C's set takes the hole: a second copy of the key, before ours.
  t.equal((await peer.send({ op: 'set', key, value_hex: Buffer.from('c').toString('hex') })).rc, 0, 'C set it');
  // Two inserts of ours right after: C's move is still young for the walks (a pass vouches for it instead).
  store.set('x1', '1');
  store.set('x2', '2');
  t.equal(store.memory.trust.foreignFree, false, "C's move was counted");
  t.equal(store.unset(key), 1, "our unset removes the first copy, C's");
  t.equal(store.getString(key), 'ours', 'the copy past it is what readers see next, as in C');
  t.equal((await peer.send({ op: 'get', key }))['value_hex'], Buffer.from('ours').toString('hex'), 'C reads the same');
});
