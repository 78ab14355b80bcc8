/**
 * CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID, through koffi), in ns. Process CPU
 * time would also count V8's compiler and garbage-collector threads, which run beside the
 * measured loop and charge a few-millisecond phase with work the loop did not wait for; the C
 * peer is single-threaded, so its process CPU time is its thread's.
 */
import { createRequire } from 'node:module';

const CLOCK_THREAD_CPUTIME_ID = 3;

interface Koffi {
  load(path: string | null): { func(signature: string): (...args: unknown[]) => unknown };
  struct(name: string, fields: Record<string, string>): unknown;
}

const koffi = createRequire(import.meta.url)('koffi') as Koffi;
koffi.struct('bench_timespec', { tv_sec: 'int64_t', tv_nsec: 'int64_t' });
const clockGettime = koffi.load(null).func('int clock_gettime(int clock, _Out_ bench_timespec *ts)') as (clock: number, out: { tv_sec?: number; tv_nsec?: number }) => number;

export function threadCpuNs(): number {
  const ts: { tv_sec?: number; tv_nsec?: number } = {};
  if (clockGettime(CLOCK_THREAD_CPUTIME_ID, ts) !== 0) throw new Error('clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed');
  return ts.tv_sec! * 1e9 + ts.tv_nsec!;
}
