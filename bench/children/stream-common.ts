/**
 * What the stream bench's children share: the 64-byte message, the consumer's check (order, count,
 * checksum, latency), the job each child is given and how it reports.
 *
 * A message: [0,8) the producer's own index from 0 (u64 LE); [8,16) its send time (process.hrtime
 * in ns: CLOCK_MONOTONIC, one clock for every process of the machine), 0 when not paced; [16,20)
 * the producer's number; [20,64) filler that depends on the index. The checksum (FNV-1a, chained
 * over the messages) covers every byte but the send time, which differs from run to run.
 */
import readline from 'node:readline';

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
}

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
}

export interface ProducerResult {
  sent: number;
  startNs: string;
  endNs: string;
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
    this.view.setBigUint64(0, BigInt(index), true);
    this.view.setBigUint64(8, stamp ? now() : 0n, true);
    this.bytes.set(fillers[(index + this.producer) & 255]!, 20);
    return this.bytes;
  }
}

/** The checksum of `count` messages of producer 0, as its consumer computes it: what the parent expects. */
export function expectedChecksum(count: number): number {
  const writer = new MessageWriter(0);
  let hash = FNV_OFFSET;
  for (let i = 0; i < count; i++) hash = hashMessage(hash, writer.write(i, false));
  return hash;
}

function hashMessage(hash: number, message: Uint8Array): number {
  for (let j = 0; j < 8; j++) hash = Math.imul(hash ^ message[j]!, FNV_PRIME);
  for (let j = 16; j < message.length; j++) hash = Math.imul(hash ^ message[j]!, FNV_PRIME);
  return hash >>> 0;
}

/**
 * Checks what a consumer receives: each producer's messages in their order, exactly once; the
 * checksum of the sequence (with each message's seq, where the transport has one, so that
 * consumers of one stream agree only if they saw one order); the time of the first and last.
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
  private readonly latencies: number[] = [];

  constructor(private readonly job: Job) {
    this.next = new Array<number>(job.producers ?? 1).fill(0);
  }

  /** Records one message; `seq` is the stream's sequence number where there is one. */
  message(message: Uint8Array, seq?: bigint): void {
    const at = now();
    if (this.count === 0) this.first = at;
    this.last = at;
    this.count++;
    if (message.length !== MESSAGE_BYTES) return this.fail(`message ${this.count} has ${message.length} bytes, expected ${MESSAGE_BYTES}`);
    const view = new DataView(message.buffer, message.byteOffset, MESSAGE_BYTES);
    const producer = view.getUint32(16, true);
    const index = Number(view.getBigUint64(0, true));
    if (producer >= this.next.length) return this.fail(`message ${this.count} names producer ${producer}, expected < ${this.next.length}`);
    // After a gap the missing ones may be anyone's: from then on each producer's indices need only increase.
    const due = this.next[producer]!;
    if (index < due || (index > due && this.gaps === 0)) this.fail(`producer ${producer}'s message ${index} arrived where ${due} was due`);
    this.next[producer] = index + 1;
    if (seq !== undefined) {
      this.hash = Math.imul(this.hash ^ Number(seq & 0xffffffffn), FNV_PRIME);
      this.hash = Math.imul(this.hash ^ Number(seq >> 32n), FNV_PRIME);
    }
    this.hash = hashMessage(this.hash, message);
    const sent = view.getBigUint64(8, true);
    if (this.job.mode === 'paced' && index >= (this.job.warmUp ?? 0)) this.latencies.push(Number(at - sent) / 1000);
  }

  /** A gap the transport reported: seqs from..to (inclusive) lost to this consumer. */
  gap(from: bigint, to: bigint): void {
    this.gaps++;
    this.lost += Number(to - from) + 1;
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
      lastNs: String(this.last),
      ...(this.job.mode === 'paced' ? { latenciesUs: this.latencies } : {}),
      ...extra,
    };
  }
}

/** The job from argv; a child that runs past `seconds` exits with an error instead of hanging the bench. */
export function jobFromArgv(seconds = 120): Job {
  const job = JSON.parse(process.argv[2] ?? '{}') as Job;
  setTimeout(() => {
    process.stderr.write(`stream bench ${job.role}r (${process.argv[1]}) still running after ${seconds} s: giving up\n`);
    process.exit(2);
  }, seconds * 1000).unref();
  return job;
}

export const report = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);

let stdinLines: AsyncIterator<string> | undefined;
const nextLine = (): Promise<IteratorResult<string>> => (stdinLines ??= readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]()).next();

/** A producer says it is ready, then waits for the parent's `go` on stdin (every consumer is subscribed by then). */
export async function readyThenGo(): Promise<void> {
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
