/**
 * What the readers' global-epoch check (docs/format.md, "No epoch comes back") costs a key at
 * a low epoch: one process reads a 64 KiB value with getInto while another writes other keys
 * flat out. Prints successful reads/s and the EAGAIN rate for the key at epochs 2, 4, 6 and 40,
 * and how many calls the writer's writes overlapped (on a busy machine, the two seldom run at once).
 * Usage: npx tsx bench/low-epoch.ts [build] [seconds], build as in ab.ts (default: src).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Store as StoreType } from '../src/index.js';

const [build, secondsArg = '2', role, target] = process.argv.slice(2);
const seconds = Number(secondsArg);
const here = path.dirname(fileURLToPath(import.meta.url));
const entry = build === undefined || build === 'src' ? path.join(here, '..', 'src', 'index.ts') : path.resolve(build, 'index.js');
const { Store, isSplinterError } = (await import(pathToFileURL(entry).href)) as typeof import('../src/index.js');
const VALUE = 65536;

if (role === 'writer') {
  // Writes until its stdin closes, then prints how many writes per second it made.
  const store = Store.open(target!);
  const value = new Uint8Array(64).fill(0x61);
  const keys = Array.from({ length: 32 }, (_, i) => `other/${i}`);
  let open = true;
  process.stdin.on('end', () => (open = false)).resume();
  console.log('ready');
  const started = performance.now();
  let writes = 0;
  const burst = (): void => {
    const until = performance.now() + 50;
    while (performance.now() < until) for (let i = 0; i < 256; i++, writes++) store.set(keys[i & 31]!, value);
    if (open) setImmediate(burst);
    else {
      console.log(JSON.stringify({ writesPerSecond: Math.round(writes / ((performance.now() - started) / 1000)) }));
      store.close();
    }
  };
  burst();
} else {
  const name = `splinter-bench-low-epoch-${process.pid}`;
  const store: StoreType = Store.create(name, { slots: 64, maxValueSize: VALUE });
  const value = new Uint8Array(VALUE).fill(0x62);
  const target8 = new Uint8Array(VALUE);
  try {
    for (const epoch of [2, 4, 6, 40]) {
      const key = `k${epoch}`;
      for (let i = 0; i < epoch / 2; i++) store.set(key, value);
      const slotEpoch = store.getEpoch(key);
      const writer = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), build ?? 'src', String(seconds), 'writer', name], {
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      let out = '';
      await new Promise<void>((ready) =>
        writer.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.startsWith('ready\n')) ready();
        }),
      );
      let reads = 0;
      let eagain = 0;
      // Reads during which the writer moved the global epoch: on a busy machine the two processes seldom run at once.
      let overlapped = 0;
      const started = performance.now();
      while (performance.now() - started < seconds * 1000) {
        const before = store.epoch;
        try {
          store.getInto(key, target8);
          reads++;
        } catch (error) {
          if (!isSplinterError(error, 'EAGAIN')) throw error;
          eagain++;
        }
        if (store.epoch !== before) overlapped++;
      }
      const elapsed = (performance.now() - started) / 1000;
      writer.stdin.end();
      await new Promise((r) => writer.on('exit', r));
      const rate = reads + eagain === 0 ? 0 : eagain / (reads + eagain);
      console.log(`slot epoch ${slotEpoch}: ${Math.round(reads / elapsed)} reads/s, EAGAIN ${(rate * 100).toFixed(2)}% (${eagain}), ${overlapped} of ${reads + eagain} calls overlapped a write; writer ${out.slice('ready\n'.length).trim()}`);
    }
  } finally {
    store.close();
    Store.unlink(name);
  }
}
