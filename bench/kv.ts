/**
 * First key-value benchmark: set and get of 64-byte values over 1000 keys, round-robin,
 * in a 1024 × 4096 shm store; ns/op, median of 5 repetitions, with the C peer's figure
 * for the same workload in the same run when the peer is built (`npm run peer`).
 */
import fs from 'node:fs';
import { Store } from '../src/index.js';
import { Peer, peerBinary } from '../test/helpers/peer.js';

const SLOTS = 1024;
const MAX_VALUE = 4096;
const KEYS = 1000;
const VALUE_SIZE = 64;
const ITERATIONS = Number(process.env['BENCH_ITERATIONS'] ?? 1_000_000);
const REPETITIONS = 5;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function timeIt(fn: (i: number) => void): number {
  for (let i = 0; i < Math.min(ITERATIONS, 100_000); i++) fn(i); // warm up the JIT
  const start = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) fn(i);
  return Number(process.hrtime.bigint() - start) / ITERATIONS;
}

async function main(): Promise<void> {
  const name = `splinter-bench-${process.pid}`;
  const store = Store.create(name, { slots: SLOTS, maxValueSize: MAX_VALUE });
  const keys = Array.from({ length: KEYS }, (_, i) => `bench/${i}`);
  const value = new Uint8Array(VALUE_SIZE).fill(0x61);
  const target = new Uint8Array(MAX_VALUE);
  for (const key of keys) store.set(key, value);
  let sink = 0;
  const workloads: Record<string, (i: number) => void> = {
    set: (i) => store.set(keys[i % KEYS]!, value),
    get: (i) => (sink += store.get(keys[i % KEYS]!)!.length),
    getInto: (i) => (sink += store.getInto(keys[i % KEYS]!, target)),
    getEpoch: (i) => (sink += Number(store.getEpoch(keys[i % KEYS]!) & 1n)),
  };
  const peerWorkload: Record<string, string> = { set: 'set', get: 'get', getInto: 'get', getEpoch: 'get_epoch' };

  let peer: Peer | undefined;
  const peerName = `${name}-c`;
  if (fs.existsSync(peerBinary)) {
    peer = Peer.create(peerName, SLOTS, MAX_VALUE);
    await peer.ready;
  }

  const rows: Array<Record<string, string | number>> = [];
  for (const [workload, fn] of Object.entries(workloads)) {
    const ours: number[] = [];
    const c: number[] = [];
    for (let r = 0; r < REPETITIONS; r++) {
      ours.push(timeIt(fn));
      if (peer) {
        const answer = await peer.send({ op: 'bench', workload: peerWorkload[workload], iterations: ITERATIONS, keys: KEYS, value_size: VALUE_SIZE });
        c.push(Number(answer['ns_per_op']));
      }
    }
    const oursNs = median(ours);
    const row: Record<string, string | number> = { workload: `${workload} 64 B`, 'ours ns/op': oursNs.toFixed(1) };
    if (peer) {
      const cNs = median(c);
      row['C peer ns/op'] = cNs.toFixed(1);
      row['ours/C'] = (oursNs / cNs).toFixed(2);
    }
    rows.push(row);
  }
  store.close();
  Store.unlink(name);
  if (peer) {
    await peer.close();
    Store.unlink(peerName);
  }
  console.log(`${SLOTS} slots × ${MAX_VALUE} B, ${KEYS} keys round-robin, ${ITERATIONS} ops per repetition, median of ${REPETITIONS}`);
  console.table(rows);
  console.log(JSON.stringify({ rows, sink: sink > 0 }));
}

await main();
