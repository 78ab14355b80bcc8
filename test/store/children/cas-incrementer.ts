/** worker_thread: adds 1 to the counter `rounds` times by compare-and-set on its epoch; posts how many of its sets won and lost. */
import { parentPort, workerData } from 'node:worker_threads';
import { Store } from '../../../src/index.js';

const { buffer, rounds, gate, writers } = workerData as { buffer: SharedArrayBuffer; rounds: number; gate: SharedArrayBuffer; writers: number };
const store = Store.attach(buffer, { contentionBudgetMs: 2000 });
// Every writer starts at once, so their sets overlap.
const arrived = new Int32Array(gate);
Atomics.add(arrived, 0, 1);
while (Atomics.load(arrived, 0) < writers) Atomics.wait(arrived, 0, Atomics.load(arrived, 0), 10);
let won = 0;
let lost = 0;
while (won < rounds) {
  const epoch = store.getEpoch('counter');
  const value = Number(store.getString('counter'));
  if (store.set('counter', String(value + 1), { ifEpoch: epoch })) won++;
  else lost++;
}
parentPort!.postMessage({ won, lost });
