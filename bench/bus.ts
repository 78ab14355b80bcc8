/**
 * Bus benchmarks, across processes, each beside the C peer's polling in the same run:
 * wake latency (p50/p99 over ≥ 200 events), ping-pong round trips, and the CPU used by a
 * process watching 100 idle keys. `BENCH_EVENTS` and `BENCH_IDLE_SECONDS` shorten a run.
 * Figures are of warmed-up processes (long-running ones run optimised code): the writer warms
 * up before stamping, and the first WARM_UP_EVENTS events or round trips are left out.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Store } from '../src/index.js';
import { Peer, peerBinary } from '../test/helpers/peer.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 300);
const IDLE_SECONDS = Number(process.env['BENCH_IDLE_SECONDS'] ?? 10);
const name = `splinter-bench-bus-${process.pid}`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const now = (): bigint => process.hrtime.bigint();

function child(script: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(here, 'children', script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}
const exited = (c: ChildProcess): Promise<void> => new Promise((resolve) => c.once('exit', () => resolve()));
const firstLine = async (c: ChildProcess): Promise<string> => {
  for await (const line of readline.createInterface({ input: c.stdout! })) return line;
  return '';
};

function percentiles(samplesUs: number[]): { p50: number; p99: number; n: number } {
  const sorted = [...samplesUs].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: Number(at(0.5).toFixed(1)), p99: Number(at(0.99).toFixed(1)), n: sorted.length };
}

/** Events at the start of each run left out of the figures while both sides' code warms up. */
const WARM_UP_EVENTS = 50;

/** Awaits a watch loop its signal ends: the iterator then rejects with an AbortError, the expected end. */
async function untilAborted(loop: Promise<void>): Promise<void> {
  try {
    await loop;
  } catch (error) {
    if (!(error instanceof Error && error.name === 'AbortError')) throw error;
  }
}

/** Our writer in a child process stamps the time; we record when our watch wakes. */
async function wakeOurs(store: Store, lowLatency: boolean): Promise<number[]> {
  const samples: number[] = [];
  const value = new Uint8Array(8);
  const view = new DataView(value.buffer);
  const writer = child('stamp-writer.ts', [name, 'stamp', String(EVENTS + WARM_UP_EVENTS)]);
  const done = exited(writer);
  const controller = new AbortController();
  void done.then(() => setTimeout(() => controller.abort(), 200));
  await untilAborted(
    (async () => {
      for await (const change of store.watch('stamp', { lowLatency, signal: controller.signal })) {
        void change;
        const woke = now();
        if (store.getInto('stamp', value) === 8) samples.push(Number(woke - view.getBigUint64(0, true)) / 1000);
        if (samples.length === EVENTS + WARM_UP_EVENTS) break;
      }
    })(),
  );
  await done;
  return samples.slice(WARM_UP_EVENTS);
}

/** The C peer writes (it cannot ring our doorbell): our fallback poll finds it. */
async function wakeFromC(store: Store, peer: Peer, lowLatency: boolean): Promise<number[]> {
  const samples: number[] = [];
  let stampedAt = 0n;
  const controller = new AbortController();
  const changes = store.watch('cstamp', { lowLatency, signal: controller.signal });
  const reader = (async () => {
    for await (const change of changes) {
      void change;
      samples.push(Number(now() - stampedAt) / 1000);
    }
  })();
  for (let i = 0; i < EVENTS; i++) {
    await sleep(2 + Math.random() * 4);
    stampedAt = now();
    await peer.send({ op: 'set', key: 'cstamp', value_hex: i.toString(16).padStart(16, '0') });
  }
  await sleep(50);
  controller.abort();
  await untilAborted(reader);
  return samples;
}

/** C's own poll (10 ms sleep steps) as the watcher: from our set to the peer's answer. */
async function wakeCPolling(store: Store, peer: Peer): Promise<number[]> {
  const samples: number[] = [];
  const count = Math.min(EVENTS, 200);
  store.set('cpoll', 'start');
  for (let i = 0; i < count; i++) {
    const answer = peer.send({ op: 'poll', key: 'cpoll', timeout_ms: 5000 });
    await sleep(2 + Math.random() * 8);
    const setAt = now();
    store.set('cpoll', `v${i}`);
    await answer;
    samples.push(Number(now() - setAt) / 1000);
  }
  return samples;
}

/** Round trips: we set ping, the responder copies it to pong, our watch of pong wakes. */
async function pingPong(store: Store, responder: 'ours' | 'lowLatency' | 'c', peer: Peer | undefined): Promise<number[]> {
  const count = (responder === 'c' ? Math.min(EVENTS, 100) : EVENTS) + WARM_UP_EVENTS;
  const samples: number[] = [];
  let done: Promise<unknown>;
  if (responder === 'c') {
    done = peer!.send({ op: 'pong', key: 'ping', pong_key: 'pong', count, timeout_ms: 10_000 });
    await sleep(50);
  } else {
    const c = child('responder.ts', [name, 'ping', 'pong', String(count), responder === 'lowLatency' ? 'lowLatency' : 'default']);
    await firstLine(c);
    done = exited(c);
    await sleep(50);
  }
  const pongs = store.watch('pong', { lowLatency: responder === 'lowLatency' || responder === 'c' });
  // A responder that stops early (it timed out, or crashed) ends the run with an error instead of a wait forever.
  const ended = done.then(() => 'ended' as const);
  try {
    for (let i = 0; i < count; i++) {
      const sent = now();
      store.set('ping', `ping ${i}`);
      for (;;) {
        const next = await Promise.race([pongs.next(), ended]);
        if (store.getString('pong') === `ping ${i}`) break;
        if (next === 'ended') throw new Error(`the ${responder} responder stopped after ${i} of ${count} round trips`);
      }
      samples.push(Number(now() - sent) / 1000);
    }
  } finally {
    await pongs.return!();
  }
  await done;
  return samples.slice(WARM_UP_EVENTS);
}

function cpuTicks(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (100 per second)
}

async function main(): Promise<void> {
  const store = Store.create(name, { slots: 1024, maxValueSize: 256 });
  for (let i = 0; i < 100; i++) store.set(`idle/${i}`, 'idle');
  const peer = fs.existsSync(peerBinary) ? Peer.open(name) : undefined;
  if (peer) await peer.ready;
  const rows: Array<Record<string, unknown>> = [];
  const row = (benchmark: string, who: string, stats: Record<string, unknown>): void => {
    rows.push({ benchmark, who, ...stats });
    console.log(JSON.stringify(rows.at(-1)));
  };
  try {
    row('wake latency µs', 'ours, default (our writer)', percentiles(await wakeOurs(store, false)));
    row('wake latency µs', 'ours, lowLatency (our writer)', percentiles(await wakeOurs(store, true)));
    if (peer) {
      row('wake latency µs', 'ours, default (C writer: fallback poll)', percentiles(await wakeFromC(store, peer, false)));
      row('wake latency µs', 'ours, lowLatency (C writer)', percentiles(await wakeFromC(store, peer, true)));
      row('wake latency µs', 'C poll (10 ms steps), our writer', percentiles(await wakeCPolling(store, peer)));
    }
    row('ping-pong RTT µs', 'ours ↔ ours, default', percentiles(await pingPong(store, 'ours', peer)));
    row('ping-pong RTT µs', 'ours ↔ ours, lowLatency', percentiles(await pingPong(store, 'lowLatency', peer)));
    if (peer) row('ping-pong RTT µs', 'ours (lowLatency) ↔ C poll', percentiles(await pingPong(store, 'c', peer)));

    for (const mode of ['default', 'lowLatency'] as const) {
      const watcher = child('idle-watcher.ts', [name, '100', String(IDLE_SECONDS), mode]);
      const result = JSON.parse(await firstLine(watcher)) as { cpuPercent: number; changes: number };
      await exited(watcher);
      row(`CPU, 100 idle keys for ${IDLE_SECONDS} s`, `ours, ${mode}`, { cpuPercentOfOneCore: Number(result.cpuPercent.toFixed(2)), changes: result.changes });
    }
    if (peer) {
      const before = cpuTicks(peer.pid);
      await peer.send({ op: 'poll', key: 'idle/0', timeout_ms: IDLE_SECONDS * 1000 });
      const ticks = cpuTicks(peer.pid) - before;
      row(`CPU, 1 idle key for ${IDLE_SECONDS} s`, 'C poll (10 ms steps)', { cpuPercentOfOneCore: Number(((ticks / 100 / IDLE_SECONDS) * 100).toFixed(2)) });
    }
  } finally {
    await peer?.close();
    store.close();
    Store.unlink(name);
  }
  console.table(rows);
}

await main();
