/**
 * The bridge's propagation through Redis on loopback: host A → host B, each a store with its own
 * `splinter bridge` process, beside the same traffic through Redis pub/sub by hand (ioredis
 * publish/subscribe, no store). A redis-server of the run's own on a free loopback port.
 *
 * Latency: A's writer sets one of 16 keys (already bridged) with its send time, sleeping 2–6 ms
 * between events (each write starts cold, as a real producer's does); B's side watches them.
 * New keys: the same for keys A's bridge has never seen (found by its scan of the global epoch).
 * Throughput: bursts of 1,000 distinct keys with new values; keys per second until the last of
 * each burst is in B. `BENCH_EVENTS` (300) and `BENCH_BURSTS` (10) shorten a run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { Store } from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const cliMain = path.join(here, '..', 'src', 'cli', 'main.ts');
const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 300);
const BURSTS = Number(process.env['BENCH_BURSTS'] ?? 10);
const BURST_KEYS = 1_000;
const WARM_UP = 30;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const nowUs = (): number => performance.now() * 1_000;

function percentiles(samplesUs: number[]): { p50: string; p99: string; n: number } {
  const sorted = [...samplesUs].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: (at(0.5) / 1_000).toFixed(2), p99: (at(0.99) / 1_000).toFixed(2), n: sorted.length };
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** Checks after every event-loop turn that had I/O (a bus wake-up, a message), and every ms: no spinning that would steal a core. */
async function waitFor(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

/** Waits for B's key to hold `value`, woken by the store's bus (no polling loop). */
async function arrives(store: Store, key: string, value: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (store.getString(key) !== value) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${key}=${value}`);
    await store.poll(key, { timeout: 100 });
  }
}

const port = await freePort();
const url = `redis://127.0.0.1:${port}`;
const children: ChildProcess[] = [];
const redisServer = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
children.push(redisServer);
const names = [`splinter-bench-bridge-a-${process.pid}`, `splinter-bench-bridge-b-${process.pid}`];
const [a, b] = names.map((name) => Store.create(name, { slots: 4096, maxValueSize: 256 })) as [Store, Store];

function startBridge(store: Store): Promise<void> {
  const child = spawn(process.execPath, [...(process.env['BENCH_PROFILE'] ? ['--cpu-prof', '--cpu-prof-dir', process.env['BENCH_PROFILE']] : []), '--import', 'tsx', cliMain, 'bridge', '--use', store.target!, '--redis', url, '--prefix', 'bench:'], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`a bridge exited with ${code}`)));
  });
}

try {
  for (let i = 0; i < 100; i++) {
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => undefined);
    const up = await probe.connect().then(() => true, () => false);
    probe.disconnect();
    if (up) break;
    await sleep(50);
  }
  const hot = Array.from({ length: 16 }, (_, i) => `bench:hot${i}`);
  for (const key of hot) a.set(key, 'start');
  await startBridge(a);
  await startBridge(b);
  await waitFor('the first keys in B', () => hot.every((key) => b.has(key)));

  // ── Latency through the bridge ───────────────────────────────────────────
  const latency = async (keyOf: (i: number) => string): Promise<number[]> => {
    const samples: number[] = [];
    for (let i = 0; i < EVENTS + WARM_UP; i++) {
      const key = keyOf(i);
      const value = `${i}`;
      const sent = nowUs();
      a.set(key, value);
      await arrives(b, key, value);
      if (i >= WARM_UP) samples.push(nowUs() - sent);
      await sleep(2 + (i % 5));
    }
    return samples;
  };
  const known = percentiles(await latency((i) => hot[i % hot.length]!));
  const fresh = percentiles(await latency((i) => `bench:new${i}`));

  // ── Throughput through the bridge ────────────────────────────────────────
  let bridged = 0;
  let bridgedUs = 0;
  for (let burst = 0; burst < BURSTS; burst++) {
    const value = `burst ${burst}`;
    const from = nowUs();
    for (let k = 0; k < BURST_KEYS; k++) a.set(`bench:t${k}`, value);
    await waitFor(`burst ${burst}`, () => b.getString(`bench:t${BURST_KEYS - 1}`) === value && b.getString(`bench:t0`) === value, 30_000);
    for (let k = 0; k < BURST_KEYS; k++) if (b.getString(`bench:t${k}`) !== value) await waitFor(`key ${k}`, () => b.getString(`bench:t${k}`) === value);
    if (burst > 0) {
      bridged += BURST_KEYS; // the first burst creates the keys (found by the scan): not counted
      bridgedUs += nowUs() - from;
    }
  }

  // ── The same through pub/sub by hand ─────────────────────────────────────
  const publisher = new Redis(url);
  const subscriber = new Redis(url);
  await subscriber.subscribe('bench');
  let awaited: { value: string; resolve: () => void } | undefined;
  let receivedCount = 0;
  subscriber.on('messageBuffer', (_channel: Buffer, message: Buffer) => {
    const text = message.toString();
    const value = text.slice(text.indexOf(' ') + 1);
    receivedCount++;
    if (awaited?.value === value) awaited.resolve();
  });
  const pubsubSamples: number[] = [];
  for (let i = 0; i < EVENTS + WARM_UP; i++) {
    const value = `${i}`;
    const sent = nowUs();
    const arrived = new Promise<void>((resolve) => (awaited = { value, resolve }));
    void publisher.publish('bench', `${hot[i % hot.length]} ${value}`);
    await arrived;
    if (i >= WARM_UP) pubsubSamples.push(nowUs() - sent);
    await sleep(2 + (i % 5));
  }
  const pubsub = percentiles(pubsubSamples);
  receivedCount = 0;
  const pubsubFrom = nowUs();
  const messages = BURSTS * BURST_KEYS;
  for (let m = 0; m < messages; m++) void publisher.publish('bench', `bench:t${m % BURST_KEYS} value ${m}`);
  await waitFor('every message', () => receivedCount >= messages, 30_000);
  const pubsubRate = messages / ((nowUs() - pubsubFrom) / 1e6);
  publisher.disconnect();
  subscriber.disconnect();

  const rate = bridged / (bridgedUs / 1e6);
  console.log('what                                        p50 ms   p99 ms   n');
  console.log(`bridge, A → B, a known key                  ${known.p50.padStart(6)}   ${known.p99.padStart(6)}   ${known.n}`);
  console.log(`bridge, A → B, a new key                    ${fresh.p50.padStart(6)}   ${fresh.p99.padStart(6)}   ${fresh.n}`);
  console.log(`pub/sub by hand, publisher → subscriber     ${pubsub.p50.padStart(6)}   ${pubsub.p99.padStart(6)}   ${pubsub.n}`);
  console.log(`bridge, sustained: ${Math.round(rate).toLocaleString('en')} keys/s (${BURSTS - 1} bursts of ${BURST_KEYS} keys)`);
  console.log(`pub/sub by hand, sustained: ${Math.round(pubsubRate).toLocaleString('en')} messages/s (${messages} pipelined)`);
  console.log(JSON.stringify({ known, fresh, pubsub, bridgeKeysPerSecond: Math.round(rate), pubsubMessagesPerSecond: Math.round(pubsubRate) }));
} finally {
  for (const child of children.reverse()) child.kill('SIGTERM');
  await sleep(300);
  a.close();
  b.close();
  for (const name of names) Store.unlink(name);
}
