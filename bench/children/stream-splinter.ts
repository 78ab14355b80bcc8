/**
 * Stream bench child, a splinter stream in a store the parent created: the producer appends (sync,
 * flat out or paced), the consumer subscribes from the earliest seq and iterates its events.
 */
import { Store, type StreamEvent } from '../../src/index.js';
import { Trace } from './stream-trace.js';
import { ACK_EVERY, Checker, HOLD_CONSUMER, MessageWriter, cpuMsSince, idleCpu, jobFromArgv, now, readyThenGo, settleHeap, report, sleepUntil, type Job } from './stream-common.js';

const job = jobFromArgv();
const store = Store.open(job.target);
const stream = store.stream(job.stream, { capacity: job.capacity!, ...(job.hold === true && job.role === 'produce' ? { hold: [HOLD_CONSUMER] } : {}) });
// A process finds each cell's key in the store the first time it uses the cell (a hash and a
// probe), then remembers where it is. A long-running process has found them all; this one does it
// now, before the clock starts, unless BENCH_STREAM_LOCATE=0 asks for a cold first lap.
if (process.env['BENCH_STREAM_LOCATE'] !== '0' && job.mode !== 'idle') for (let seq = 1; seq <= stream.capacity; seq++) stream.read(seq);

async function produce(job: Job): Promise<void> {
  const writer = new MessageWriter(job.producer ?? 0);
  await readyThenGo(job);
  const start = now();
  const cpu = process.cpuUsage();
  const sendUs: number[] = [];
  const trace = job.trace === true ? new Trace() : undefined;
  if (job.mode === 'paced') {
    const interval = BigInt(Math.round(1e9 / job.rate!));
    for (let i = 0; i < job.count; i++) {
      await sleepUntil(start + BigInt(i) * interval);
      const message = writer.write(i, true);
      const sent = now();
      stream.append(message);
      if (i >= (job.warmUp ?? 0)) {
        sendUs.push(Number(now() - sent) / 1000);
        trace?.mark(i);
      }
    }
  } else if (job.hold === true) {
    // Held by the consumer: append what room() allows (the acks are read once per chunk), then wait for an ack.
    for (let i = 0; i < job.count; ) {
      const room = stream.room();
      if (room === 0) {
        await stream.whenRoom({ timeout: 60_000 });
        continue;
      }
      const end = Math.min(job.count, i + room);
      for (; i < end; i++) stream.append(writer.write(i, false));
    }
  } else {
    for (let i = 0; i < job.count; i++) stream.append(writer.write(i, false));
  }
  report({ sent: job.count, startNs: String(start), endNs: String(now()), cpuMs: cpuMsSince(cpu), ...(job.mode === 'paced' ? { sendUs } : {}), ...(trace === undefined ? {} : { trace: trace.finish() }) });
}

async function consume(job: Job): Promise<void> {
  const checker = new Checker(job);
  const controller = new AbortController();
  const durable = job.hold === true ? stream.consumer(HOLD_CONSUMER) : undefined;
  const trace = job.trace === true ? new Trace() : undefined;
  const warmUp = job.warmUp ?? 0;
  const options = { signal: controller.signal, lowLatency: job.lowLatency ?? false };
  const events = durable === undefined ? stream.subscribe({ from: 'earliest', ...options }) : durable.subscribe(options);
  const loop = (async () => {
    if (checker.done) return;
    let sinceAck = 0;
    const take = (event: StreamEvent): void => {
      if (durable !== undefined && ++sinceAck >= ACK_EVERY && event.kind !== 'gap') {
        durable.ack(event.seq);
        sinceAck = 0;
      }
      if (event.kind === 'message') {
        checker.message(event.value as Uint8Array, event.seq);
        if (trace !== undefined && Number(event.seq) > warmUp) trace.mark(Number(event.seq) - 1);
      }
      else if (event.kind === 'gap') checker.gap(event.from, event.to);
      else checker.malformed(event.seq, event.reason);
    };
    if (job.batches !== undefined) {
      for await (const batch of events.batches(job.batches)) {
        for (const event of batch) take(event);
        const last = batch[batch.length - 1];
        if (durable !== undefined && last !== undefined && last.kind !== 'gap') durable.ack(last.seq);
        if (checker.done) break;
      }
    } else {
      for await (const event of events) {
        take(event);
        if (checker.done) break;
      }
    }
  })();
  settleHeap(job);
  report({ ready: true });
  if (job.mode === 'idle') {
    // The signal ends the subscription: its iterator rejects with an AbortError, the expected end.
    const cpuPercent = await idleCpu(job.idleSeconds!, () => controller.abort(), loop);
    report(checker.result({ cpuPercent }));
  } else {
    await loop;
    report(checker.result(trace === undefined ? {} : { trace: trace.finish() }));
  }
}

try {
  await (job.role === 'produce' ? produce(job) : consume(job));
} finally {
  store.close();
}
