/**
 * Stream bench child, a splinter stream in a store the parent created: the producer appends (sync,
 * flat out or paced), the consumer subscribes from the earliest seq and iterates its events.
 */
import { Store, type StreamEvent } from '../../src/index.js';
import { Checker, MessageWriter, cpuMsSince, idleCpu, jobFromArgv, now, readyThenGo, report, sleepUntil, type Job } from './stream-common.js';

const job = jobFromArgv();
const store = Store.open(job.target);
const stream = store.stream(job.stream, { capacity: job.capacity! });
// A process finds each cell's key in the store the first time it uses the cell (a hash and a
// probe), then remembers where it is. A long-running process has found them all; this one does it
// now, before the clock starts, unless BENCH_STREAM_LOCATE=0 asks for a cold first lap.
if (process.env['BENCH_STREAM_LOCATE'] !== '0' && job.mode !== 'idle') for (let seq = 1; seq <= stream.capacity; seq++) stream.read(seq);

async function produce(job: Job): Promise<void> {
  const writer = new MessageWriter(job.producer ?? 0);
  await readyThenGo();
  const start = now();
  const cpu = process.cpuUsage();
  const sendUs: number[] = [];
  if (job.mode === 'paced') {
    const interval = BigInt(Math.round(1e9 / job.rate!));
    for (let i = 0; i < job.count; i++) {
      await sleepUntil(start + BigInt(i) * interval);
      const message = writer.write(i, true);
      const sent = now();
      stream.append(message);
      if (i >= (job.warmUp ?? 0)) sendUs.push(Number(now() - sent) / 1000);
    }
  } else {
    for (let i = 0; i < job.count; i++) stream.append(writer.write(i, false));
  }
  report({ sent: job.count, startNs: String(start), endNs: String(now()), cpuMs: cpuMsSince(cpu), ...(job.mode === 'paced' ? { sendUs } : {}) });
}

async function consume(job: Job): Promise<void> {
  const checker = new Checker(job);
  const controller = new AbortController();
  const events = stream.subscribe({ from: 'earliest', signal: controller.signal, lowLatency: job.lowLatency ?? false });
  const loop = (async () => {
    if (checker.done) return;
    const take = (event: StreamEvent): void => {
      if (event.kind === 'message') checker.message(event.value as Uint8Array, event.seq);
      else if (event.kind === 'gap') checker.gap(event.from, event.to);
      else checker.malformed(event.seq, event.reason);
    };
    if (job.batches !== undefined) {
      for await (const batch of events.batches(job.batches)) {
        for (const event of batch) take(event);
        if (checker.done) break;
      }
    } else {
      for await (const event of events) {
        take(event);
        if (checker.done) break;
      }
    }
  })();
  report({ ready: true });
  if (job.mode === 'idle') {
    // The signal ends the subscription: its iterator rejects with an AbortError, the expected end.
    const cpuPercent = await idleCpu(job.idleSeconds!, () => controller.abort(), loop);
    report(checker.result({ cpuPercent }));
  } else {
    await loop;
    report(checker.result());
  }
}

try {
  await (job.role === 'produce' ? produce(job) : consume(job));
} finally {
  store.close();
}
