/** worker_thread: attaches to a shared store, waits for its siblings at a barrier, then claims `count` ids from `first`. */
import { parentPort, workerData } from 'node:worker_threads';
import { Intent, Store } from '../../../src/index.js';

const { buffer, barrier, first, count } = workerData as { buffer: SharedArrayBuffer; barrier: SharedArrayBuffer; first: number; count: number };
const store = Store.attach(buffer);
const arrived = new Int32Array(barrier);
const total = Atomics.load(arrived, 1);
// Sleep (not spin) until every sibling is here, so the claims race without starving slower starters.
if (Atomics.add(arrived, 0, 1) + 1 === total) Atomics.notify(arrived, 0);
for (let seen = Atomics.load(arrived, 0); seen < total; seen = Atomics.load(arrived, 0)) Atomics.wait(arrived, 0, seen, 1000);
for (let id = first; id < first + count; id++) store.shards.claim({ id, intent: Intent.RANDOM, priority: 1, duration: 1n << 60n });
parentPort!.postMessage('done');
