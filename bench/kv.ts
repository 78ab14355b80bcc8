/**
 * Key-value benchmarks: our library and the C peer (bench mode) on the same workloads, in one
 * run, interleaved: median of REPETITIONS runs of ITERATIONS ops each, over 1000 keys
 * round-robin in a 1024 × 4096 store. Prints a table (ns/op, ops/s, ours/C, bytes allocated
 * per op on our side) and the same as JSON on the last line. BENCH_ITERATIONS,
 * BENCH_REPETITIONS and BENCH_ONLY (workload name prefixes) shorten a run.
 */
import fs from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { Store } from '../src/index.js';
import { Peer, peerBinary } from '../test/helpers/peer.js';

const SLOTS = 1024;
const MAX_VALUE = 4096;
const KEYS = 1000;
const ITERATIONS = Number(process.env['BENCH_ITERATIONS'] ?? 500_000);
const REPETITIONS = Number(process.env['BENCH_REPETITIONS'] ?? 5);
const ALLOCATION_OPS = 20_000;

interface Workload {
  name: string;
  /** The C peer's workload and value size, or undefined when it has none. */
  c: { workload: string; valueSize: number; keys?: number } | undefined;
  prepare(store: Store): void;
  /** Runs ops from..from+n (keys() lists 1000 keys per op); returns something derived from the results. */
  loop(store: Store, from: number, n: number): number;
}

const keys = Array.from({ length: KEYS }, (_, i) => `bench/${i}`);
const missKeys = Array.from({ length: KEYS }, (_, i) => `bench-miss/${i}`);
const value64 = new Uint8Array(64).fill(0x61);
const value1k = new Uint8Array(1024).fill(0x62);
const target = new Uint8Array(MAX_VALUE);
const fill = (store: Store, value: Uint8Array): void => keys.forEach((key) => store.set(key, value));

/*
 * Each workload has its own timing loop, written out: one shared loop calling `run` through
 * ten different closures would time a megamorphic call on every op, which neither a user's
 * code nor the C side pays.
 */
const workloads: Workload[] = [
  {
    name: 'set 64 B',
    c: { workload: 'set', valueSize: 64 },
    prepare: (s) => fill(s, value64),
    loop: (s, from, n) => {
      for (let i = from; i < from + n; i++) s.set(keys[i % KEYS]!, value64);
      return n;
    },
  },
  {
    name: 'set 1 KiB',
    c: { workload: 'set', valueSize: 1024 },
    prepare: (s) => fill(s, value1k),
    loop: (s, from, n) => {
      for (let i = from; i < from + n; i++) s.set(keys[i % KEYS]!, value1k);
      return n;
    },
  },
  {
    name: 'get 64 B (copy)',
    c: { workload: 'get', valueSize: 64 },
    prepare: (s) => fill(s, value64),
    loop: (s, from, n) => {
      let total = 0;
      for (let i = from; i < from + n; i++) total += s.get(keys[i % KEYS]!)!.length;
      return total;
    },
  },
  {
    name: 'getInto 64 B',
    c: { workload: 'get', valueSize: 64 },
    prepare: (s) => fill(s, value64),
    loop: (s, from, n) => {
      let total = 0;
      for (let i = from; i < from + n; i++) total += s.getInto(keys[i % KEYS]!, target);
      return total;
    },
  },
  {
    name: 'getEpoch',
    c: { workload: 'get_epoch', valueSize: 64 },
    prepare: (s) => fill(s, value64),
    loop: (s, from, n) => {
      let odd = 0;
      for (let i = from; i < from + n; i++) odd += Number(s.getEpoch(keys[i % KEYS]!) & 1n);
      return odd + n;
    },
  },
  {
    name: 'has',
    c: { workload: 'has', valueSize: 64 },
    prepare: (s) => fill(s, value64),
    loop: (s, from, n) => {
      let found = 0;
      for (let i = from; i < from + n; i++) if (s.has(keys[i % KEYS]!)) found++;
      return found;
    },
  },
  {
    name: 'append 1 B',
    c: { workload: 'append', valueSize: 64 },
    prepare: (s) => fill(s, value64),
    loop: (s, from, n) => {
      const one = value64.subarray(0, 1);
      let total = 0;
      for (let i = from; i < from + n; i++) {
        const key = keys[i % KEYS]!;
        try {
          total += s.append(key, one);
        } catch {
          s.unset(key); // full: start the value again, as the C side does
          s.set(key, value64);
        }
      }
      return total;
    },
  },
  {
    name: 'unset + set 64 B',
    c: { workload: 'unset_set', valueSize: 64 },
    prepare: (s) => fill(s, value64),
    loop: (s, from, n) => {
      for (let i = from; i < from + n; i++) {
        const key = keys[i % KEYS]!;
        s.unset(key);
        s.set(key, value64);
      }
      return n;
    },
  },
  {
    name: 'miss (get of a missing key)',
    c: { workload: 'miss', valueSize: 64 },
    prepare: (s) => fill(s, value64),
    loop: (s, from, n) => {
      let total = 0;
      for (let i = from; i < from + n; i++) total += s.getInto(missKeys[i % KEYS]!, target);
      return total;
    },
  },
  {
    name: 'keys() over 1000 keys',
    c: { workload: 'list', valueSize: 64 },
    prepare: (s) => fill(s, value64),
    loop: (s, from, n) => {
      let total = 0;
      for (let i = from; i < from + n; i++) total += s.keys().length;
      return total;
    },
  },
];

/** BENCH_ONLY=name,name… runs only the workloads whose names start with one of those. */
const only = (process.env['BENCH_ONLY'] ?? '').split(',').filter(Boolean);
const selected = only.length === 0 ? workloads : workloads.filter((w) => only.some((prefix) => w.name.startsWith(prefix)));

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
let sink = 0;

function iterationsOf(w: Workload): number {
  return w.name.startsWith('keys()') || w.name.startsWith('miss') ? Math.max(1000, ITERATIONS / 50) : ITERATIONS;
}

function timeOurs(store: Store, w: Workload): number {
  const n = iterationsOf(w);
  sink += w.loop(store, 0, Math.min(n, 50_000)); // JIT warm-up
  const start = process.hrtime.bigint();
  sink += w.loop(store, 0, n);
  return Number(process.hrtime.bigint() - start) / n;
}

/** Heap bytes allocated per op, measured between two GCs with none in between (else NaN). */
function allocatedPerOp(store: Store, w: Workload, gc: () => void): number {
  let collections = 0;
  const observer = new PerformanceObserver((list) => (collections += list.getEntries().length));
  observer.observe({ entryTypes: ['gc'] });
  sink += w.loop(store, 0, ALLOCATION_OPS);
  gc();
  const before = v8.getHeapStatistics().used_heap_size;
  collections = 0;
  sink += w.loop(store, 0, ALLOCATION_OPS);
  const after = v8.getHeapStatistics().used_heap_size;
  observer.disconnect();
  return collections > 0 ? Number.NaN : Math.max(0, (after - before) / ALLOCATION_OPS);
}

function memoryPerHandle(name: string, gc: () => void): number {
  gc();
  const before = v8.getHeapStatistics().used_heap_size;
  const handles = Array.from({ length: 50 }, () => Store.open(name));
  for (const h of handles) h.getInto(keys[0]!, target);
  gc();
  const after = v8.getHeapStatistics().used_heap_size;
  handles.forEach((h) => h.close());
  return (after - before) / handles.length;
}

async function main(): Promise<void> {
  v8.setFlagsFromString('--expose-gc');
  const gc = (await import('node:vm')).runInNewContext('gc') as () => void;
  const name = `splinter-bench-kv-${process.pid}`;
  const store = Store.create(name, { slots: SLOTS, maxValueSize: MAX_VALUE });
  const peerName = `${name}-c`;
  const peer = fs.existsSync(peerBinary) ? Peer.create(peerName, SLOTS, MAX_VALUE) : undefined;
  if (peer) await peer.ready;
  const ours = new Map<string, number[]>();
  const c = new Map<string, number[]>();
  try {
    for (let r = 0; r < REPETITIONS; r++) {
      for (const w of selected) {
        w.prepare(store);
        (ours.get(w.name) ?? ours.set(w.name, []).get(w.name)!).push(timeOurs(store, w));
        if (peer && w.c) {
          const answer = await peer.send({ op: 'bench', workload: w.c.workload, iterations: iterationsOf(w), keys: KEYS, value_size: w.c.valueSize });
          if (answer.rc !== 0) throw new Error(`C bench ${w.c.workload}: ${JSON.stringify(answer)}`);
          (c.get(w.name) ?? c.set(w.name, []).get(w.name)!).push(Number(answer['ns_per_op']));
        }
      }
    }
    const rows = selected.map((w) => {
      w.prepare(store);
      const oursNs = median(ours.get(w.name)!);
      const cNs = c.has(w.name) ? median(c.get(w.name)!) : undefined;
      return {
        workload: w.name,
        'ours ns/op': Number(oursNs.toFixed(1)),
        'ours ops/s': Math.round(1e9 / oursNs),
        'C ns/op': cNs === undefined ? null : Number(cNs.toFixed(1)),
        'ours/C': cNs === undefined ? null : Number((oursNs / cNs).toFixed(2)),
        'bytes alloc/op': Number(allocatedPerOp(store, w, gc).toFixed(1)),
      };
    });
    const perHandle = Math.round(memoryPerHandle(name, gc));
    console.log(`${SLOTS} slots × ${MAX_VALUE} B, ${KEYS} keys round-robin, median of ${REPETITIONS}; node ${process.version}`);
    console.table(rows);
    console.log(`JS heap per open store handle: ${perHandle} bytes (plus the shared mapping, ${store.buffer?.byteLength ?? 'not on the heap'})`);
    console.log(JSON.stringify({ rows, heapBytesPerHandle: perHandle, sink: sink > 0 }));
  } finally {
    store.close();
    Store.unlink(name);
    if (peer) {
      await peer.close();
      Store.unlink(peerName);
    }
  }
}

await main();
