/**
 * Child process: subscribes to stream argv[3] (store argv[2]) from seq 1, says "ready", reads
 * argv[4] seqs (argv[5] producers of argv[6] payloads each), and prints what it saw as one JSON
 * line: messages, seqs out of order, gaps, malformed, payloads seen twice or never, payloads of
 * one producer out of its order, bytes no producer wrote.
 */
import { Store } from '../../../src/index.js';
import { decodePayload } from './payload.js';

const [target, name, totalText, producersText, perText] = process.argv.slice(2) as [string, string, string, string, string];
const total = Number(totalText);
const producers = Number(producersText);
const per = Number(perText);
const store = Store.open(target);
const stream = store.stream(name, { claimTimeout: 120_000 });
const events = stream.subscribe({ from: 1 });
process.stdout.write('ready\n');
const seen = new Uint8Array(producers * per);
const lastOf = new Array<number>(producers).fill(-1);
const report = { messages: 0, outOfOrder: 0, gaps: [] as string[], malformed: 0, foreign: 0, twice: 0, never: 0, producerOrder: 0, lastSeq: '0' };
let expected = 1n;
while (expected <= BigInt(total)) {
  const next = await events.next();
  if (next.done === true) break;
  const event = next.value;
  if (event.kind === 'gap') {
    report.gaps.push(`${event.from}-${event.to} ${event.reason}`);
    expected = event.to + 1n;
    continue;
  }
  if (event.seq !== expected) report.outOfOrder++;
  expected = event.seq + 1n;
  report.lastSeq = String(event.seq);
  if (event.kind === 'malformed') {
    report.malformed++;
    continue;
  }
  report.messages++;
  const decoded = event.value instanceof Uint8Array ? decodePayload(event.value, store.maxValueSize) : undefined;
  if (decoded === undefined || decoded.producer >= producers || decoded.i >= per) {
    report.foreign++;
    continue;
  }
  const index = decoded.producer * per + decoded.i;
  if (seen[index] !== 0) report.twice++;
  seen[index] = 1;
  if (decoded.i <= lastOf[decoded.producer]!) report.producerOrder++;
  lastOf[decoded.producer] = decoded.i;
}
report.never = seen.reduce((n, b) => n + (b === 0 ? 1 : 0), 0);
process.stdout.write(`${JSON.stringify(report)}\n`);
await events.return!();
store.close();
