/** Child process: starts a poll, a watch and a signals iterator, closes the store, and must then exit by itself. */
import { Store } from '../../../src/index.js';

const store = Store.open(process.argv[2]!);
const polled = store.poll('k').catch((error: { code?: string }) => error.code);
const iterator = store.watch(['k', 'other']);
const pulled = iterator.next();
const counts = store.signals(3);
const counted = counts.next();
store.close();
const results = await Promise.all([polled, pulled, counted]);
process.stdout.write(`${JSON.stringify([results[0], results[1].done, results[2].done])}\n`);
// Nothing may keep the process alive from here: no timer, FIFO or wait.
