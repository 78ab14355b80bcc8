/** worker_thread: attaches to the parent's SharedArrayBuffer store, reads one key and writes another. */
import { parentPort, workerData } from 'node:worker_threads';
import { Store } from '../../../src/index.js';

const store = Store.attach((workerData as { buffer: SharedArrayBuffer }).buffer);
const seen = store.getString('from-main');
store.set('from-worker', `worker saw ${seen}`);
store.append('counter-log', 'w');
parentPort!.postMessage('done');
