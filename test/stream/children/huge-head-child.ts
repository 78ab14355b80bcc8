/**
 * Child process (huge-head.test.ts): the head counter of a stream set to argv[2] (as hostile
 * store bytes could), then head() and one append with claimTimeout 100 ms. Prints what each did
 * as one JSON line.
 */
import { Store } from '../../../src/index.js';
import { headByte } from '../helpers.js';

function outcomeOf(run: () => bigint): string {
  try {
    return `seq ${run()}`;
  } catch (error) {
    return `threw ${(error as { code?: string }).code ?? String(error)}`;
  }
}

const store = Store.createShared({ slots: 64, maxValueSize: 64 });
const log = store.stream('log', { capacity: 4, claimTimeout: 100 });
Atomics.store(new BigUint64Array(store.buffer!), headByte(store, 'log') / 8, BigInt(process.argv[2]!));
const head = outcomeOf(() => log.head());
const append = outcomeOf(() => log.append('x'));
process.stdout.write(`${JSON.stringify({ head, append })}\n`);
store.close();
