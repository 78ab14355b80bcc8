/**
 * Child process (cell-removed.test.ts): a subscription waits; a cell of the stream is
 * removed (as another process dropping the stream would); a write then wakes the waiter. Prints
 * how the pending next() ended as one JSON line.
 */
import { Store } from '../../../src/index.js';

const store = process.argv[2] === 'shm' ? Store.create(process.argv[3]!, { slots: 64, maxValueSize: 64 }) : Store.createShared({ slots: 64, maxValueSize: 64 });
const log = store.stream('log', { capacity: 4 });
log.append('one');
const pending = log.subscribe({ from: 'latest' }).next();
await new Promise((resolve) => setTimeout(resolve, 100));
store.unset('log#2');
store.set('other', 'a write: the waiter looks at its subscriptions');
const ended = await Promise.race([
  pending.then(
    () => 'resolved',
    (error: { code?: string }) => `rejected ${error.code}`,
  ),
  new Promise((resolve) => setTimeout(resolve, 3000, 'still pending')),
]);
process.stdout.write(`${JSON.stringify({ ended })}\n`);
store.close();
if (process.argv[2] === 'shm') Store.unlink(process.argv[3]!);
