/**
 * The second core for store.search: one worker thread per store handle, started on the first large
 * search and kept for the next, that opens the same store (by its name or path, or its
 * SharedArrayBuffer) and scans the upper half of the slots while the caller's thread scans the lower.
 * It never keeps the process alive (unref) and ends with the handle's close(). A worker that is not
 * ready yet, failed, or does not answer within ANSWER_MS leaves the whole scan to the caller.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { partWords, type WireOptions } from '../store/search/index.js';

const READY = 0;
const DONE = 1;
/** Far above a half-scan of the largest store; only a worker that died or hangs reaches it. */
const ANSWER_MS = 10_000;

export interface WorkerSource {
  target: string | undefined;
  buffer: SharedArrayBuffer | undefined;
  trustShared: boolean;
  budgetMs: number;
}

export class SearchPool {
  private readonly worker: Worker;
  private readonly control = new Int32Array(new SharedArrayBuffer(8));
  private words: Float64Array | undefined;
  private broken = false;

  constructor(source: WorkerSource) {
    // node:worker_threads with the first parallel search, not with every store: a one-shot command never needs it.
    const { Worker } = createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
    this.worker = new Worker(workerEntry(), { workerData: { ...source, control: this.control.buffer } });
    this.worker.unref();
    this.worker.on('error', () => (this.broken = true));
    this.worker.on('exit', () => (this.broken = true));
  }

  /** True once the worker has the store open (read without waiting: the caller's thread may never yield). */
  get ready(): boolean {
    return !this.broken && Atomics.load(this.control, READY) === 1;
  }

  /** Hands slots [from, to) to the worker; the returned wait gives its words, or undefined if it did not answer. */
  start(vector: Float32Array, wire: WireOptions, from: number, to: number, limit: number): () => Float64Array | undefined {
    const need = partWords(to - from, limit);
    if (this.words === undefined || this.words.length < need) this.words = new Float64Array(new SharedArrayBuffer(need * 8));
    const words = this.words;
    Atomics.store(this.control, DONE, 0);
    this.worker.postMessage({ vector, wire, from, to, words: words.buffer });
    return () => {
      Atomics.wait(this.control, DONE, 0, ANSWER_MS);
      const state = Atomics.load(this.control, DONE);
      if (state === 1) return words;
      if (state === 0) this.broken = true; // no answer in time: never asked again
      return undefined; // 2: the worker's scan threw; the caller's own scan of the range reports why
    };
  }

  close(): void {
    this.broken = true;
    void this.worker.terminate();
  }
}

/**
 * The built worker beside this file; run from the sources (under a TypeScript loader, which the
 * worker inherits), its .ts. By way of ../facade/ because the CLI's bundle (dist/bundle/, one
 * folder below dist/ as this file is) holds this code too, and the worker is in dist/facade/.
 */
function workerEntry(): URL {
  const built = new URL('../facade/search-worker.js', import.meta.url);
  return fs.existsSync(fileURLToPath(built)) ? built : new URL('../facade/search-worker.ts', import.meta.url);
}
