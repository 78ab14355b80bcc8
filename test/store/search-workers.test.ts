/**
 * store.search with `parallel: true` splits the slots with a worker thread: the answer must be the one
 * thread's answer exactly (a predicate as `keys` keeps a search on one thread, which gives the
 * reference); the worker opens stores by buffer and by path; it never keeps a process alive.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { Store, type SearchOptions } from '../../src/index.js';
import type { Test } from '../helpers/assert.js';
import { distStaleness } from '../helpers/dist.js';
import { repoRoot, tempDir } from '../helpers/fixtures.js';

t.setTimeout(240_000);
const DIM = 768;
const SLOTS = 20_000;

function fill(store: Store, keys: number): Float32Array {
  const v = new Float32Array(DIM);
  let a = 7;
  for (let i = 0; i < keys; i++) {
    for (let k = 0; k < DIM; k++) {
      a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
      v[k] = a / 2 ** 31 - 1;
    }
    if (i % 50 === 0) v.fill(0.5); // ties
    store.set(`k/${i}`, 'x');
    store.setEmbedding(`k/${i}`, v);
    if (i % 3 === 0) store.setLabel(`k/${i}`, 2n);
  }
  const q = new Float32Array(v);
  q[3] = q[3]! + 1;
  return q;
}

/** Waits (generously: a loaded machine boots a worker slowly) until the store's search worker has the store open. */
async function workerReady(t: Test, store: Store): Promise<void> {
  store.search(new Float32Array(DIM).fill(1), { limit: 1, parallel: true }); // starts it
  const deadline = Date.now() + 120_000;
  const pool = (): { ready: boolean } | undefined => (store as unknown as { searchPool?: { ready: boolean } }).searchPool;
  while (pool()?.ready !== true && Date.now() < deadline) await sleep(20);
  t.ok(pool()?.ready, 'the search worker started and opened the store');
}

const cases: SearchOptions[] = [
  { limit: 10 },
  { limit: 1 },
  { limit: 25, labels: 2n },
  { limit: 7, keys: /^k\/1/ },
  { limit: 12, keys: 'k/2' },
  { minSimilarity: 0.05 },
  { maxDistance: 27, limit: 30 },
  { limit: 60 }, // reaches into the tied vectors
];

async function sameAsOneThread(t: Test, store: Store, q: Float32Array): Promise<void> {
  await workerReady(t, store);
  for (const o of cases) {
    const split = store.search(q, { ...o, parallel: true });
    const keys = o.keys;
    const one = store.search(q, { ...o, parallel: true, keys: (k) => keys === undefined || (keys instanceof RegExp ? keys.test(String(k)) : String(k).startsWith(keys as string)) });
    const what = JSON.stringify(o, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof RegExp ? String(v) : v));
    t.same(split.hits, one.hits, `${what}: the same hits, in the same order`);
    t.same([split.matched, split.scored, split.skipped], [one.matched, one.scored, one.skipped], `${what}: the same counts`);
  }
}

t.test('a shared store: the worker attaches its buffer', async (t) => {
  const store = Store.createShared({ slots: SLOTS, maxValueSize: 8, embeddings: true });
  t.teardown(() => store.close());
  await sameAsOneThread(t, store, fill(store, 2_500));
});

t.test('a file store: the worker opens it by path', async (t) => {
  const store = Store.create(path.join(tempDir(t), 'workers.spl'), { slots: SLOTS, maxValueSize: 8, embeddings: true });
  t.teardown(() => store.close());
  await sameAsOneThread(t, store, fill(store, 2_500));
});

t.test('a process that searched with a worker exits, closed or not', async (t) => {
  t.equal(distStaleness(), undefined, 'dist/ is built from the current sources (npm run build)');
  for (const close of ['close', 'leave']) {
    const started = Date.now();
    const child = spawnSync(process.execPath, [path.join(repoRoot, 'test/store/children/search-and-exit.mjs'), close], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 120_000,
    });
    t.equal(child.status, 0, `${close}: exit 0 ${child.stderr}`);
    t.match(child.stdout, /worker ready: true/, `${close}: the worker was in use`);
    t.ok(Date.now() - started < 120_000, `${close}: it did not hang`);
  }
});
