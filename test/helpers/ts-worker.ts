/**
 * Worker threads running a TypeScript file (ts-worker.mjs registers tsx inside). A worker is
 * ended only after it posted its message: by then its modules have loaded, and terminate()
 * landing inside a module load can abort the whole process.
 */
import { Worker } from 'node:worker_threads';

export interface TsWorker {
  worker: Worker;
  /** The first message the worker posts; rejects on its error, or when it exits first. */
  message: Promise<unknown>;
}

export function startTsWorker(scriptUrl: string, data: Record<string, unknown>): TsWorker {
  // execArgv: [] keeps tap's own loaders out of the worker: tsx alone loads the TypeScript, seconds faster.
  const worker = new Worker(new URL('./ts-worker.mjs', import.meta.url), { execArgv: [], workerData: { script: scriptUrl, ...data } });
  const message = new Promise<unknown>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the worker exited with code ${code} before posting its message`)));
  });
  return { worker, message };
}

/** Waits for the worker's message, then ends it; returns the message. */
export async function finishTsWorker(running: TsWorker): Promise<unknown> {
  const message = await running.message;
  await running.worker.terminate();
  return message;
}
