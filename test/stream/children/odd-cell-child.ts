/**
 * Child process (odd-cell.test.ts): store argv[2], whose cell "log#<argv[3]>" a dead
 * writer left held odd (the test's C peer did hold_odd), stream "log" of capacity 4 with head
 * argv[4] − 1: one append with claimTimeout 200 ms (it claims seq argv[4]). Prints what it did.
 */
import { Store } from '../../../src/index.js';

const store = Store.open(process.argv[2]!);
const log = store.stream('log', { claimTimeout: 200 });
const started = performance.now();
let outcome: string;
try {
  outcome = `seq ${log.append('x')}`;
} catch (error) {
  outcome = `threw ${(error as { code?: string }).code ?? String(error)}`;
}
process.stdout.write(`${JSON.stringify({ outcome, ms: Math.round(performance.now() - started) })}\n`);
store.close();
