/**
 * A durable stream consumer for the torture test: reads from its acknowledged seq + 1, checks
 * every message on its own (torture encoding, test/peer/README.md "Torture"), and logs what it saw,
 * one flushed line per batch, BEFORE acknowledging the batch (so an acknowledged seq is always in
 * the log; a kill between the two only brings the batch again). The parent checks the logs.
 *
 * Lines: {"start":ACK,"pid":…} once, then per batch {"f":FIRST,"t":LAST,"p":[payload per message
 * in seq order, -1 for one that failed its check],"g":[[from,to,reason,head after the event]…],
 * "b":[what was wrong…]}; a batch is 100 messages, or what came before a 50 ms pause.
 *
 *   node --import tsx torture-consumer.ts STORE STREAM CAPACITY CLAIM_TIMEOUT_MS CONSUMER_ID LOG
 */
import fs from 'node:fs';
import { Store, type StreamEvent } from '../../../src/index.js';
import { newTortureCheck, verifyTorture } from '../../helpers/torture-value.js';

const [storeName, streamName, capacity, claimTimeout, consumerId, logPath] = process.argv.slice(2);
const BATCH = 100;
const IDLE_MS = 50;

const store = Store.open(storeName!);
const stream = store.stream(streamName!, { capacity: Number(capacity), claimTimeout: Number(claimTimeout) });
const consumer = stream.consumer(consumerId!);
const maxValueSize = store.maxValueSize;
const log = fs.openSync(logPath!, 'a');
const check = newTortureCheck();

const start = Number(consumer.acknowledged());
fs.writeSync(log, `${JSON.stringify({ start, pid: process.pid })}\n`);
process.stdout.write('ready\n'); // the parent kills only processes that are up

/** The seq the next event must start at: events come in seq order, none skipped. */
let expected = start + 1;
let batch = { f: expected, t: start, p: [] as number[], g: [] as unknown[][], b: [] as unknown[] };

function flush(): void {
  if (batch.t < batch.f) return;
  fs.writeSync(log, `${JSON.stringify(batch)}\n`);
  consumer.ack(batch.t);
  batch = { f: batch.t + 1, t: batch.t, p: [], g: [], b: [] };
}

function take(event: StreamEvent): void {
  const first = Number(event.kind === 'gap' ? event.from : event.seq);
  if (first !== expected) batch.b.push({ jump: [expected, first] });
  if (event.kind === 'gap') {
    batch.g.push([first, Number(event.to), event.reason, Number(stream.head())]);
    expected = Number(event.to) + 1;
  } else if (event.kind === 'malformed') {
    batch.b.push({ seq: first, malformed: event.reason, slotType: event.slotType });
    batch.p.push(-1);
    expected = first + 1;
  } else {
    const value = event.value;
    if (event.type !== 'bytes' || !(value instanceof Uint8Array)) {
      batch.b.push({ seq: first, type: event.type });
      batch.p.push(-1);
    } else if (!verifyTorture(value, value.length, maxValueSize, check)) {
      batch.b.push({ seq: first, verdict: check.verdict, length: value.length });
      batch.p.push(-1);
    } else {
      batch.p.push(check.seq);
    }
    expected = first + 1;
  }
  batch.t = expected - 1;
}

process.on('SIGTERM', () => {
  flush();
  store.close();
  process.exit(0);
});

// Caught up, or waiting on a claim: what came is logged and acknowledged after a short pause.
let lastEvent = performance.now();
setInterval(() => {
  if (performance.now() - lastEvent >= IDLE_MS) flush();
}, IDLE_MS);

for await (const event of consumer.subscribe()) {
  lastEvent = performance.now();
  take(event);
  if (batch.p.length + batch.g.length >= BATCH) flush();
}
flush();
