/**
 * The parent side of the torture processes: spawns our child script (TypeScript through
 * tsx) and C peers, talks JSON lines to them with a timeout on every answer, and kills
 * whatever is still running when the test ends, whether it passed or not.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Peer, type PeerAnswer } from '../helpers/peer.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Rejects with a clear message (after calling `onTimeout`) when `promise` takes longer than `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`${what}: no answer within ${ms} ms; the process was killed`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One of our child scripts (test/interop/*.ts) in its own Node process. */
export class Child {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  private stderr = '';
  private queue: Promise<unknown> = Promise.resolve();
  readonly ready: Promise<void>;

  constructor(
    readonly label: string,
    script: string,
    config: object,
    readyTimeoutMs: number,
  ) {
    // The children need none of the test runner's loaders (coverage, mocks): a lean start.
    const env = { ...process.env, NODE_OPTIONS: '' };
    this.proc = spawn(process.execPath, ['--import', 'tsx', path.join(here, script), JSON.stringify(config)], { stdio: 'pipe', env });
    this.proc.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (this.stderr.length < 20_000) this.stderr += chunk;
    });
    this.lines = readline.createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
    this.ready = within(this.nextLine(), readyTimeoutMs, `${label} start`, () => this.kill()).then((line) => {
      const first = JSON.parse(line) as { ready?: boolean };
      if (first.ready !== true) throw new Error(`${label} did not start: ${line}`);
    });
    this.queue = this.ready.catch(() => undefined);
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  private async nextLine(): Promise<string> {
    const next = await this.lines.next();
    if (next.done) {
      const exited = await this.exitCode();
      throw new Error(`${this.label} exited (${exited}) without answering: ${this.stderr.trim().slice(0, 4000)}`);
    }
    return next.value;
  }

  private exitCode(): Promise<string> {
    if (!this.running) return Promise.resolve(String(this.proc.exitCode ?? this.proc.signalCode));
    return new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve(String(code ?? signal))));
  }

  /** Sends one command and resolves with its answer; kills the child when it takes longer than `timeoutMs`. */
  request<T>(command: object, timeoutMs: number): Promise<T> {
    const answer = this.queue.then(async () => {
      await this.ready;
      this.proc.stdin.write(`${JSON.stringify(command)}\n`);
      const line = await within(this.nextLine(), timeoutMs, `${this.label} ${JSON.stringify(command).slice(0, 80)}`, () => this.kill());
      const parsed = JSON.parse(line) as T & { error?: string };
      if (typeof parsed.error === 'string') throw new Error(`${this.label}: ${parsed.error}`);
      return parsed as T;
    });
    this.queue = answer.catch(() => undefined);
    return answer;
  }

  /** Closes stdin (the child exits) and waits for the exit, killing it after `timeoutMs`. */
  async close(timeoutMs = 5000): Promise<void> {
    if (!this.running) return;
    const exited = this.exitCode();
    this.proc.stdin.end();
    await within(exited, timeoutMs, `${this.label} exit`, () => this.kill()).catch(() => undefined);
  }

  kill(): void {
    if (this.running) this.proc.kill('SIGKILL');
  }
}

/**
 * A few of our torture processes (test/interop/torture-child.ts), started once and reused by
 * every case: each command says which role to play on which store. A child that died or was
 * killed (a timeout) is replaced by a fresh one the next time children are taken.
 */
export class ChildPool {
  private readonly children: Child[] = [];
  private spawned = 0;

  constructor(
    private readonly size: number,
    private readonly readyTimeoutMs: number,
    private readonly idleLimitMs: number,
  ) {
    for (let i = 0; i < size; i++) this.children.push(this.spawn());
  }

  private spawn(): Child {
    this.spawned++;
    return new Child(`ours #${this.spawned}`, 'torture-child.ts', { idleLimitMs: this.idleLimitMs }, this.readyTimeoutMs);
  }

  /** `n` ready children (n ≤ size). */
  async take(n: number): Promise<Child[]> {
    if (n > this.size) throw new Error(`the pool has ${this.size} children, ${n} were asked for`);
    for (let i = 0; i < n; i++) if (!this.children[i]!.running) this.children[i] = this.spawn();
    const taken = this.children.slice(0, n);
    await Promise.all(taken.map((c) => c.ready));
    return taken;
  }

  /** Asks every child to drop its handle on a store (at the end of a case). */
  async release(target: string): Promise<void> {
    await Promise.all(
      this.children.filter((c) => c.running).map((c) => c.request({ op: 'close', target }, 5000).catch(() => undefined)),
    );
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.children.map((c) => c.close()));
    this.killAll();
  }

  killAll(): void {
    for (const c of this.children) c.kill();
  }
}

/** The C peers a test started, so that teardown can end them all. */
export class Fleet {
  private readonly peers: Peer[] = [];

  constructor(private readonly readyTimeoutMs: number) {}

  openPeer(target: string): Peer {
    const peer = Peer.open(target);
    this.peers.push(peer);
    return peer;
  }

  /** One peer command with a timeout; the peer is killed when it does not answer in time. */
  static ask(peer: Peer, command: Record<string, unknown>, timeoutMs: number, label = 'C peer'): Promise<PeerAnswer> {
    return within(peer.send(command), timeoutMs, `${label} ${String(command['op'])}`, () => peer.kill());
  }

  /** Waits for every peer to be ready. */
  async ready(): Promise<void> {
    await Promise.all(this.peers.map((p) => within(p.ready, this.readyTimeoutMs, 'C peer start', () => p.kill())));
  }

  /** Ends every peer politely (EOF), then by force. Safe to call twice. */
  async shutdown(): Promise<void> {
    await Promise.all(this.peers.map((p) => within(p.close(), 5000, 'C peer exit', () => p.kill()).catch(() => undefined)));
    this.killAll();
  }

  killAll(): void {
    for (const p of this.peers) p.kill();
  }
}
