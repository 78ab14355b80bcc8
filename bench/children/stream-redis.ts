/**
 * Stream bench child, Redis Streams through ioredis over the unix socket of the bench's own
 * redis-server. Producer: XADD with an automatic id, pipelined `batch` at a time (flat out) or one
 * at a time (paced). Consumer: XREAD BLOCK with COUNT `batch` from the last id it saw.
 */
import { Redis } from 'ioredis';
import { Checker, MessageWriter, cpuMsSince, idleCpu, jobFromArgv, now, readyThenGo, settleHeap, report, sleepUntil, type Job } from './stream-common.js';

const job = jobFromArgv();
const redis = new Redis({ path: job.target, maxRetriesPerRequest: 0, retryStrategy: () => null });
const batch = job.batch ?? 1000;

async function produce(job: Job): Promise<void> {
  const writer = new MessageWriter(job.producer ?? 0);
  await readyThenGo(job);
  const start = now();
  const cpu = process.cpuUsage();
  if (job.mode === 'paced') {
    const interval = BigInt(Math.round(1e9 / job.rate!));
    for (let i = 0; i < job.count; i++) {
      await sleepUntil(start + BigInt(i) * interval);
      await redis.xadd(job.stream, '*', 'm', Buffer.from(writer.write(i, true)));
    }
  } else {
    for (let from = 0; from < job.count; from += batch) {
      const pipeline = redis.pipeline();
      // Each XADD gets its own copy: the pipeline keeps its arguments until exec sends them.
      for (let i = from; i < Math.min(job.count, from + batch); i++) pipeline.xadd(job.stream, '*', 'm', Buffer.from(writer.write(i, false)));
      const replies = await pipeline.exec();
      const failed = replies?.find(([error]) => error !== null);
      if (failed) throw failed[0]!;
    }
  }
  report({ sent: job.count, startNs: String(start), endNs: String(now()), cpuMs: cpuMsSince(cpu) });
}

async function consume(job: Job): Promise<void> {
  const checker = new Checker(job);
  let lastId: Buffer | string = '0-0';
  let stopped = false;
  const loop = (async () => {
    while (!stopped && !checker.done) {
      // BLOCK 1000: an idle consumer wakes once a second to see whether it should stop.
      const reply = (await redis.xreadBuffer('COUNT', batch, 'BLOCK', 1000, 'STREAMS', job.stream, lastId)) as [Buffer, [Buffer, Buffer[]][]][] | null;
      if (!reply) continue;
      for (const [, entries] of reply) {
        for (const [id, fields] of entries) {
          checker.message(fields[1]!);
          lastId = id;
        }
      }
    }
  })();
  settleHeap(job);
  report({ ready: true });
  if (job.mode === 'idle') {
    const cpuPercent = await idleCpu(job.idleSeconds!, () => (stopped = true), loop);
    report(checker.result({ cpuPercent }));
  } else {
    await loop;
    report(checker.result());
  }
}

try {
  await (job.role === 'produce' ? produce(job) : consume(job));
} finally {
  redis.disconnect();
}
