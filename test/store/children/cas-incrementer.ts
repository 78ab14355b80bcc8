/**
 * worker_thread: adds 1 to the key `counter` `rounds` times by compare-and-set on its epoch (a
 * decimal string, or with `u64` a BIGUINT); posts how many of its sets won and lost.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Store } from '../../../src/index.js';

const { buffer, name, rounds, gate, writers, u64 } = workerData as {
  buffer?: SharedArrayBuffer;
  name?: string;
  rounds: number;
  gate: SharedArrayBuffer;
  writers: number;
  u64?: boolean;
};
const store = name === undefined ? Store.attach(buffer!, { contentionBudgetMs: 2000 }) : Store.open(name, { contentionBudgetMs: 2000 });
// Every writer starts at once, so their sets overlap.
const arrived = new Int32Array(gate);
Atomics.add(arrived, 0, 1);
while (Atomics.load(arrived, 0) < writers) Atomics.wait(arrived, 0, Atomics.load(arrived, 0), 10);
const bytes = new Uint8Array(8);
let won = 0;
let lost = 0;
while (won < rounds) {
  const epoch = store.getEpoch('counter');
  let ok: boolean;
  if (u64 === true) {
    new DataView(bytes.buffer).setBigUint64(0, store.getBigUint('counter')! + 1n, true);
    // A wider window between the read and the set, so that C's increments (one per round trip to the peer) land in it.
    const until = performance.now() + 0.2;
    while (performance.now() < until);
    ok = store.set('counter', bytes, { ifEpoch: epoch });
  } else {
    ok = store.set('counter', String(Number(store.getString('counter')) + 1), { ifEpoch: epoch });
  }
  if (ok) won++;
  else lost++;
}
store.close();
parentPort!.postMessage({ won, lost });
