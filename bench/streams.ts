/**
 * Streams against Redis Streams and ZeroMQ PUSH/PULL, each side in its own processes
 * (bench/children/stream-*.ts), 64-byte messages:
 *
 * 0. What append and a subscription's read cost in one process (thread CPU per message): the
 *    floor under the two-process figures.
 * 1. Throughput, one producer → one consumer: sustained (the consumer's first to last message) and
 *    total (the producer's start to the consumer's last), every message checked in order, counted and
 *    checksummed. Splinter: a stream in a store of its own, read event by event and (rows
 *    "batches") through `subscribe().batches(1000)`; rows "with backpressure": a ring whose
 *    producer is held by its durable consumer (`hold`), nothing lost; the same convention between two C peer
 *    processes; Redis: XADD pipelined, XREAD BLOCK with COUNT, against a redis-server the bench
 *    starts on a unix socket in a temp folder; ZeroMQ: PUSH → PULL over ipc://.
 * 2. One-way latency at BENCH_STREAM_RATE (1,000) messages/s: each message carries its send time
 *    (process.hrtime: CLOCK_MONOTONIC, shared by every process); p50/p99/max after a warm-up, and
 *    for the stream the p50 of the producer's append call alone (its part of the latency).
 * 3. Four producers and four consumers on one splinter stream: every consumer gets every message
 *    once and all in one order (equal checksums over seq → payload).
 * 4. Idle: a consumer subscribed to a quiet stream, its CPU over BENCH_STREAM_IDLE_SECONDS (5).
 *
 * `npx tsx bench/streams.ts`. Needs `redis-server` on PATH (its rows are left out, saying so,
 * without). BENCH_STREAM_MESSAGES (1,000,000), BENCH_STREAM_PEER_MESSAGES (Redis and ZeroMQ:
 * 200,000, their rates hold steady over it), BENCH_STREAM_MANY_MESSAGES (400,000, all four
 * producers together: eight processes share the cores), BENCH_STREAM_PACED (3,000), BENCH_STREAM_CAPACITY (65,536),
 * BENCH_ONLY=one,throughput,latency,many,idle picks sections, BENCH_STREAM_WHO=splinter,redis,zmq the
 * sides, BENCH_PROFILE=DIR writes a CPU profile of each child there,
 * BENCH_STREAM_TRACE=1 explains each latency over 1 ms (run-queue wait, CPU, GC pauses; stream-trace.ts),
 * BENCH_STREAM_CHILD_FLAGS='--flag …' runs every child with node flags (a probe, not the figures),
 * BENCH_STREAM_AWAKE=1 adds a default row with a nice-19 busy loop per CPU (what waking a halted vCPU costs). The last line is JSON.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { Store } from '../src/index.js';
import { threadCpuNs } from './thread-cpu.js';
import { Peer, peerBinary } from '../test/helpers/peer.js';
import { MESSAGE_BYTES, MessageWriter, expectedChecksum, type ConsumerResult, type Job, type ProducerResult } from './children/stream-common.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const MESSAGES = Number(process.env['BENCH_STREAM_MESSAGES'] ?? 1_000_000);
const PEER_MESSAGES = Number(process.env['BENCH_STREAM_PEER_MESSAGES'] ?? 200_000);
const MANY_MESSAGES = Number(process.env['BENCH_STREAM_MANY_MESSAGES'] ?? 400_000);
const PACED = Number(process.env['BENCH_STREAM_PACED'] ?? 3_000);
const RATE = Number(process.env['BENCH_STREAM_RATE'] ?? 1_000);
const WARM_UP = Math.min(300, Math.floor(PACED / 10));
const CAPACITY = Number(process.env['BENCH_STREAM_CAPACITY'] ?? 65_536);
const IDLE_SECONDS = Number(process.env['BENCH_STREAM_IDLE_SECONDS'] ?? 5);
/** BENCH_STREAM_TRACE=1: the latency section's splinter children record a trace, and each message over 1 ms is explained. */
const TRACE = process.env['BENCH_STREAM_TRACE'] === '1';
const traces: string[][] = [];
/** BENCH_STREAM_CHILD_FLAGS: node flags for every child (e.g. --single-threaded-gc), to try a flag; such a run is a probe, never the figure. */
const CHILD_FLAGS = (process.env['BENCH_STREAM_CHILD_FLAGS'] ?? '').split(' ').filter((flag) => flag !== '');
/** BENCH_STREAM_AWAKE=1: the latency section adds the default row with every CPU kept awake (keepCpusAwake). */
const AWAKE = process.env['BENCH_STREAM_AWAKE'] === '1';
const SECTIONS = new Set((process.env['BENCH_ONLY'] ?? 'one,throughput,latency,many,idle').split(','));
const REDIS_BATCH = 1_000;
const MANY = 4;

type Kind = 'splinter' | 'redis' | 'zmq';
const childFile: Record<Kind, string> = { splinter: 'stream-splinter.ts', redis: 'stream-redis.ts', zmq: 'stream-zmq.ts' };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'splinter-bench-streams-'));
const redisSocket = path.join(temp, 'redis.sock');
const spawned: ChildProcess[] = [];
const stores: string[] = [];
let runs = 0;

/** One child and its JSON lines, in order. */
class Child {
  readonly process: ChildProcess;
  private readonly lines: AsyncIterator<string>;
  readonly exited: Promise<number | null>;
  constructor(kind: Kind, job: Job) {
    const profile = process.env['BENCH_PROFILE'] ? ['--cpu-prof', '--cpu-prof-dir', process.env['BENCH_PROFILE']] : [];
    this.process = spawn(process.execPath, [...profile, ...CHILD_FLAGS, '--import', 'tsx', path.join(here, 'children', childFile[kind]), JSON.stringify(job)], { stdio: ['pipe', 'pipe', 'inherit'] });
    spawned.push(this.process);
    this.lines = readline.createInterface({ input: this.process.stdout! })[Symbol.asyncIterator]();
    this.exited = new Promise((resolve) => this.process.once('exit', (code) => resolve(code)));
  }
  async next<T>(what: string): Promise<T> {
    const line = await Promise.race([this.lines.next(), this.exited.then((code) => ({ done: true as const, value: `exit ${code}` }))]);
    if (line.done) throw new Error(`a ${what} child ended before it reported (exit code ${await this.exited})`);
    return JSON.parse(line.value) as T;
  }
}

interface Run {
  consumers: ConsumerResult[];
  producers: ProducerResult[];
}

/** Consumers first (each subscribed), then producers (each connected), then go; their reports. */
async function run(kind: Kind, consumers: Job[], producers: Job[]): Promise<Run> {
  const consumerChildren = consumers.map((job) => new Child(kind, job));
  for (const c of consumerChildren) await c.next('consumer');
  const producerChildren = producers.map((job) => new Child(kind, job));
  for (const p of producerChildren) await p.next('producer');
  await sleep(200); // let the consumers' first waits arm
  for (const p of producerChildren) p.process.stdin!.write('go\n');
  const producerResults = await Promise.all(producerChildren.map((p) => p.next<ProducerResult>('producer')));
  const consumerResults = await Promise.all(consumerChildren.map((c) => c.next<ConsumerResult>('consumer')));
  for (const c of [...producerChildren, ...consumerChildren]) {
    c.process.stdin!.end();
    await c.exited;
  }
  return { consumers: consumerResults, producers: producerResults };
}

/** Where a run of `kind` goes: a fresh store with its stream, a fresh Redis key, a fresh ipc endpoint. */
function targetFor(kind: Kind, capacity: number): { target: string; stream: string } {
  const n = ++runs;
  if (kind === 'redis') return { target: redisSocket, stream: `bench-${n}` };
  if (kind === 'zmq') return { target: `ipc://${path.join(temp, `zmq-${n}.sock`)}`, stream: 'bench' };
  const name = `splinter-bench-streams-${process.pid}-${n}`;
  // The stream's capacity + 1 keys in a table at most about half full.
  const slots = 2 ** Math.ceil(Math.log2(2 * (capacity + 1) + 64));
  const store = Store.create(name, { slots, maxValueSize: MESSAGE_BYTES });
  stores.push(name);
  store.stream('bench', { capacity });
  store.close();
  return { target: name, stream: 'bench' };
}

async function dropTarget(kind: Kind, where: { target: string; stream: string }): Promise<void> {
  if (kind === 'redis') {
    const redis = new Redis({ path: redisSocket });
    await redis.del(where.stream); // a million entries hold about 100 MB of Redis's memory
    redis.disconnect();
  }
  if (kind !== 'splinter') return;
  Store.unlink(where.target);
  stores.splice(stores.indexOf(where.target), 1);
}

const rate = (count: number, fromNs: bigint, toNs: bigint): number => count / (Number(toNs - fromNs) / 1e9);
const fmt = (n: number): string => Math.round(n).toLocaleString('en');
/** A process's CPU time per message, ns (ZeroMQ's counts its I/O thread, Redis's leaves out redis-server). */
const cpuNsPer = (cpuMs: number, messages: number): string => fmt((cpuMs * 1e6) / Math.max(1, messages));

/** What is wrong with a consumer's report, or '' when it got every message once, in order, unaltered. */
function verdict(result: ConsumerResult, count: number, checksum: number | undefined): string {
  const wrong: string[] = [];
  if (result.count !== count) wrong.push(`${fmt(result.count)} of ${fmt(count)} messages`);
  if (result.lost > 0) wrong.push(`${fmt(result.lost)} lost in ${result.gaps} gaps`);
  if (!result.inOrder) wrong.push(result.problem ?? 'out of order');
  if (checksum !== undefined && result.checksum !== checksum) wrong.push(`checksum ${result.checksum.toString(16)}, expected ${checksum.toString(16)}`);
  return wrong.join('; ');
}

function percentiles(samples: number[]): { p50: number; p99: number; max: number; n: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? NaN, n: sorted.length };
}

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  console.log();
}

async function startRedis(): Promise<boolean> {
  if (spawnSync('redis-server', ['--version']).status !== 0) return false;
  const server = spawn('redis-server', ['--port', '0', '--unixsocket', redisSocket, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', temp], { stdio: 'ignore' });
  spawned.push(server);
  for (let i = 0; i < 200; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect(redisSocket, () => (socket.end(), resolve(true)));
      socket.on('error', () => resolve(false));
    });
    if (up) return true;
    await sleep(25);
  }
  throw new Error('redis-server did not open its socket within 5 s');
}

const summary: Record<string, unknown> = { loadAverageAtStart: os.loadavg().map((l) => Number(l.toFixed(2))) };
const failures: string[] = [];

/**
 * What the stream's own calls cost, away from the scheduler: one process appends a ring's worth
 * of messages, then reads them back through a subscription (nothing else in the loop); CPU time
 * of the thread per message, median of 5 rounds after one unrecorded. The floor under what two
 * processes reach: each side's work, without the cores' traffic between them.
 */
async function inOneProcess(): Promise<void> {
  const where = targetFor('splinter', CAPACITY);
  const store = Store.open(where.target);
  const appendNs: number[] = [];
  const subscribeNs: number[] = [];
  const batchesNs: number[] = [];
  try {
    const stream = store.stream(where.stream);
    for (let seq = 1; seq <= stream.capacity; seq++) stream.read(seq);
    const writer = new MessageWriter(0);
    let index = 0;
    for (let round = 0; round < 6; round++) {
      const from = index + 1;
      const a = threadCpuNs();
      for (let k = 0; k < CAPACITY; k++, index++) stream.append(writer.write(index, false));
      const b = threadCpuNs();
      let read = 0;
      for await (const event of stream.subscribe({ from })) if (event.kind === 'message' && ++read === CAPACITY) break;
      const c = threadCpuNs();
      read = 0;
      batched: for await (const batch of stream.subscribe({ from }).batches(REDIS_BATCH)) {
        for (const event of batch) if (event.kind === 'message' && ++read === CAPACITY) break batched;
      }
      const d = threadCpuNs();
      if (round === 0) continue; // the code warms up
      appendNs.push((b - a) / CAPACITY);
      subscribeNs.push((c - b) / CAPACITY);
      batchesNs.push((d - c) / CAPACITY);
    }
  } finally {
    store.close();
    await dropTarget('splinter', where);
  }
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
  const append = median(appendNs);
  const subscribe = median(subscribeNs);
  const batches = median(batchesNs);
  console.log(`0. In one process (capacity ${fmt(CAPACITY)}), CPU time of the thread per message, median of 5 rounds of ${fmt(CAPACITY)}:`);
  console.log(`   append ${fmt(append)} ns (at most ${fmt(1e9 / append)} msg/s for a producer), read through subscribe ${fmt(subscribe)} ns (at most ${fmt(1e9 / subscribe)} msg/s for a consumer), through subscribe().batches(${REDIS_BATCH}) ${fmt(batches)} ns (at most ${fmt(1e9 / batches)} msg/s)\n`);
  summary['inOneProcess'] = { appendNs: Math.round(append), subscribeNs: Math.round(subscribe), batchesNs: Math.round(batches) };
}

/**
 * A stream keeps its last `capacity` messages: a consumer that falls further behind loses the
 * oldest, told by a gap event, unless the producer is held by it (`hold`, backpressure). Redis keeps
 * every entry, ZeroMQ holds its producer at the high-water mark. The rows "with backpressure" are
 * the answer to the target: a ring of BENCH_STREAM_CAPACITY, the producer held by the durable
 * consumer, which acknowledges every 1,024 seqs (and each batch): nothing may be lost. Then the
 * stream with room for the whole run (it measures the transport), and the ring under a flat-out
 * producer that is not held, with what its consumer lost, reported.
 */
async function throughput(kinds: Kind[]): Promise<void> {
  const rows: string[][] = [];
  const figures: Partial<Record<Kind, number>> = {};
  const ringOrRoom: Record<string, number> = {};
  const cases: Array<{ kind: Kind; name: string; capacity: number; ring: boolean; batches?: number; hold?: boolean }> = [
    { kind: 'splinter', name: `splinter stream, ring ${fmt(CAPACITY)} with backpressure`, capacity: CAPACITY, ring: false, hold: true },
    { kind: 'splinter', name: `splinter stream, ring ${fmt(CAPACITY)} with backpressure, batches`, capacity: CAPACITY, ring: false, hold: true, batches: REDIS_BATCH },
    { kind: 'splinter', name: `splinter stream, capacity ${fmt(MESSAGES)}`, capacity: MESSAGES, ring: false },
    { kind: 'splinter', name: `splinter stream, capacity ${fmt(CAPACITY)}`, capacity: CAPACITY, ring: true },
    { kind: 'splinter', name: `splinter stream, capacity ${fmt(MESSAGES)}, batches`, capacity: MESSAGES, ring: false, batches: REDIS_BATCH },
    { kind: 'splinter', name: `splinter stream, capacity ${fmt(CAPACITY)}, batches`, capacity: CAPACITY, ring: true, batches: REDIS_BATCH },
    { kind: 'redis', name: label.redis, capacity: 0, ring: false },
    { kind: 'zmq', name: label.zmq, capacity: 0, ring: false },
  ];
  for (const c of cases.filter((c) => kinds.includes(c.kind))) {
    const count = c.kind === 'splinter' ? MESSAGES : PEER_MESSAGES;
    const where = targetFor(c.kind, c.capacity);
    const base = { mode: 'throughput' as const, count, capacity: c.capacity, batch: REDIS_BATCH, ...(c.batches === undefined ? {} : { batches: c.batches }), ...(c.hold === true ? { hold: true } : {}), ...where };
    const result = await run(c.kind, [{ ...base, role: 'consume' }], [{ ...base, role: 'produce', producer: 0 }]);
    await dropTarget(c.kind, where);
    const [consumer] = result.consumers as [ConsumerResult];
    const [producer] = result.producers as [ProducerResult];
    // A ring's losses are the stream working as documented, when each was reported: only the rest is wrong.
    const reported = c.ring && consumer.count + consumer.lost === count && consumer.inOrder;
    const wrong = reported ? '' : verdict(consumer, count, expectedChecksum(count, c.kind === 'splinter'));
    if (wrong) failures.push(`throughput, ${c.name}: ${wrong}`);
    const sustained = rate(consumer.count, BigInt(consumer.firstNs), BigInt(consumer.lastNs));
    const total = rate(consumer.count, BigInt(producer.startNs), BigInt(consumer.lastNs));
    const produced = rate(producer.sent, BigInt(producer.startNs), BigInt(producer.endNs));
    // The target is of messages delivered with nothing lost: a row that lost some does not answer it.
    if (c.kind === 'splinter' && consumer.lost === 0) ringOrRoom[c.name] = sustained;
    else figures[c.kind] = sustained;
    let received = wrong || 'all, in order, checksum equal';
    if (reported && consumer.lost > 0) received = `${fmt(consumer.count)} in order; ${fmt(consumer.lost)} lost in ${fmt(consumer.gaps)} gaps, each reported`;
    const perMessage = `${cpuNsPer(producer.cpuMs, producer.sent)} / ${cpuNsPer(consumer.cpuMs ?? 0, consumer.count)}`;
    rows.push([c.name, fmt(count), fmt(sustained), fmt(total), fmt(produced), perMessage, received]);
    summary[`throughput.${c.name}`] = { count, received: consumer.count, lost: consumer.lost, sustained: Math.round(sustained), total: Math.round(total), producer: Math.round(produced), cpuNsPerMessage: perMessage, ok: !wrong };
  }
  if (kinds.includes('splinter')) {
    for (const capacity of [MESSAGES, CAPACITY]) {
      const row = await cToC(capacity);
      if (row !== undefined) rows.push(row);
    }
  }
  console.log(`1. Throughput, 1 producer → 1 consumer, ${MESSAGE_BYTES}-byte messages (Redis: XADD pipelined ${REDIS_BATCH} at a time, XREAD COUNT ${REDIS_BATCH}; "batches": the splinter consumer reads subscribe().batches(${REDIS_BATCH})); msg/s counts messages received`);
  table(['who', 'messages', 'sustained msg/s', 'total msg/s', 'producer msg/s', 'CPU ns/msg prod. / cons.', 'received'], rows);
  const peers = (['redis', 'zmq'] as const).filter((k) => figures[k] !== undefined);
  for (const [name, ours] of Object.entries(ringOrRoom)) {
    const ratios = peers.map((k) => `splinter/${k} ${(ours / figures[k]!).toFixed(2)}×`);
    const met = ours >= 1e6 && peers.every((k) => ours > figures[k]!);
    console.log(`   ${name}: ${ratios.join(', ')}; target ≥ 1,000,000 msg/s and ahead of Redis and ZeroMQ: ${met ? 'met' : 'NOT met'}`);
    summary[`throughput.ratios.${name}`] = Object.fromEntries(peers.map((k) => [k, Number((ours / figures[k]!).toFixed(2))]));
  }
  console.log();
}

/**
 * The same convention between two C processes (the test peer, test/peer: libsplinter's calls and
 * the stream convention of docs/streams.md, its torture values of 16–64 bytes): what a stream
 * costs in C on this machine, the floor under ours. Total msg/s only: the C consumer reports at its end.
 */
async function cToC(capacity: number): Promise<string[] | undefined> {
  const name = `C peer → C peer, capacity ${fmt(capacity)}`;
  if (!fs.existsSync(peerBinary)) {
    console.log(`   (${name}: the C peer is not built; \`npm run peer\` builds it)`);
    return undefined;
  }
  const where = targetFor('splinter', capacity);
  const consumer = Peer.open(where.target);
  const producer = Peer.open(where.target);
  try {
    await Promise.all([consumer.ready, producer.ready]);
    const start = process.hrtime.bigint();
    const consumed = consumer.send({ op: 'stream_consume', name: where.stream, from: 1, count: MESSAGES, timeout_ms: 10_000 });
    const produced = producer.send({ op: 'stream_produce', name: where.stream, first: 1, count: MESSAGES });
    const [c, p] = await Promise.all([consumed, produced]);
    const end = process.hrtime.bigint();
    const got = Number(c['messages']);
    const lost = Number(c['lost']);
    const ok = c.rc === 0 && p.rc === 0 && Number(c['corrupt']) === 0 && got + lost === MESSAGES;
    if (!ok) failures.push(`throughput, ${name}: ${JSON.stringify(c)} / ${JSON.stringify(p)}`);
    const total = rate(got, start, end);
    summary[`throughput.${name}`] = { count: MESSAGES, received: got, lost, total: Math.round(total), ok };
    const received = !ok ? 'WRONG (see below)' : lost === 0 ? 'all, in order, none corrupt' : `${fmt(got)} in order; ${fmt(lost)} lost, each reported`;
    return [name, fmt(MESSAGES), '', fmt(total), '', '', received];
  } finally {
    await Promise.all([consumer.close(), producer.close()]);
    await dropTarget('splinter', where);
  }
}

const label: Record<Kind, string> = { splinter: 'splinter stream', redis: 'Redis Streams', zmq: 'ZeroMQ PUSH/PULL' };

async function latency(kinds: Kind[]): Promise<void> {
  const rows: string[][] = [];
  const cases: Array<{ kind: Kind; lowLatency: boolean; name: string; target: string; awake?: boolean }> = [
    { kind: 'splinter', lowLatency: false, name: 'splinter, default', target: 'p50 ≤ 100 µs, p99 ≤ 1 ms' },
    { kind: 'splinter', lowLatency: true, name: 'splinter, lowLatency', target: 'p50 ≤ 30 µs' },
    ...(AWAKE ? [{ kind: 'splinter' as const, lowLatency: false, name: 'splinter, default, CPUs kept awake', target: '(not a figure: a probe)', awake: true }] : []),
    { kind: 'redis', lowLatency: false, name: 'Redis Streams', target: '' },
    { kind: 'zmq', lowLatency: false, name: 'ZeroMQ PUSH/PULL', target: '' },
  ];
  for (const c of cases.filter((c) => kinds.includes(c.kind))) {
    const where = targetFor(c.kind, CAPACITY);
    const base = { mode: 'paced' as const, count: PACED, rate: RATE, warmUp: WARM_UP, capacity: CAPACITY, lowLatency: c.lowLatency, ...(TRACE && c.kind === 'splinter' ? { trace: true } : {}), ...where };
    const spinners = c.awake === true ? keepCpusAwake() : [];
    const result = await run(c.kind, [{ ...base, role: 'consume' }], [{ ...base, role: 'produce', producer: 0 }]).finally(() => {
      for (const spinner of spinners) spinner.kill('SIGKILL');
    });
    await dropTarget(c.kind, where);
    const [consumer] = result.consumers as [ConsumerResult];
    const [producer] = result.producers as [ProducerResult];
    const wrong = verdict(consumer, PACED, undefined);
    if (wrong) failures.push(`latency, ${c.name}: ${wrong}`);
    const p = percentiles(consumer.latenciesUs ?? []);
    const paced = rate(producer.sent, BigInt(producer.startNs), BigInt(producer.endNs));
    let met = '';
    if (c.target && c.awake !== true) met = (c.lowLatency ? p.p50 <= 30 : p.p50 <= 100 && p.p99 <= 1000) ? ' (met)' : ' (NOT met)';
    // The producer's own part: how long its send call took (the stamp is taken just before it).
    const send = producer.sendUs === undefined ? undefined : percentiles(producer.sendUs).p50;
    rows.push([c.name, p.p50.toFixed(1), p.p99.toFixed(1), p.max.toFixed(1), String(p.n), fmt(paced), send === undefined ? '' : send.toFixed(1), c.target + met, wrong || 'all']);
    const tail = tailShape(consumer.latenciesUs ?? [], producer.sendUs);
    if (consumer.trace !== undefined) traces.push(whereTheTailWent(c.name, consumer, producer));
    summary[`latency.${c.name}`] = { p50: Number(p.p50.toFixed(1)), p99: Number(p.p99.toFixed(1)), max: Number(p.max.toFixed(1)), n: p.n, ...(send === undefined ? {} : { sendP50: Number(send.toFixed(1)) }), tail, ok: !wrong };
  }
  console.log(`2. One-way latency at ${fmt(RATE)} msg/s (${fmt(PACED)} messages each, the first ${WARM_UP} left out), µs`);
  table(['who', 'p50', 'p99', 'max', 'n', 'sent msg/s', 'append p50', 'target', 'received'], rows);
  for (const lines of traces) console.log(lines.join('\n') + '\n');
}

/**
 * BENCH_STREAM_AWAKE=1: one busy loop per CPU at nice 19, so that no vCPU halts between messages
 * and a woken consumer preempts a spinner at once. Against the default row, what waking a halted
 * (virtual) CPU adds; a probe of the machine, never the figure (it burns every core).
 */
function keepCpusAwake(): ChildProcess[] {
  return os.cpus().map(() => {
    const spinner = spawn(process.execPath, ['-e', 'for (;;);'], { stdio: 'ignore' });
    spawned.push(spinner);
    if (spinner.pid !== undefined) os.setPriority(spinner.pid, 19);
    return spinner;
  });
}

/**
 * BENCH_STREAM_TRACE=1: each message over 1 ms, laid over what the two children recorded
 * (stream-trace.ts): from the consumer's last receipt before the send to this one, how long the
 * consumer waited runnable for a CPU (schedstat's run delay), how much CPU it used, its GC pauses
 * in the window; the producer's append (stamp to return) and its GC pauses in it. Each late
 * message goes to the first cause that covers half its latency; the rest were woken late (the
 * consumer neither queued for a CPU nor worked: the wake itself took the time).
 */
function whereTheTailWent(name: string, consumer: ConsumerResult, producer: ProducerResult): string[] {
  const c = consumer.trace!;
  const p = producer.trace;
  const lat = consumer.latenciesUs ?? [];
  const recv = c.atNs.map(Number);
  const gcIn = (gc: Array<[number, number, number]>, from: number, to: number): number => {
    let sum = 0;
    for (const [start, duration] of gc) sum += Math.max(0, Math.min(to, start + duration) - Math.max(from, start));
    return sum;
  };
  const causes = { 'consumer GC': 0, 'consumer waited for a CPU': 0, "producer's append": 0, 'consumer busy (CPU)': 0, 'woken late': 0 };
  const worst: string[] = [];
  const n = Math.min(lat.length, recv.length);
  let before = 0; // the last receipt before the send, found by walking forward
  for (let k = 0; k < n; k++) {
    const us = lat[k]!;
    if (us <= 1000) continue;
    const sent = recv[k]! - us * 1000;
    while (before + 1 < k && recv[before + 1]! <= sent) before++;
    const from = k > 0 && recv[before]! <= sent ? before : k;
    const runq = c.schedstat && from < k ? (c.runDelayNs[k]! - c.runDelayNs[from]!) / 1000 : 0;
    const cpu = c.schedstat && from < k ? (c.cpuNs[k]! - c.cpuNs[from]!) / 1000 : 0;
    const gcC = gcIn(c.gc, sent, recv[k]!) / 1000;
    const append = producer.sendUs?.[k] ?? 0;
    const gcP = p === undefined ? 0 : gcIn(p.gc, sent, p.atNs[k] ?? sent) / 1000;
    const half = us / 2;
    const cause: keyof typeof causes = gcC >= half ? 'consumer GC' : runq >= half ? 'consumer waited for a CPU' : append >= half ? "producer's append" : cpu >= half ? 'consumer busy (CPU)' : 'woken late';
    causes[cause]++;
    worst.push(`${us.toFixed(0).padStart(6)} µs: consumer run-queue ${runq.toFixed(0)}, CPU ${cpu.toFixed(0)}, GC ${gcC.toFixed(0)}; producer append ${append.toFixed(0)}, GC ${gcP.toFixed(0)} → ${cause}`);
  }
  const kinds: Record<number, string> = { 1: 'scavenge', 2: 'mark-compact', 4: 'incremental marking', 8: 'weak callbacks' };
  // The pauses of the measured window only (from the first message after the warm-up), not the settling before it.
  const pauses = (all: Array<[number, number, number]>, from: number | undefined): string => {
    const gc = all.filter(([start]) => from !== undefined && start >= from);
    const d = gc.map(([, duration]) => duration / 1000);
    const each = gc.map(([, duration, kind]) => `${kinds[kind] ?? kind} ${(duration / 1000).toFixed(0)}`).slice(0, 6).join(', ');
    return `${d.length} GC pauses (${each}${gc.length > 6 ? '…' : ''}), ${d.reduce((a, b) => a + b, 0).toFixed(0)} µs in all`;
  };
  const runqAll = c.schedstat && n > 1 ? (c.runDelayNs[n - 1]! - c.runDelayNs[0]!) / 1e6 : NaN;
  summary[`latency.trace.${name}`] = { causes, consumerRunQueueMs: Number(runqAll.toFixed(1)), consumerGc: c.gc.filter(([start]) => start >= (recv[0] ?? Infinity)).length, producerGc: p?.gc.filter(([start]) => start >= (p.atNs[0] ?? Infinity)).length ?? 0 };
  const byLatency = worst.sort((a, b) => Number(b.slice(0, 6)) - Number(a.slice(0, 6)));
  return [
    `   ${name}, trace (schedstat ${c.schedstat ? 'read' : 'NOT readable'}): consumer ${pauses(c.gc, recv[0])}, ${runqAll.toFixed(1)} ms waiting for a CPU over the run; producer ${p === undefined ? '?' : pauses(p.gc, p.atNs[0])}`,
    `   messages over 1 ms by cause: ${Object.entries(causes).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    ...byLatency.slice(0, 8).map((line) => `     ${line}`),
  ];
}

/**
 * Where a latency tail comes from: messages over 1 ms, how many runs of consecutive ones they form
 * (a run: the consumer not running while several came), the longest, and how many of them the
 * producer's own append was slow for (over 500 µs: the producer's side, not the consumer's).
 */
function tailShape(latencies: number[], sendUs: number[] | undefined): { over1ms: number; runs: number; longestRun: number; slowSends: number } {
  let over1ms = 0;
  let runs = 0;
  let run = 0;
  let longestRun = 0;
  let slowSends = 0;
  latencies.forEach((us, i) => {
    if (us <= 1000) {
      run = 0;
      return;
    }
    over1ms++;
    if (run++ === 0) runs++;
    longestRun = Math.max(longestRun, run);
    if ((sendUs?.[i] ?? 0) > 500) slowSends++;
  });
  return { over1ms, runs, longestRun, slowSends };
}

async function many(): Promise<void> {
  const perProducer = Math.floor(MANY_MESSAGES / MANY);
  const total = perProducer * MANY;
  // Room for every message of the run: a lagging consumer may not lose any, so that all must agree.
  const capacity = Math.max(CAPACITY, 2 ** Math.ceil(Math.log2(total)));
  const where = targetFor('splinter', capacity);
  const base = { mode: 'throughput' as const, capacity, producers: MANY, ...where };
  const consumers = Array.from({ length: MANY }, () => ({ ...base, role: 'consume' as const, count: total }));
  const producers = Array.from({ length: MANY }, (_, producer) => ({ ...base, role: 'produce' as const, count: perProducer, producer }));
  const result = await run('splinter', consumers, producers);
  await dropTarget('splinter', where);
  const start = result.producers.map((p) => BigInt(p.startNs)).reduce((a, b) => (a < b ? a : b));
  const end = result.consumers.map((c) => BigInt(c.lastNs)).reduce((a, b) => (a > b ? a : b));
  const produced = result.producers.map((p) => BigInt(p.endNs)).reduce((a, b) => (a > b ? a : b));
  const rows = result.consumers.map((c, i) => {
    const wrong = verdict(c, total, result.consumers[0]!.checksum);
    if (wrong) failures.push(`4 × 4, consumer ${i}: ${wrong}`);
    return [`consumer ${i}`, fmt(c.count), c.checksum.toString(16).padStart(8, '0'), String(c.gaps), fmt(rate(c.count, BigInt(c.firstNs), BigInt(c.lastNs))), cpuNsPer(c.cpuMs ?? 0, c.count), wrong || 'all, once, same order'];
  });
  const producerCpu = result.producers.map((p) => cpuNsPer(p.cpuMs, p.sent)).join(', ');
  const delivered = rate(total, start, end);
  console.log(`3. ${MANY} producers × ${fmt(perProducer)} messages → ${MANY} consumers, one splinter stream (capacity ${fmt(capacity)}: the whole run)`);
  table(['consumer', 'messages', 'checksum', 'gaps', 'its msg/s', 'CPU ns/msg', 'received'], rows);
  console.log(`   appended: ${fmt(rate(total, start, produced))} msg/s; delivered to all ${MANY}: ${fmt(delivered)} msg/s (first append to the last consumer's last message); producers' CPU ns/msg: ${producerCpu}\n`);
  summary['many'] = { total, appended: Math.round(rate(total, start, produced)), delivered: Math.round(delivered), checksumsEqual: new Set(result.consumers.map((c) => c.checksum)).size === 1 };
}

async function idle(kinds: Kind[]): Promise<void> {
  const rows: string[][] = [];
  const cases: Array<{ kind: Kind; lowLatency: boolean; name: string; target: string }> = [
    { kind: 'splinter', lowLatency: false, name: 'splinter, default', target: '< 2 %' },
    { kind: 'splinter', lowLatency: true, name: 'splinter, lowLatency', target: '(spins: ~100 % expected)' },
    { kind: 'redis', lowLatency: false, name: 'Redis XREAD BLOCK', target: '' },
    { kind: 'zmq', lowLatency: false, name: 'ZeroMQ PULL', target: '' },
  ];
  for (const c of cases.filter((c) => kinds.includes(c.kind))) {
    const where = targetFor(c.kind, CAPACITY);
    const job: Job = { role: 'consume', mode: 'idle', count: 1, capacity: CAPACITY, lowLatency: c.lowLatency, idleSeconds: IDLE_SECONDS, ...where };
    const result = await run(c.kind, [job], []);
    await dropTarget(c.kind, where);
    const cpu = result.consumers[0]!.cpuPercent!;
    const met = c.target === '< 2 %' ? (cpu < 2 ? ' (met)' : ' (NOT met)') : '';
    rows.push([c.name, cpu.toFixed(2), c.target + met]);
    summary[`idle.${c.name}`] = Number(cpu.toFixed(2));
  }
  console.log(`4. A consumer subscribed to a quiet stream for ${IDLE_SECONDS} s: CPU, % of one core`);
  table(['who', 'CPU %', 'target'], rows);
}

try {
  const kinds = (process.env['BENCH_STREAM_WHO'] ?? 'splinter,redis,zmq').split(',') as Kind[];
  if (kinds.includes('redis') && !(await startRedis())) {
    console.log('redis-server is not on PATH: the Redis rows are left out\n');
    kinds.splice(kinds.indexOf('redis'), 1);
  }
  console.log(`Node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}${CHILD_FLAGS.length > 0 ? `, children run with ${CHILD_FLAGS.join(' ')} (a probe, not the figures)` : ''}\n`);
  if (SECTIONS.has('one') && kinds.includes('splinter')) await inOneProcess();
  if (SECTIONS.has('throughput')) await throughput(kinds);
  // A pause after the throughput runs: their exits free hundreds of MiB (stores, Redis entries) and their page work would land in the latency samples.
  if (SECTIONS.has('latency')) await sleep(SECTIONS.has('throughput') ? 3_000 : 0).then(() => latency(kinds));
  if (SECTIONS.has('many') && kinds.includes('splinter')) await many();
  if (SECTIONS.has('idle')) await idle(kinds);
  summary['loadAverageAtEnd'] = os.loadavg().map((l) => Number(l.toFixed(2)));
  if (failures.length > 0) {
    console.log(`Messages went missing or wrong:\n  ${failures.join('\n  ')}`);
    process.exitCode = 1;
  }
  console.log(`load average at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(JSON.stringify({ ...summary, failures }));
} finally {
  for (const child of spawned.reverse()) if (child.exitCode === null) child.kill('SIGTERM');
  await sleep(200);
  for (const name of stores) Store.unlink(name);
  fs.rmSync(temp, { recursive: true, force: true });
}
