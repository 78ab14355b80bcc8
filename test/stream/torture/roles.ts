/**
 * The processes of the stream torture test, each a role that is started, SIGKILLed at random and
 * started again: our producers and consumers (children, `node --import tsx`) and the C peer's
 * (splinter-peer, driven round by round with stream_produce / stream_consume).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../../helpers/fixtures.js';
import { Peer, type PeerAnswer } from '../../helpers/peer.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHILDREN = path.join(here, '..', 'children');

/** What every role needs to know of the run. */
export interface Run {
  store: string;
  stream: string;
  capacity: number;
  claimTimeoutMs: number;
  /** A fresh producer id for each producer incarnation (payload = id × 2^32 + counter). */
  nextProducerId(): number;
  /** The head now (read by the test's own handle). */
  head(): number;
  /** Something went wrong that is not a check of the logs (a child crashed, a peer refused). */
  fail(what: string): void;
}

export interface Role {
  readonly label: string;
  readonly producer: boolean;
  /** SIGKILLs so far. */
  kills: number;
  /** Up and working (our child said so, or the peer answered its first line): a kill now hits it at work. */
  readonly up: boolean;
  start(): void;
  /** SIGKILL now (a role not running is started instead, by the caller). */
  kill(): void;
  /** Ends the role the graceful way; resolves when it has. */
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One of our children: restarted as a new process on each start. */
export class ChildRole implements Role {
  kills = 0;
  up = false;
  private child: ChildProcess | undefined;
  private stderr = '';
  private stopping = false;

  constructor(
    readonly label: string,
    readonly producer: boolean,
    private readonly run: Run,
    /** The log file this role's incarnations append to. */
    readonly log: string,
    private readonly extra: () => string[],
  ) {}

  start(): void {
    const env = { ...process.env };
    delete env['NODE_OPTIONS']; // no coverage hook in the children
    const file = path.join(CHILDREN, this.producer ? 'torture-producer.ts' : 'torture-consumer.ts');
    const r = this.run;
    const args = [file, r.store, r.stream, String(r.capacity), String(r.claimTimeoutMs), ...this.extra()];
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.stderr = '';
    this.up = false;
    child.stdout!.once('data', () => (this.up = this.child === child));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr = (this.stderr + chunk).slice(-4000)));
    child.once('exit', (code, signal) => {
      // Killed by us, or stopped by us (exit 0): expected; anything else is a crash to report.
      if (signal !== 'SIGKILL' && code !== 0 && !(this.stopping && signal === 'SIGTERM')) r.fail(`${this.label} (pid ${child.pid}) exited with ${code ?? signal}: ${this.stderr.trim()}`);
    });
    this.child = child;
  }

  kill(): void {
    if (this.child?.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      this.kills++;
      this.up = false;
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.stopping = true; // SIGTERM before its handler is in place ends it by the signal: expected too
    child.kill('SIGTERM');
    await exited;
  }
}

/** A C producer: stream_produce rounds of a fresh producer id per incarnation, paced to a rate. */
export class CProducerRole implements Role {
  readonly producer = true;
  kills = 0;
  /** Seqs the answered rounds say timed out (abandoned claims of a live producer). */
  reportedTimeouts = 0;
  /** Per kill during a round: how long the round had run (each timeout of it took a claim timeout). */
  readonly killedRoundsMs: number[] = [];
  appended = 0;
  up = false;
  private peer: Peer | undefined;
  private roundStarted = -1;
  private stopping = false;
  private looping: Promise<void> = Promise.resolve();

  constructor(
    readonly label: string,
    private readonly run: Run,
    private readonly round: number,
    private readonly ratePerS: number,
  ) {}

  start(): void {
    const peer = Peer.open(this.run.store);
    this.peer = peer;
    this.looping = this.loop(peer, this.run.nextProducerId()).catch((error: unknown) => {
      if (this.peer === peer && !this.stopping) this.run.fail(`${this.label}: ${String(error)}`);
    });
  }

  private async loop(peer: Peer, id: number): Promise<void> {
    await peer.ready;
    this.up = this.peer === peer;
    let counter = 0;
    while (!this.stopping && this.peer === peer) {
      const started = performance.now();
      this.roundStarted = started;
      const answer = await peer.send({
        op: 'stream_produce',
        name: this.run.stream,
        first: String(id * 2 ** 32 + counter),
        count: this.round,
        // Waits for a dead producer's lap until one of ours declares it: its own timeouts then come
        // only from its own claims declared abandoned (it stalled), each one a claim timeout long.
        claim_timeout_ms: 10 * this.run.claimTimeoutMs,
      });
      this.roundStarted = -1;
      if (answer.rc !== 0) throw new Error(`stream_produce: ${JSON.stringify(answer)}`);
      counter += this.round; // a timed-out payload is skipped, never sent again
      this.reportedTimeouts += Number(answer['timeouts']);
      this.appended += Number(answer['appended']);
      await sleep(Math.max(0, started + (this.round / this.ratePerS) * 1000 - performance.now()));
    }
  }

  kill(): void {
    if (this.peer === undefined) return;
    if (this.roundStarted >= 0) this.killedRoundsMs.push(performance.now() - this.roundStarted);
    else this.killedRoundsMs.push(0);
    this.roundStarted = -1;
    this.peer.kill();
    this.peer = undefined;
    this.up = false;
    this.kills++;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.looping;
    await this.peer?.close();
    this.peer = undefined;
  }
}

/** One answered stream_consume round of the C consumer, with the head read just after it. */
export interface CRound {
  incarnation: number;
  from: number;
  answer: PeerAnswer;
  headAfter: number;
}

/** A C durable consumer: stream_consume rounds from its acknowledged seq + 1, acknowledging at each round's end. */
export class CConsumerRole implements Role {
  readonly producer = false;
  kills = 0;
  readonly rounds: CRound[] = [];
  /** Per incarnation: the acknowledged seq it started from. */
  readonly starts: number[] = [];
  up = false;
  private peer: Peer | undefined;
  private stopping = false;
  private looping: Promise<void> = Promise.resolve();

  constructor(
    readonly label: string,
    private readonly run: Run,
    readonly id: string,
    private readonly round: number,
  ) {}

  start(): void {
    const peer = Peer.open(this.run.store);
    this.peer = peer;
    this.looping = this.loop(peer).catch((error: unknown) => {
      if (this.peer === peer && !this.stopping) this.run.fail(`${this.label}: ${String(error)}`);
    });
  }

  private async loop(peer: Peer): Promise<void> {
    await peer.ready;
    this.up = this.peer === peer;
    const name = this.run.stream;
    const got = await peer.send({ op: 'stream_ack_get', name, id: this.id });
    if (got.rc !== 0) throw new Error(`stream_ack_get: ${JSON.stringify(got)}`);
    const incarnation = this.starts.length;
    this.starts.push(Number(got['acked']));
    let from = Number(got['acked']) + 1;
    while (!this.stopping && this.peer === peer) {
      // Acknowledges only at the round's end, just before answering: a kill inside the round brings it all again.
      const answer = await peer.send({ op: 'stream_consume', name, from, count: this.round, timeout_ms: 300, ack_id: this.id, ack_every: 1e9 });
      if (answer.rc !== 0) throw new Error(`stream_consume: ${JSON.stringify(answer)}`);
      this.rounds.push({ incarnation, from, answer, headAfter: this.run.head() });
      from = Number(answer['next']);
    }
  }

  /** The seq the last answered round acknowledged (0 before any). */
  get acked(): number {
    const last = this.rounds.at(-1);
    return last === undefined ? 0 : Number(last.answer['acked']);
  }

  kill(): void {
    if (this.peer === undefined) return;
    this.peer.kill();
    this.peer = undefined;
    this.up = false;
    this.kills++;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.looping;
    await this.peer?.close();
    this.peer = undefined;
  }
}
