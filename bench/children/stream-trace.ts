/**
 * What a paced run's child records when the parent asks for a trace (Job.trace): for each message,
 * when it was handled and the main thread's scheduler counters then (/proc/thread-self/schedstat:
 * CPU time, and time spent runnable but waiting for a CPU), and every GC pause of the process.
 * The parent lays these over each late message's window, to tell a consumer that was not given a
 * CPU from one that was working (a GC, a long callback) and from one that was woken late.
 */
import fs from 'node:fs';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { now } from './stream-common.js';

/** What a child sends back: parallel arrays, one entry per traced message; GC pauses as [start ns, duration ns, kind (1 scavenge, 2 mark-compact, 4 incremental marking, 8 weak callbacks)]. */
export interface TraceData {
  /** hrtime ns when the message was handled (consumer: received; producer: its append returned). */
  atNs: number[];
  /** The thread's CPU time then, ns (schedstat's first field). */
  cpuNs: number[];
  /** The thread's total time runnable but not running then, ns (schedstat's second field). */
  runDelayNs: number[];
  /** The message's index. */
  index: number[];
  gc: Array<[number, number, number]>;
  /** Whether schedstat could be read (it needs CONFIG_SCHEDSTATS). */
  schedstat: boolean;
}

/** Room for this many marks, allocated up front: the trace must not add garbage to the run it watches. */
const MARKS = 1 << 16;

export class Trace {
  private readonly at = new Float64Array(MARKS);
  private readonly cpu = new Float64Array(MARKS);
  private readonly runDelay = new Float64Array(MARKS);
  private readonly indices = new Float64Array(MARKS);
  private marks = 0;
  private schedstat = false;
  private readonly gc: Array<[number, number, number]> = [];
  private readonly fd: number | undefined;
  private readonly buffer = Buffer.alloc(128);
  private readonly observer: PerformanceObserver;
  /** hrtime ns minus performance.now() ns: GC entries' start times on the hrtime clock. */
  private readonly offsetNs: bigint;

  constructor() {
    try {
      this.fd = fs.openSync('/proc/thread-self/schedstat', 'r');
      this.schedstat = true;
    } catch {
      this.fd = undefined;
    }
    this.offsetNs = now() - BigInt(Math.round(performance.now() * 1e6));
    this.observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        this.record(entry);
      }
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** Records message `index` handled now. */
  mark(index: number): void {
    const k = this.marks;
    if (k === MARKS) return;
    this.marks++;
    this.at[k] = Number(now());
    this.indices[k] = index;
    if (this.fd === undefined) return;
    // Two decimal numbers parsed from the bytes: no string, no array.
    const n = fs.readSync(this.fd, this.buffer, 0, this.buffer.length, 0);
    let field = 0;
    let value = 0;
    for (let i = 0; i < n && field < 2; i++) {
      const byte = this.buffer[i]!;
      if (byte >= 0x30 && byte <= 0x39) value = value * 10 + (byte - 0x30);
      else {
        (field === 0 ? this.cpu : this.runDelay)[k] = value;
        field++;
        value = 0;
      }
    }
  }

  private record(entry: PerformanceEntry): void {
    const start = Number(this.offsetNs) + entry.startTime * 1e6;
    this.gc.push([start, Math.round(entry.duration * 1e6), (entry as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0]);
  }

  /** The record, once the run is over (GC entries still queued are taken first). */
  finish(): TraceData {
    for (const entry of this.observer.takeRecords()) this.record(entry);
    this.observer.disconnect();
    if (this.fd !== undefined) fs.closeSync(this.fd);
    const k = this.marks;
    return {
      atNs: Array.from(this.at.subarray(0, k)),
      cpuNs: Array.from(this.cpu.subarray(0, k)),
      runDelayNs: Array.from(this.runDelay.subarray(0, k)),
      index: Array.from(this.indices.subarray(0, k)),
      gc: this.gc,
      schedstat: this.schedstat,
    };
  }
}
