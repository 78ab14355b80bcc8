/**
 * Child process: durable consumer argv[4] of stream argv[3] (store argv[2]). Prints each message
 * as a JSON line { seq, value, acked }, acknowledging it first when its seq ≤ argv[5]. After
 * argv[6] messages it prints "holding" and waits for good when argv[7] is "hang" (the test kills
 * it), else it exits.
 */
import { Store } from '../../../src/index.js';

const [target, name, id, ackUpTo, stopAfter, mode] = process.argv.slice(2) as [string, string, string, string, string, string];
const store = Store.open(target);
const consumer = store.stream(name).consumer(id);
let count = 0;
for await (const event of consumer.subscribe()) {
  if (event.kind !== 'message') {
    process.stdout.write(`${JSON.stringify({ unexpected: event.kind, seq: String(event.kind === 'gap' ? event.from : event.seq) })}\n`);
    continue;
  }
  const acked = event.seq <= BigInt(ackUpTo);
  if (acked) consumer.ack(event.seq);
  process.stdout.write(`${JSON.stringify({ seq: String(event.seq), value: event.value, acked })}\n`);
  if (++count === Number(stopAfter)) break;
}
process.stdout.write('holding\n');
if (mode === 'hang') await new Promise(() => setInterval(() => undefined, 60_000));
store.close();
