/**
 * The keeper (docs/keep.md): expiry lateness with 100,000 deadlines, idle CPU with 100,000
 * deadlines and nothing due, persistence at 100,000 writes/s (file lag, keeper CPU), and the
 * restore of a 1,048,576-slot store. Keepers and writers run in processes of their own; CPU is
 * read from /proc/PID/stat. Run alone, on a quiet machine: `npx tsx bench/keep.ts`.
 * BENCH_KEEP_ONLY=lateness,idle,persist,restore picks sections.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { Store } from '../src/index.js';
import { keep, restoreStore } from '../src/keep/index.js';

const DEADLINES = 100_000;
const only = new Set((process.env['BENCH_KEEP_ONLY'] ?? 'lateness,idle,persist,restore').split(','));
const children = path.join(import.meta.dirname, 'children');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const TICKS = 100; // USER_HZ on Linux
const results: Record<string, unknown> = { loadavg: os.loadavg().map((l) => Number(l.toFixed(2))) };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime, stime
}

function child(file: string, args: string[]): { proc: ChildProcess; ready: Promise<void>; lines: string[] } {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(children, file), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let ready: () => void = () => {};
  const readyPromise = new Promise<void>((resolve) => (ready = resolve));
  readline.createInterface({ input: proc.stdout! }).on('line', (line) => (line === 'ready' ? ready() : lines.push(line)));
  return { proc, ready: readyPromise, lines };
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGTERM');
  await exited;
}

function fresh(name: string, slots: number, maxValueSize: number): Store {
  try {
    Store.unlink(name);
  } catch {
    // none left
  }
  return Store.create(name, { slots, maxValueSize });
}

async function lateness(): Promise<void> {
  const name = `bench-keep-late-${process.pid}`;
  const store = fresh(name, 262_144, 32);
  const deadlines = new Map<string, number>();
  const start = Date.now() + 1500;
  for (let i = 0; i < DEADLINES; i++) {
    const key = `k:${i}`;
    const deadline = start + Math.floor((i * 3000) / DEADLINES);
    const now = Date.now();
    store.set(key, 'v', { ttl: deadline - now });
    deadlines.set(key, deadline);
  }
  const late: number[] = [];
  const keeper = keep({
    store,
    onEvent: (event) => {
      if (event.type !== 'expired') return;
      const now = Date.now();
      for (const { key } of event.keys) late.push(now - deadlines.get(key as string)!);
    },
  });
  const until = Date.now() + 15_000;
  while (late.length < DEADLINES && Date.now() < until) await sleep(50);
  await keeper.close();
  store.close();
  Store.unlink(name);
  late.sort((a, b) => a - b);
  results['lateness'] = { removed: late.length, p50_ms: percentile(late, 50), p99_ms: percentile(late, 99), max_ms: late.at(-1) };
  console.log(`expiry lateness, ${DEADLINES} deadlines over 3 s: removed ${late.length}, p50 ${percentile(late, 50)} ms, p99 ${percentile(late, 99)} ms, max ${late.at(-1)} ms`);
}

async function idle(): Promise<void> {
  const name = `bench-keep-idle-${process.pid}`;
  const store = fresh(name, 262_144, 32);
  for (let i = 0; i < DEADLINES; i++) store.set(`k:${i}`, 'v', { ttl: 3_600_000 });
  const keeper = child('keep-keeper.ts', [name]);
  await keeper.ready;
  await sleep(2000); // its first scan
  const before = cpuSeconds(keeper.proc.pid!);
  const seconds = 10;
  await sleep(seconds * 1000);
  const used = cpuSeconds(keeper.proc.pid!) - before;
  await stop(keeper.proc);
  store.close();
  Store.unlink(name);
  results['idle'] = { cpu_percent: Number(((used / seconds) * 100).toFixed(2)) };
  console.log(`idle keeper, ${DEADLINES} deadlines, nothing due: ${((used / seconds) * 100).toFixed(2)} % of a core over ${seconds} s`);
}

async function persist(sync?: number): Promise<void> {
  const name = `bench-keep-persist-${process.pid}`;
  const file = path.join(os.tmpdir(), `bench-keep-${process.pid}.spl`);
  fs.rmSync(file, { force: true });
  const store = fresh(name, 131_072, 64);
  const keeper = child(process.env['KEEP_TRACE'] ? 'keep-keeper-trace.ts' : 'keep-keeper.ts', [name, file, '100', ...(sync === undefined ? [] : [String(sync)])]);
  await keeper.ready;
  const writer = child('keep-writer.ts', [name, '100000', '50000']);
  await writer.ready;
  await sleep(1000);
  const copy = Store.open(file);
  const before = cpuSeconds(keeper.proc.pid!);
  // The file's lag is how far its clock is behind the memory store's clock, read one after the
  // other; the age of the file's clock (now − its clock) adds the writer's own delays, shown too.
  const lags: number[] = [];
  const ages: number[] = [];
  const seconds = Number(process.env['BENCH_KEEP_PERSIST_SECONDS'] ?? 10);
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    const inMemory = store.getString('clock');
    const inFile = copy.getString('clock');
    if (inMemory !== undefined && inFile !== undefined) {
      lags.push(Math.max(0, Number(inMemory) - Number(inFile)));
      ages.push(Date.now() - Number(inFile));
    }
    await sleep(7);
  }
  const used = cpuSeconds(keeper.proc.pid!) - before;
  await stop(writer.proc);
  await stop(keeper.proc);
  copy.close();
  store.close();
  Store.unlink(name);
  fs.rmSync(file, { force: true });
  lags.sort((a, b) => a - b);
  ages.sort((a, b) => a - b);
  const written = writer.lines.find((line) => line.startsWith('written'));
  const label = sync === undefined ? 'persist' : `persist_sync_${sync}`;
  results[label] = {
    writer: written,
    lag_p50_ms: percentile(lags, 50),
    lag_p99_ms: percentile(lags, 99),
    lag_max_ms: lags.at(-1),
    file_clock_age_p50_ms: percentile(ages, 50),
    file_clock_age_p99_ms: percentile(ages, 99),
    keeper_cpu_percent: Number(((used / seconds) * 100).toFixed(1)),
  };
  console.log(
    `persistence, interval 100 ms${sync === undefined ? '' : `, --sync ${sync}`}, writer at 100,000 sets/s (${written}): file lag behind the store p50 ${percentile(lags, 50)} ms, p99 ${percentile(lags, 99)} ms, max ${lags.at(-1)} ms (age of the file's clock p50 ${percentile(ages, 50)}, p99 ${percentile(ages, 99)} ms); keeper ${((used / seconds) * 100).toFixed(1)} % of a core`,
  );
}

async function restore(): Promise<void> {
  const name = `bench-keep-restore-${process.pid}`;
  const file = path.join(os.tmpdir(), `bench-keep-restore-${process.pid}.spl`);
  fs.rmSync(file, { force: true });
  const store = fresh(name, 1_048_576, 64);
  for (let i = 0; i < DEADLINES; i++) store.set(`k:${i}`, `value ${i}`);
  const keeper = keep({ store: name, persist: file });
  await keeper.close();
  store.close();
  Store.unlink(name);
  const started = performance.now();
  const report = restoreStore(name, file);
  const ms = performance.now() - started;
  const check = Store.open(name);
  const ok = check.getString('k:99999') === 'value 99999';
  check.close();
  Store.unlink(name);
  fs.rmSync(file, { force: true });
  results['restore'] = { slots: report.slots, keys: report.keys, ms: Math.round(ms), ok };
  console.log(`restore of a ${report.slots}-slot store (${report.keys} keys, file ${((5440 + 1_048_576 * 192) / 2 ** 20).toFixed(0)} MiB): ${ms.toFixed(0)} ms${ok ? '' : ' (VALUE MISSING)'}`);
}

console.log(`load average ${results['loadavg']}`);
if (only.has('lateness')) await lateness();
if (only.has('idle')) await idle();
if (only.has('persist')) {
  await persist();
  await persist(1000);
}
if (only.has('restore')) await restore();
console.log(JSON.stringify(results));
