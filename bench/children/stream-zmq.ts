/**
 * Stream bench child, ZeroMQ PUSH/PULL (zeromq.js 6) over an ipc:// endpoint. The consumer binds
 * (it is up before any producer), each producer connects and awaits each send, the one send at a
 * time a socket allows; the high-water marks' flow control holds a producer that runs ahead.
 * zeromq.js copies a message under 128 bytes on send, so the producer may rewrite its one buffer.
 */
import { Pull, Push } from 'zeromq';
import { Checker, MessageWriter, cpuMsSince, idleCpu, jobFromArgv, now, readyThenGo, settleHeap, released, report, sleepUntil, type Job } from './stream-common.js';

const job = jobFromArgv();

async function produce(job: Job): Promise<void> {
  const push = new Push();
  push.connect(job.target);
  const writer = new MessageWriter(job.producer ?? 0);
  await readyThenGo(job);
  const start = now();
  const cpu = process.cpuUsage();
  if (job.mode === 'paced') {
    const interval = BigInt(Math.round(1e9 / job.rate!));
    for (let i = 0; i < job.count; i++) {
      await sleepUntil(start + BigInt(i) * interval);
      await push.send(writer.write(i, true));
    }
  } else {
    for (let i = 0; i < job.count; i++) await push.send(writer.write(i, false));
  }
  report({ sent: job.count, startNs: String(start), endNs: String(now()), cpuMs: cpuMsSince(cpu) });
  await released(); // sent is queued, not yet delivered: the process stays until its consumer has it all
  push.close();
}

async function consume(job: Job): Promise<void> {
  const pull = new Pull();
  await pull.bind(job.target);
  const checker = new Checker(job);
  let stopped = false;
  const loop = (async () => {
    while (!stopped && !checker.done) {
      const [message] = await pull.receive();
      checker.message(message!);
    }
  })();
  settleHeap(job);
  report({ ready: true });
  if (job.mode === 'idle') {
    // close() ends the pending receive with an error, the expected end of an idle run.
    const cpuPercent = await idleCpu(job.idleSeconds!, () => ((stopped = true), pull.close()), loop);
    report(checker.result({ cpuPercent }));
  } else {
    await loop;
    report(checker.result());
    pull.close();
  }
}

await (job.role === 'produce' ? produce(job) : consume(job));
