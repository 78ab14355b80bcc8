/**
 * What the stream bench's children share: the 64-byte message, the consumer's check (order, count,
 * checksum, latency), the job each child is given and how it reports.
 *
 * A message: [0,8) the producer's own index from 0 (u64 LE); [8,16) its send time (process.hrtime
 * in ns: CLOCK_MONOTONIC, one clock for every process of the machine), 0 when not paced; [16,20)
 * the producer's number; [20,64) filler that depends on the index. The checksum (FNV-1a over 32-bit
 * words, chained over the messages) covers every byte but the send time, which differs from run to run.
 */
import readline from 'node:readline';
import type { TraceData } from './stream-trace.js';

export const MESSAGE_BYTES = 64;

/** What the parent asks a child to do (JSON, the child's one argument). */
export interface Job {
  role: 'produce' | 'consume';
  /** throughput: flat out; paced: `rate` messages per second, stamped; idle: subscribe, nothing sent. */
  mode: 'throughput' | 'paced' | 'idle';
  /** Messages this producer sends, or this consumer expects (from all producers together). */
  count: number;
  /** Where: a store name (splinter), a unix socket path (Redis), an ipc:// endpoint (ZeroMQ). */
  target: string;
  /** The stream's or Redis key's name. */
  stream: string;
  producer?: number;
  producers?: number;
  rate?: number;
  /** Messages at the start of a paced run left out of the latency figures while both sides warm up. */
  warmUp?: number;
  lowLatency?: boolean;
  capacity?: number;
  idleSeconds?: number;
  /** Redis: XADDs per pipeline; XREAD's COUNT. */
  batch?: number;
  /** Splinter: the consumer reads `subscribe().batches(N)` (every event there, up to N, per step). */
  batches?: number;
  /** Splinter: backpressure. The consumer is the durable consumer HOLD_CONSUMER, acking every ACK_EVERY seqs (and each batch); the producer is held by it. */
  hold?: boolean;
  /** Paced runs: record a trace (stream-trace.ts) and send it with the report. */
  trace?: boolean;
}

/** The durable consumer that holds a backpressured producer. */
export const HOLD_CONSUMER = 'bench';
/** A held run's consumer acknowledges every this many seqs: ~1,000 acks a second at 1M msg/s. */
export const ACK_EVERY = 1024;

/** A consumer's report. Times are hrtime ns as strings (JSON has no bigint). */
export interface ConsumerResult {
  count: number;
  checksum: number;
  inOrder: boolean;
  /** The first thing that was out of order, if anything was. */
  problem?: string;
  gaps: number;
  lost: number;
  firstNs: string;
  lastNs: string;
  /** Paced runs: one-way latency of each message after the warm-up, µs. */
  latenciesUs?: number[];
  /** Idle runs: CPU time over wall time, % of one core. */
  cpuPercent?: number;
  /** CPU time from the first message to the last, ms: how much of that time it worked rather than waited. */
  cpuMs?: number;
  /** Paced runs asked to: when each message came and the scheduler's counters then (stream-trace.ts). */
  trace?: TraceData;
}

export interface ProducerResult {
  sent: number;
  startNs: string;
  endNs: string;
  /** CPU time from the start to the last send, ms. */
  cpuMs: number;
  /** Paced runs: how long each send call took (µs), after the warm-up: the producer's part of the latency. */
  sendUs?: number[];
  trace?: TraceData;
}

export const now = (): bigint => process.hrtime.bigint();

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** The filler of bytes [20,64): 256 variants, picked by (index + producer) & 255, copied in one call. */
const fillers = Array.from({ length: 256 }, (_, v) => Uint8Array.from({ length: MESSAGE_BYTES - 20 }, (_, j) => (v * 7 + j * 13) & 0xff));

/** A producer's message buffer, rewritten in place for each message. */
export class MessageWriter {
  readonly bytes = new Uint8Array(MESSAGE_BYTES);
  private readonly view = new DataView(this.bytes.buffer);
  constructor(private readonly producer: number) {
    this.view.setUint32(16, producer, true);
  }
  /** Fills in message `index`, stamped with the time now when `stamp`. */
  write(index: number, stamp: boolean): Uint8Array {
    this.view.setUint32(0, index, true); // bytes [4,8) stay 0: indices stay below 2^32
    if (stamp) this.view.setBigUint64(8, now(), true);
    this.bytes.set(fillers[(index + this.producer) & 255]!, 20);
    return this.bytes;
  }
}

/**
 * The checksum of `count` messages of producer 0, as its consumer computes it: what the parent
 * expects. `withSeq`: a fresh stream's, where message i has seq i + 1.
 */
export function expectedChecksum(count: number, withSeq: boolean): number {
  const writer = new MessageWriter(0);
  let hash = FNV_OFFSET;
  for (let i = 0; i < count; i++) {
    if (withSeq) hash = hashSeq(hash, i + 1);
    hash = hashMessage(hash, writer.write(i, false));
  }
  return hash;
}

function hashSeq(hash: number, seq: number): number {
  hash = Math.imul(hash ^ seq, FNV_PRIME);
  return Math.imul(hash ^ Math.floor(seq / 2 ** 32), FNV_PRIME);
}

/** u32 little-endian at byte `at`, from bytes: a message may sit at any offset of its buffer. */
const u32 = (m: Uint8Array, at: number): number => (m[at]! | (m[at + 1]! << 8) | (m[at + 2]! << 16) | (m[at + 3]! << 24)) >>> 0;

/** FNV-1a over the message's 32-bit words, the send time's two left out (it differs from run to run). */
function hashMessage(hash: number, message: Uint8Array): number {
  hash = Math.imul(hash ^ u32(message, 0), FNV_PRIME);
  hash = Math.imul(hash ^ u32(message, 4), FNV_PRIME);
  for (let j = 16; j < MESSAGE_BYTES; j += 4) hash = Math.imul(hash ^ u32(message, j), FNV_PRIME);
  return hash >>> 0;
}

/**
 * Checks what a consumer receives: each producer's messages in their order, exactly once; the
 * checksum of the sequence (with each message's seq, where the transport has one, so that
 * consumers of one stream agree only if they saw one order); the time of the first and last.
 * Cheap per message (no allocation, no clock read but the first, the last and paced ones' own):
 * it runs inside the consumer being measured.
 */
export class Checker {
  count = 0;
  gaps = 0;
  lost = 0;
  private hash = FNV_OFFSET;
  private problem: string | undefined;
  private readonly next: number[];
  private first = 0n;
  private last = 0n;
  private cpuAtFirst: NodeJS.CpuUsage | undefined;
  private cpuMs = 0;
  private readonly latencies: number[] = [];
  private readonly paced: boolean;
  private readonly warmUp: number;

  constructor(private readonly job: Job) {
    this.next = new Array<number>(job.producers ?? 1).fill(0);
    this.paced = job.mode === 'paced';
    this.warmUp = job.warmUp ?? 0;
  }

  /** Records one message; `seq` is the stream's sequence number where there is one. */
  message(message: Uint8Array, seq?: bigint): void {
    if (this.count === 0) {
      this.first = now();
      this.cpuAtFirst = process.cpuUsage();
    }
    this.count++;
    if (this.count + this.lost >= this.job.count) {
      this.last = now();
      this.cpuMs = cpuMsSince(this.cpuAtFirst!);
    }
    if (message.length !== MESSAGE_BYTES) return this.fail(`message ${this.count} has ${message.length} bytes, expected ${MESSAGE_BYTES}`);
    const producer = u32(message, 16);
    // Indices stay below 2^32 here: the high word is checked through the checksum.
    const index = u32(message, 0);
    if (producer >= this.next.length) return this.fail(`message ${this.count} names producer ${producer}, expected < ${this.next.length}`);
    // After a gap the missing ones may be anyone's: from then on each producer's indices need only increase.
    const due = this.next[producer]!;
    if (index < due || (index > due && this.gaps === 0)) this.fail(`producer ${producer}'s message ${index} arrived where ${due} was due`);
    this.next[producer] = index + 1;
    if (seq !== undefined) this.hash = hashSeq(this.hash, Number(seq));
    this.hash = hashMessage(this.hash, message);
    if (this.paced && index >= this.warmUp) {
      const sent = u32(message, 8) + u32(message, 12) * 2 ** 32;
      this.latencies.push((Number(now()) - sent) / 1000);
    }
  }

  /** A gap the transport reported: seqs from..to (inclusive) lost to this consumer. */
  gap(from: bigint, to: bigint): void {
    this.gaps++;
    this.lost += Number(to - from) + 1;
  }

  /** A cell no sound producer writes: counted, and the run is wrong. */
  malformed(seq: bigint, reason: string): void {
    this.count++;
    this.fail(`seq ${seq} is malformed: ${reason}`);
  }

  get done(): boolean {
    return this.count + this.lost >= this.job.count;
  }

  private fail(problem: string): void {
    this.problem ??= problem;
  }

  result(extra: Partial<ConsumerResult> = {}): ConsumerResult {
    return {
      count: this.count,
      checksum: this.hash >>> 0,
      inOrder: this.problem === undefined,
      ...(this.problem === undefined ? {} : { problem: this.problem }),
      gaps: this.gaps,
      lost: this.lost,
      firstNs: String(this.first),
      lastNs: String(this.last === 0n ? now() : this.last),
      cpuMs: this.cpuMs,
      ...(this.job.mode === 'paced' ? { latenciesUs: this.latencies } : {}),
      ...extra,
    };
  }
}

/** The job from argv; a child that runs past `seconds` exits with an error instead of hanging the bench. */
export function jobFromArgv(seconds = 300): Job {
  const job = JSON.parse(process.argv[2] ?? '{}') as Job;
  setTimeout(() => {
    process.stderr.write(`stream bench ${job.role}r (${process.argv[1]}) still running after ${seconds} s: giving up\n`);
    process.exit(2);
  }, seconds * 1000).unref();
  return job;
}

export const report = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);

/** CPU time (user + system) since `from`, ms. */
export function cpuMsSince(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from);
  return Math.round((used.user + used.system) / 1000);
}

let stdinLines: AsyncIterator<string> | undefined;
const nextLine = (): Promise<IteratorResult<string>> => (stdinLines ??= readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]()).next();

/**
 * A fresh process's first scavenges move what it allocated while starting (modules, the store's
 * setup, the locate pass): 2–16 ms each on the bench machine, against 0.1–0.3 ms after. A
 * long-running process had them long ago; a paced child has them here, before it says it is
 * ready, instead of inside the measured window (where one took out 6–22 messages of a run).
 */
export function settleHeap(job: Job): void {
  if (job.mode !== 'paced') return;
  let keep: Array<{ i: number }> = [];
  for (let i = 0; i < 2_000_000; i++) {
    keep.push({ i });
    if (keep.length > 100) keep = [];
  }
}

/** A producer says it is ready (its heap settled: settleHeap), then waits for the parent's `go` on stdin (every consumer is subscribed by then). */
export async function readyThenGo(job: Job): Promise<void> {
  settleHeap(job);
  report({ ready: true });
  for (let line = await nextLine(); !line.done; line = await nextLine()) if (line.value === 'go') return;
  throw new Error('stdin closed before go');
}

/**
 * Waits for the parent to close stdin, which it does once every consumer has reported: a producer
 * that exits sooner may take messages still queued in its own process with it (ZeroMQ's).
 */
export async function released(): Promise<void> {
  while (!(await nextLine()).done);
}

/** Waits until `at` (hrtime ns) with timers, not spinning: a spinning producer would take a core from its consumer. */
export async function sleepUntil(at: bigint): Promise<void> {
  const ms = Number(at - now()) / 1e6;
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
}

/** The idle run: CPU over wall time while `subscribed` waits on a quiet stream for `seconds`, after one second to settle. */
export async function idleCpu(seconds: number, stop: () => void, subscribed: Promise<unknown>): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const started = performance.now();
  const cpu = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const used = process.cpuUsage(cpu);
  const wall = performance.now() - started;
  stop();
  await subscribed.catch(() => undefined);
  return ((used.user + used.system) / 1000 / wall) * 100;
}
