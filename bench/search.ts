/**
 * Exact top-10 search over 768-float embeddings, ours beside C's own scoring loop, in the same run.
 * For each size (BENCH_SEARCH_SIZES, default 10000,100000 vectors): a shared-memory store of
 * 1.25 × n slots with n pseudo-random vectors; the query is a stored vector nudged. Ours:
 * store.search(query, { limit: 10 }), BENCH_SEARCH_REPETITIONS (21) times after 5 unrecorded, wall
 * time (p50, p90) and the thread's CPU time (p50), on one thread (parallel: false) and on two (a
 * worker thread scanning half the slots; it needs the built package or a loader that reaches workers). C: the peer's bench_search (test/peer), the loop
 * C's `search` runs (a slot snapshot and get_embedding per key, the cosine and distance loops, the
 * sort), CPU time, median of 7. The first search of each store (before each slot's norm is cached) is
 * timed apart: "first". The load average is printed with the figures; the last line is JSON.
 */
import fs from 'node:fs';
import os from 'node:os';
import { Store } from '../dist/index.js'; // built: a worker thread cannot load the TypeScript sources under tsx
import { Peer, peerBinary } from '../test/helpers/peer.js';
import { threadCpuNs } from './thread-cpu.js';

const SIZES = (process.env['BENCH_SEARCH_SIZES'] ?? '10000,20000,100000').split(',').map(Number);
const REPETITIONS = Number(process.env['BENCH_SEARCH_REPETITIONS'] ?? 21);
const DIM = 768;

function fill(v: Float32Array, seed: number): void {
  let a = seed >>> 0 || 1;
  for (let i = 0; i < DIM; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    v[i] = a / 2 ** 31 - 1;
  }
}

/** Waits until the store's search worker has the store open (it starts on the first parallel search). */
async function workerReady(store: Store): Promise<void> {
  const deadline = Date.now() + 60_000;
  const pool = (): { ready: boolean } | undefined => (store as unknown as { searchPool?: { ready: boolean } }).searchPool;
  while (pool()?.ready !== true && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  if (pool()?.ready !== true) throw new Error('the search worker did not start (run from dist/, or under a loader that reaches workers)');
}

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;

interface Row {
  vectors: number;
  oneThreadP50Ms: number;
  oneThreadCpuP50Ms: number;
  firstSearchMs: number;
  firstSearchCpuMs: number;
  oursP50Ms: number;
  oursP90Ms: number;
  oursCpuP50Ms: number;
  cCpuMedianMs: number;
  speedup: number;
  sameTop: boolean;
  load: number[];
}

if (!fs.existsSync(peerBinary)) throw new Error(`the C peer is not built (${peerBinary}): run npm run peer`);
const rows: Row[] = [];
for (const n of SIZES) {
  const name = `bench-search-${process.pid}-${n}`;
  const store = Store.create(name, { slots: Math.ceil(n * 1.25), maxValueSize: 16, embeddings: true });
  try {
    const v = new Float32Array(DIM);
    for (let i = 0; i < n; i++) {
      fill(v, i + 1);
      store.set(`memory/${i}`, 'x');
      store.setEmbedding(`memory/${i}`, v);
    }
    const query = new Float32Array(DIM);
    fill(query, 4242);
    for (let i = 0; i < DIM; i += 7) query[i] = query[i]! + 0.3;
    // One thread, then two (a worker scanning half the slots), each after unrecorded searches.
    const timed = async (parallel: boolean): Promise<{ wall: number[]; cpu: number[]; top: unknown; first: [number, number] }> => {
      const c = threadCpuNs();
      const t = performance.now();
      store.search(query, { limit: 10, parallel });
      const first: [number, number] = [performance.now() - t, (threadCpuNs() - c) / 1e6];
      if (parallel) await workerReady(store);
      for (let i = 0; i < 5; i++) store.search(query, { limit: 10, parallel });
      const wall: number[] = [];
      const cpu: number[] = [];
      let top: unknown;
      for (let r = 0; r < REPETITIONS; r++) {
        const c0 = threadCpuNs();
        const t0 = performance.now();
        const { hits } = store.search(query, { limit: 10, parallel });
        wall.push(performance.now() - t0);
        cpu.push((threadCpuNs() - c0) / 1e6);
        top = hits[0]?.key;
      }
      wall.sort((a, b) => a - b);
      cpu.sort((a, b) => a - b);
      return { wall, cpu, top, first };
    };
    const one = await timed(false);
    const { wall, cpu, top } = await timed(true);
    const peer = Peer.open(name);
    const answer = await peer.send({ op: 'bench_search', query_hex: Buffer.from(query.buffer).toString('hex'), reps: 7, limit: 10 });
    await peer.close();
    if (answer.rc !== 0) throw new Error(`C bench_search: ${JSON.stringify(answer)}`);
    const cMs = Number(answer['median_ns']) / 1e6;
    const row: Row = {
      vectors: n,
      oneThreadP50Ms: quantile(one.wall, 0.5),
      oneThreadCpuP50Ms: quantile(one.cpu, 0.5),
      firstSearchMs: one.first[0],
      firstSearchCpuMs: one.first[1],
      oursP50Ms: quantile(wall, 0.5),
      oursP90Ms: quantile(wall, 0.9),
      oursCpuP50Ms: quantile(cpu, 0.5),
      cCpuMedianMs: cMs,
      speedup: cMs / quantile(one.cpu, 0.5),
      sameTop: answer['top'] === top && one.top === top,
      load: os.loadavg().map((x) => Math.round(x * 100) / 100),
    };
    rows.push(row);
    console.log(
      `${String(n).padStart(7)} vectors: one thread p50 ${row.oneThreadP50Ms.toFixed(2)} ms (CPU ${row.oneThreadCpuP50Ms.toFixed(2)}, first search ${row.firstSearchMs.toFixed(2)} ms / CPU ${row.firstSearchCpuMs.toFixed(2)}); ` +
        `two p50 ${row.oursP50Ms.toFixed(2)} ms (p90 ${row.oursP90Ms.toFixed(2)}, this thread's CPU ${row.oursCpuP50Ms.toFixed(2)}); ` +
        `C's loop ${cMs.toFixed(2)} ms CPU: C / our one thread ${row.speedup.toFixed(2)}×; same top hit: ${row.sameTop}; load ${row.load.join(' ')}`,
    );
  } finally {
    store.close();
    Store.unlink(name);
  }
}
console.log(JSON.stringify({ bench: 'search', cores: os.cpus().length, rows }));
