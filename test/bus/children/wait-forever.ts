/** Child process: opens a store, waits on a key (registering its doorbell FIFO), says "ready", and waits until killed. */
import { Store } from '../../../src/index.js';

const store = Store.open(process.argv[2]!);
const waiting = store.poll('never', { timeout: 600_000 });
process.stdout.write('ready\n');
await waiting;
