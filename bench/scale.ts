/**
 * Key operations at four store sizes, ours and the C peer in the same run: on a fresh store of
 * `slots` × 64 B, insert n = min(slots / 2, 20 000) new keys, then 5 000 unset + set of
 * existing keys, 100 000 gets, and gets of 100 keys never stored; 32-byte values. Each phase is
 * timed on its own in the CPU time of the thread that runs it (on a shared machine wall time
 * counts whoever else ran; bench/thread-cpu.ts), ns or µs per op, after about a million
 * unrecorded operations at each size; median of BENCH_SCALE_REPETITIONS (5) fresh stores per
 * size, ours, the floor (bench/floor.ts: C's steps written by hand in TypeScript, nothing else) and C
 * interleaved. BENCH_SCALE_SLOTS=1024,16384 picks sizes. The last line is JSON.
 */
import fs from 'node:fs';
import { Store } from '../src/index.js';
import { OURS } from '../src/layout/constants.js';
import { Peer, peerBinary } from '../test/helpers/peer.js';
import { FloorKv } from './floor.js';
import { threadCpuNs } from './thread-cpu.js';

const SIZES = (process.env['BENCH_SCALE_SLOTS'] ?? '1024,16384,131072,1048576').split(',').map(Number);
const REPETITIONS = Number(process.env['BENCH_SCALE_REPETITIONS'] ?? 5);
const MAX_VALUE = 64;
const VALUE_SIZE = 32;
const CHURN = 5_000;
const GETS = 100_000;
const MISSES = 100;

interface Phases {
  insert: number;
  unsetSet: number;
  get: number;
  miss: number;
  /** Ours only: the reach at the end (how many slots past home a miss probes). */
  reach?: number;
}

const value = new Uint8Array(VALUE_SIZE).fill(0x61);
const target = new Uint8Array(MAX_VALUE);
const keyCount = (slots: number): number => Math.min(slots / 2, 20_000);
let sink = 0;
let rescans = 0;

/** CPU time of this thread, in ns: the compiler's and collector's own threads are left out (bench/thread-cpu.ts). */
const cpuNs = threadCpuNs;

/**
 * One run of the floor (bench/floor.ts: C's steps by hand, nothing else) on a fresh store. Its
 * loops are written out apart from runOurs's on purpose: one loop shared through callbacks would
 * time a polymorphic call on every operation of both.
 */
function runFloor(slots: number, round: number): Phases {
  const name = `splinter-bench-scale-floor-${process.pid}-${slots}-${round}`;
  const store = Store.create(name, { slots, maxValueSize: MAX_VALUE });
  try {
    const floor = new FloorKv(store.memory);
    const n = keyCount(slots);
    const keys = Array.from({ length: n }, (_, i) => `scale/${i}`);
    const misses = Array.from({ length: MISSES }, (_, i) => `scale-miss/${round}/${i}`);
    const t0 = cpuNs();
    for (let i = 0; i < n; i++) floor.set(keys[i]!, value);
    const t1 = cpuNs();
    for (let i = 0; i < CHURN; i++) {
      const key = keys[i % n]!;
      floor.unset(key);
      floor.set(key, value);
    }
    const t2 = cpuNs();
    for (let i = 0; i < GETS; i++) sink += floor.getInto(keys[i % n]!, target);
    const t3 = cpuNs();
    for (let i = 0; i < MISSES; i++) sink += floor.getInto(misses[i]!, target);
    const t4 = cpuNs();
    return { insert: (t1 - t0) / n, unsetSet: (t2 - t1) / CHURN, get: (t3 - t2) / GETS, miss: (t4 - t3) / MISSES };
  } finally {
    store.close();
    Store.unlink(name);
  }
}

/** One run of ours on a fresh store: ns per op of each phase. */
function runOurs(slots: number, round: number): Phases {
  const name = `splinter-bench-scale-${process.pid}-${slots}-${round}`;
  const store = Store.create(name, { slots, maxValueSize: MAX_VALUE });
  try {
    const n = keyCount(slots);
    const keys = Array.from({ length: n }, (_, i) => `scale/${i}`);
    // Never-seen keys: distinct per run, so no handle of this process has looked them up before.
    const misses = Array.from({ length: MISSES }, (_, i) => `scale-miss/${round}/${i}`);
    const t0 = cpuNs();
    for (let i = 0; i < n; i++) store.set(keys[i]!, value);
    const t1 = cpuNs();
    for (let i = 0; i < CHURN; i++) {
      const key = keys[i % n]!;
      store.unset(key);
      store.set(key, value);
    }
    const t2 = cpuNs();
    for (let i = 0; i < GETS; i++) sink += store.getInto(keys[i % n]!, target);
    const t3 = cpuNs();
    for (let i = 0; i < MISSES; i++) sink += store.getInto(misses[i]!, target);
    const t4 = cpuNs();
    rescans += store.memory.trust.rescans;
    const reach = store.memory.u32[OURS.reach >>> 2]!;
    return { insert: (t1 - t0) / n, unsetSet: (t2 - t1) / CHURN, get: (t3 - t2) / GETS, miss: (t4 - t3) / MISSES, reach };
  } finally {
    store.close();
    Store.unlink(name);
  }
}

async function runC(slots: number, round: number): Promise<Phases> {
  const name = `splinter-bench-scale-c-${process.pid}-${slots}-${round}`;
  const peer = Peer.create(name, slots, MAX_VALUE);
  try {
    await peer.ready;
    const answer = await peer.send({ op: 'bench_scale', keys: keyCount(slots), churn: CHURN, gets: GETS, misses: MISSES, value_size: VALUE_SIZE });
    if (answer.rc !== 0) throw new Error(`C bench_scale: ${JSON.stringify(answer)}`);
    return {
      insert: Number(answer['insert_ns']),
      unsetSet: Number(answer['unset_set_ns']),
      get: Number(answer['get_ns']),
      miss: Number(answer['miss_ns']),
    };
  } finally {
    await peer.close();
    Store.unlink(name);
  }
}

/** Unrecorded runs before the measured ones: about a million key operations at each size. */
const warmUpRuns = (slots: number): number => Math.max(1, Math.min(8, Math.round(1_000_000 / (keyCount(slots) + CHURN * 2 + GETS))));

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const medianPhases = (runs: Phases[]): Phases => ({
  insert: median(runs.map((r) => r.insert)),
  unsetSet: median(runs.map((r) => r.unsetSet)),
  get: median(runs.map((r) => r.get)),
  miss: median(runs.map((r) => r.miss)),
  ...(runs[0]!.reach === undefined ? {} : { reach: Math.max(...runs.map((r) => r.reach!)) }),
});

/** ns as "812 ns", "3.1 µs" or "7.4 ms". */
function time(ns: number): string {
  if (ns < 1_000) return `${ns.toFixed(0)} ns`;
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(ns < 10_000 ? 2 : 1)} µs`;
  return `${(ns / 1_000_000).toFixed(1)} ms`;
}

async function main(): Promise<void> {
  if (!fs.existsSync(peerBinary)) throw new Error(`the C peer is not built (${peerBinary}): npm run peer`);
  const rows: Array<{ slots: number; n: number; ours: Phases; floor: Phases; c: Phases }> = [];
  for (const slots of SIZES) {
    // JIT warm-up at each size, not recorded (about a million key operations), so the measured runs
    // time optimised code; C is compiled ahead of time.
    const rescansBefore = rescans;
    for (let round = -warmUpRuns(slots); round < 0; round++) {
      runOurs(slots, round);
      runFloor(slots, round);
    }
    rescans = rescansBefore; // the measured runs' passes only
    const ours: Phases[] = [];
    const floor: Phases[] = [];
    const c: Phases[] = [];
    for (let round = 0; round < REPETITIONS; round++) {
      ours.push(runOurs(slots, round));
      floor.push(runFloor(slots, round));
      c.push(await runC(slots, round));
    }
    rows.push({ slots, n: keyCount(slots), ours: medianPhases(ours), floor: medianPhases(floor), c: medianPhases(c) });
  }
  console.log(`${MAX_VALUE}-byte value slots, ${VALUE_SIZE}-byte values, median of ${REPETITIONS} fresh stores per size; node ${process.version}`);
  console.log('| slots | n | insert ours (C) | unset+set ours/C | get ours/C | never-seen miss ours (C) | reach |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|');
  for (const { slots, n, ours, c } of rows) {
    console.log(
      `| ${slots.toLocaleString('en')} | ${n.toLocaleString('en')} | ${time(ours.insert)} (${time(c.insert)}) ` +
        `| ${(ours.unsetSet / c.unsetSet).toFixed(2)}× (${time(ours.unsetSet)} / ${time(c.unsetSet)}) ` +
        `| ${(ours.get / c.get).toFixed(2)}× (${time(ours.get)} / ${time(c.get)}) | ${time(ours.miss)} (${time(c.miss)}) | ${ours.reach} |`,
    );
  }
  console.log('');
  console.log('floor: C\'s steps by hand in TypeScript (bench/floor.ts); ours/C and floor/C');
  console.log('| slots | insert ours/C | unset+set ours/C | get ours/C | insert floor/C | unset+set floor/C | get floor/C |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|');
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
  for (const { slots, ours, floor, c } of rows) {
    console.log(
      `| ${slots.toLocaleString('en')} | ${ratio(ours.insert, c.insert)} | ${ratio(ours.unsetSet, c.unsetSet)} | ${ratio(ours.get, c.get)} ` +
        `| ${ratio(floor.insert, c.insert)} (${time(floor.insert)}) | ${ratio(floor.unsetSet, c.unsetSet)} (${time(floor.unsetSet)}) | ${ratio(floor.get, c.get)} (${time(floor.get)}) |`,
    );
  }
  console.log(`full passes over the hashes by our lookups: ${rescans}`);
  console.log(JSON.stringify({ rows, rescans, sink: sink !== 0 }));
}

await main();
