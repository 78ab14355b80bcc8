/**
 * A low-latency subscription spins on a quiet stream without making garbage: a scavenge pauses the
 * spinning reader itself (a message that comes then waits it out). Spinning read the clock on every
 * look, and performance.now() allocates on Node 20 (an hrtime array), and the waiter iterated a Set
 * (an iterator per look): 9–25 scavenges per CPU second of spinning. Counted per CPU second of the
 * process, so that a loaded machine, which gives the spin less CPU, asks the same.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import t from 'tap';
import { Store } from '../../src/index.js';
import { shmName } from '../helpers/fixtures.js';

const SPIN_MS = 2000;
/** Scavenges per CPU second of spinning at most (it was 9–25, by how far the young generation had grown; now under 1). */
const MOST_PER_CPU_SECOND = 3;

t.test('a low-latency subscription spinning on a quiet stream makes next to no garbage', async (t) => {
  const store = Store.create(shmName(t, 'spin-garbage'), { slots: 1024, maxValueSize: 64 });
  t.teardown(() => store.close());
  const stream = store.stream('quiet', { capacity: 256 });
  let scavenges = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if ((entry as unknown as { detail?: { kind?: number } }).detail?.kind === 1) scavenges++;
  });
  const controller = new AbortController();
  const events = stream.subscribe({ from: 'latest', lowLatency: true, signal: controller.signal });
  const reading = (async () => {
    for await (const event of events) t.fail(`nothing is appended, received ${event.kind}`);
  })().catch((error: Error) => error.name);
  await new Promise((resolve) => setTimeout(resolve, 200)); // the spin is under way
  observer.observe({ entryTypes: ['gc'] });
  const cpu = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, SPIN_MS));
  const used = process.cpuUsage(cpu);
  for (const entry of observer.takeRecords()) if ((entry as unknown as { detail?: { kind?: number } }).detail?.kind === 1) scavenges++;
  observer.disconnect();
  controller.abort();
  t.equal(await reading, 'AbortError', 'the subscription ends on the abort');
  const cpuSeconds = (used.user + used.system) / 1e6;
  // The spin must have run for the count to say anything (it takes a core; a loaded machine still gives it a share).
  t.ok(cpuSeconds >= 0.2, `the spin used ${cpuSeconds.toFixed(2)} s of CPU over ${SPIN_MS} ms`);
  const perCpuSecond = scavenges / cpuSeconds;
  t.ok(perCpuSecond <= MOST_PER_CPU_SECOND, `${scavenges} scavenges in ${cpuSeconds.toFixed(2)} CPU s of spinning (${perCpuSecond.toFixed(1)} per CPU s), expected at most ${MOST_PER_CPU_SECOND}`);
});
