/** A client for the C peer (test/peer): one process on one store, JSON lines in and out. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { repoRoot } from './fixtures.js';

export const peerBinary = path.join(repoRoot, 'test', 'peer', 'build', 'splinter-peer');

export interface PeerAnswer {
  rc: number;
  errno?: string;
  error?: string;
  [field: string]: unknown;
}

export class Peer {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  private queue: Promise<unknown> = Promise.resolve();
  private stderr = '';
  /** The peer's first line: what it opened. */
  ready: Promise<{ slots: number; max_val_sz: number; embeddings: boolean }>;

  private constructor(args: string[], env?: NodeJS.ProcessEnv) {
    this.child = spawn(peerBinary, args, { stdio: 'pipe', env: env ?? process.env });
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.lines = readline.createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
    this.ready = this.nextLine().then((line) => {
      const first = JSON.parse(line) as { ready: boolean; slots: number; max_val_sz: number; embeddings: boolean; error?: string };
      if (!first.ready) throw new Error(`splinter-peer ${args.join(' ')}: ${first.error ?? line}`);
      return first;
    });
  }

  static create(target: string, slots: number, maxValueSize: number, embeddings = false): Peer {
    return new Peer(['create', target, String(slots), String(maxValueSize), ...(embeddings ? ['--embeddings'] : [])]);
  }

  static open(target: string): Peer {
    return new Peer(['open', target]);
  }

  private async nextLine(): Promise<string> {
    const next = await this.lines.next();
    if (next.done) throw new Error(`splinter-peer exited early (${this.child.exitCode}): ${this.stderr.trim()}`);
    return next.value;
  }

  /** Sends one command (an object, or a fixture op line as-is) and resolves with its answer. */
  send(command: Record<string, unknown> | string): Promise<PeerAnswer> {
    const line = typeof command === 'string' ? command : JSON.stringify(command);
    const answer = this.queue.then(async () => {
      await this.ready;
      this.child.stdin.write(`${line}\n`);
      return JSON.parse(await this.nextLine()) as PeerAnswer;
    });
    this.queue = answer.catch(() => undefined);
    return answer;
  }

  /** Closes stdin (the peer syncs and exits) and waits for the exit. */
  async close(): Promise<number | null> {
    await this.queue;
    if (this.child.exitCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.child.stdin.end();
    return exited;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }

  /** The peer's process id (for reading its CPU time in /proc). */
  get pid(): number {
    return this.child.pid!;
  }
}
