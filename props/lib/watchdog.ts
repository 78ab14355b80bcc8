/**
 * A hang detector for synchronous code: a worker thread watches a heartbeat in shared
 * memory; when the main thread stays inside one armed step for longer than the limit, the
 * worker prints what that step was (seed, run input) to stderr and kills this process, so a
 * hang fails the test file at once with its reproduction instead of waiting for tap's timeout.
 */
import { Worker } from 'node:worker_threads';

const WORKER = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { sab, limitMs } = workerData;
const state = new Int32Array(sab, 0, 4); // [beat, armed, textLength, stop]
const text = new Uint8Array(sab, 16);
let last = -1;
let since = Date.now();
for (;;) {
  Atomics.wait(state, 3, 0, Math.min(100, limitMs));
  if (Atomics.load(state, 3) !== 0) break;
  const beat = Atomics.load(state, 0);
  const now = Date.now();
  if (beat !== last || Atomics.load(state, 1) === 0) { last = beat; since = now; continue; }
  if (now - since >= limitMs) {
    const what = Buffer.from(text.slice(0, Atomics.load(state, 2))).toString('utf8');
    fs.writeSync(2, '\\nHANG: one step ran for more than ' + limitMs + ' ms; it was:\\n' + what + '\\n');
    process.kill(process.pid, 'SIGKILL');
  }
}
`;

export class Watchdog {
  private readonly sab = new SharedArrayBuffer(16 + 64 * 1024);
  private readonly state = new Int32Array(this.sab, 0, 4);
  private readonly text = new Uint8Array(this.sab, 16);
  private readonly worker: Worker;

  constructor(limitMs: number) {
    this.worker = new Worker(WORKER, { eval: true, workerData: { sab: this.sab, limitMs } });
    this.worker.unref();
  }

  /** Starts watching a step described by `what` (shown if it hangs). */
  arm(what: string): void {
    const bytes = Buffer.from(what, 'utf8').subarray(0, this.text.length);
    this.text.set(bytes);
    Atomics.store(this.state, 2, bytes.length);
    Atomics.add(this.state, 0, 1);
    Atomics.store(this.state, 1, 1);
  }

  /** Progress inside a step: restarts the clock. */
  beat(): void {
    Atomics.add(this.state, 0, 1);
  }

  disarm(): void {
    Atomics.store(this.state, 1, 0);
  }

  async stop(): Promise<void> {
    Atomics.store(this.state, 3, 1);
    Atomics.notify(this.state, 3);
    await this.worker.terminate();
  }
}
