/**
 * Child process: one of two creators racing. For round r = 0..argv[3]−1 it meets the other at
 * the BIGUINT key "barrier", then opens stream "race<r>" with capacity argv[4] (creating it,
 * unless the other did first) and appends the text argv[5]: at once (argv[6] "racing"), or once
 * both have opened it (argv[6] "after", a second meeting). Prints { errors } (what threw).
 */
import { IntOp, Store } from '../../../src/index.js';

const [target, rounds, capacity, who, mode] = process.argv.slice(2) as [string, string, string, string, string];
// A generous contention budget: the other creator may be descheduled holding a slot's lock on a loaded machine.
const store = Store.open(target, { contentionBudgetMs: 5000 });
let meetings = 0;

/** Each adds 1 to "barrier"; both go on once it reaches 2 × the meetings so far. */
function meet(): void {
  store.integerOp('barrier', IntOp.INC, 1n);
  const goal = BigInt(2 * ++meetings);
  const until = performance.now() + 60_000;
  while (store.getBigUint('barrier')! < goal) {
    if (performance.now() > until) throw new Error(`meeting ${meetings}: the other creator never came`);
  }
}

const errors: string[] = [];
for (let r = 0; r < Number(rounds); r++) {
  meet();
  try {
    const stream = store.stream(`race${r}`, { capacity: Number(capacity) });
    if (mode === 'after') meet();
    stream.append(who);
  } catch (error) {
    errors.push(`round ${r}: ${String(error)}`);
  }
}
process.stdout.write(`${JSON.stringify({ errors })}\n`);
store.close();
