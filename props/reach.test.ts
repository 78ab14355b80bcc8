/**
 * Reach property (src/store/keys/reach.ts): random interleavings of inserts, unsets and gets by two
 * handles of ours and the C peer on one small store, over keys that crowd a few home slots, so
 * keys land far from home, holes open in front of them and keys are inserted again into the
 * holes (where C's set duplicates, docs/spec/FORMAT.md §9 Q1). After every step:
 *  - every key of the pool reads the same through both our handles as through C's get (which
 *    probes the whole table): every present key found, every absent one reported absent;
 *  - a set of ours leaves one copy of its key, or as many as C had made (C's duplicates stay
 *    C's); an unset of ours never adds one.
 * Runs: SPLINTER_PROPS_RUNS (default 60 per geometry, 20 to 60 steps); replay with the
 * printed SPLINTER_PROPS_SEED / SPLINTER_PROPS_PATH.
 */
import fs from 'node:fs';
import fc from 'fast-check';
import t from 'tap';
import { Store } from '../src/index.js';
import { shmName } from '../test/helpers/fixtures.js';
import { Peer, peerBinary } from '../test/helpers/peer.js';
import { fnv1a64Oracle, utf8 } from './lib/layout.js';
import { checkProperty, parameters } from './lib/run.js';

const DEFAULT_RUNS = 60;

interface Step {
  side: 'a' | 'b' | 'c';
  op: 'set' | 'unset' | 'get';
  key: number;
  value: number;
}

/** Keys whose homes fall in a few neighbouring slots (plus one far away), so clusters form and wrap. */
function keyPool(slots: number): string[] {
  const crowded = [slots - 2, slots - 1, 0];
  const keys: string[] = [];
  for (let i = 0; keys.length < 10; i++) {
    const key = `p${i}`;
    if (crowded.includes(Number(fnv1a64Oracle(utf8(key)) % BigInt(slots)))) keys.push(key);
  }
  keys.push('lone', 'other');
  return keys;
}

const stepArbitrary = (keys: number): fc.Arbitrary<Step> =>
  fc.record({
    // C does most of the writing: its keys land beyond the reach our inserts keep.
    side: fc.constantFrom('a' as const, 'b' as const, 'c' as const, 'c' as const, 'c' as const),
    op: fc.constantFrom('set' as const, 'set' as const, 'unset' as const, 'get' as const),
    key: fc.nat({ max: keys - 1 }),
    value: fc.nat({ max: 255 }),
  });

const show = (s: Step, keys: string[]): string => `${s.side}:${s.op}(${keys[s.key]}${s.op === 'set' ? `, ${s.value}` : ''})`;

async function copiesOf(peer: Peer): Promise<Map<string, number>> {
  const answer = await peer.send({ op: 'list' });
  const counts = new Map<string, number>();
  for (const key of answer['keys'] as string[]) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}

/** Our read of `key` (`got`) must be what C's get, which probes the whole table, reads. */
async function sameAsC(peer: Peer, label: string, store: Store, key: string, got: string | undefined, where: string): Promise<void> {
  const c = await peer.send({ op: 'get', key });
  if (c.rc !== 0 && c['errno'] !== 'ENOENT') throw new Error(`C get ${key}: ${JSON.stringify(c)}`);
  const expected = c.rc === 0 ? Buffer.from(c['value_hex'] as string, 'hex').toString() : undefined;
  if (got !== expected) throw new Error(`${label}.get(${key}) = ${got}, C reads ${expected} ${where}`);
  if (store.has(key) !== (expected !== undefined)) throw new Error(`${label}.has(${key}) disagrees with C ${where}`);
}

for (const slots of [16, 13]) {
  t.test(`reach: our two handles and the C peer on a ${slots}-slot store`, { skip: !fs.existsSync(peerBinary) && 'C peer not built' }, async (t) => {
    const keys = keyPool(slots);
    const property = fc.asyncProperty(fc.array(stepArbitrary(keys.length), { minLength: 20, maxLength: 60 }), async (steps) => {
      const name = shmName(t, `reach-${slots}`);
      const a = Store.create(name, { slots, maxValueSize: 16 });
      const b = Store.open(name);
      const peer = Peer.open(name);
      const done: string[] = [];
      try {
        await peer.ready;
        for (const step of steps) {
          done.push(show(step, keys));
          const where = (): string => `after ${done.join(' ')}`;
          const key = keys[step.key]!;
          const before = (await copiesOf(peer)).get(key) ?? 0;
          const value = `v${step.value}`;
          let read: string | undefined;
          if (step.side === 'c') {
            if (step.op === 'set') await peer.send({ op: 'set', key, value_hex: Buffer.from(value).toString('hex') });
            else if (step.op === 'unset') await peer.send({ op: 'unset', key });
            else await peer.send({ op: 'get', key });
          } else {
            const store = step.side === 'a' ? a : b;
            try {
              if (step.op === 'set') store.set(key, value);
              else if (step.op === 'unset') store.unset(key);
              else read = store.getString(key);
            } catch (error) {
              // A full store refuses a new key; nothing else may fail here.
              if (!(step.op === 'set' && (error as { code?: string }).code === 'ENOSPC')) throw error;
            }
          }
          const after = (await copiesOf(peer)).get(key) ?? 0;
          if (step.side !== 'c' && step.op === 'set' && after > Math.max(1, before)) {
            throw new Error(`ours left ${after} copies of ${key} (there were ${before}) ${where()}`);
          }
          if (step.side !== 'c' && step.op === 'unset' && after > before) throw new Error(`our unset added a copy of ${key} ${where()}`);
          // Reads of ours happen only as steps (and at the end): a read between steps would raise the reach for the next insert.
          if (step.side !== 'c' && step.op === 'get') await sameAsC(peer, step.side, step.side === 'a' ? a : b, key, read, where());
        }
        for (const k of keys) {
          for (const [label, store] of [['a', a], ['b', b]] as const) await sameAsC(peer, label, store, k, store.getString(k), `at the end of ${done.join(' ')}`);
        }
      } finally {
        await peer.close();
        a.close();
        b.close();
      }
    });
    await checkProperty(t, `reach ${slots} slots`, property, parameters(DEFAULT_RUNS));
  });
}
