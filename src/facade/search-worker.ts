/** The worker thread of search-pool.ts: opens the store once, then scans the slot ranges it is sent. */
import { parentPort, workerData } from 'node:worker_threads';
import type { WireOptions } from '../store/search/index.js';
import { Store } from './store.js';
import type { WorkerSource } from './search-pool.js';

interface Job {
  vector: Float32Array;
  wire: WireOptions;
  from: number;
  to: number;
  words: SharedArrayBuffer;
}

const source = workerData as WorkerSource & { control: SharedArrayBuffer };
const control = new Int32Array(source.control);
const options = { trustShared: source.trustShared, contentionBudgetMs: source.budgetMs };
const store = source.buffer !== undefined ? Store.attach(source.buffer, options) : Store.open(source.target!, options);
Atomics.store(control, 0, 1);
parentPort!.on('message', (job: Job) => {
  try {
    store.searchPart(job.vector, job.wire, job.from, job.to, new Float64Array(job.words));
    Atomics.store(control, 1, 1);
  } catch {
    Atomics.store(control, 1, 2);
  }
  Atomics.notify(control, 1);
});
