/**
 * What the steps of a key operation cost this runtime, one by one, on a mapped store's words:
 * a plain Int32Array load, the Atomics calls the seqlock needs (load, add, compareExchange),
 * a key memory lookup (Map.get over 512 keys), remembering a key seen for the first time
 * (Map.set of 20 000 new strings) and encoding a new key (FNV-1a and its slot words). Where C
 * compiles each of these to an instruction or two, here each is a call; bench/floor.ts adds
 * them up for C's own algorithm. ns per step in the measuring thread's CPU time, median of 5.
 */
import { Store } from '../src/index.js';
import { KeyCodec } from '../src/store/keys/key-codec.js';
import { threadCpuNs } from './thread-cpu.js';

const STEPS = 5_000_000;
const NEW_KEYS = 20_000;
const REPETITIONS = 5;
let sink = 0;

const name = `splinter-bench-primitives-${process.pid}`;
const store = Store.create(name, { slots: 1024, maxValueSize: 64 });
const i32 = store.memory.i32;
const base = store.memory.slotsStart >>> 2;
const keys = Array.from({ length: 512 }, (_, i) => `scale/${i}`);
const remembered = new Map(keys.map((k, i) => [k, i]));
/** One array of new key strings for each run of the Map.set step, made before any is timed. */
const freshKeys = Array.from({ length: REPETITIONS + 1 }, (_, r) => Array.from({ length: NEW_KEYS }, (_, i) => `fresh/${r}/${i}`));

/** ns per step of `loop` (which runs `steps` steps), the median of REPETITIONS after one unrecorded run. */
function perStep(steps: number, loop: () => void): number {
  loop();
  const times: number[] = [];
  for (let r = 0; r < REPETITIONS; r++) {
    const t0 = threadCpuNs();
    loop();
    times.push((threadCpuNs() - t0) / steps);
  }
  return times.sort((a, b) => a - b)[REPETITIONS >> 1]!;
}

const rows: Array<[string, number]> = [
  ['loop alone', perStep(STEPS, () => { for (let i = 0; i < STEPS; i++) sink += i & 7; })],
  ['plain load', perStep(STEPS, () => { for (let i = 0; i < STEPS; i++) sink += i32[base + (i & 255)]!; })],
  ['Atomics.load', perStep(STEPS, () => { for (let i = 0; i < STEPS; i++) sink += Atomics.load(i32, base + (i & 255)); })],
  ['Atomics.add', perStep(STEPS, () => { for (let i = 0; i < STEPS; i++) sink += Atomics.add(i32, base + (i & 255), 2); })],
  ['Atomics.compareExchange', perStep(STEPS, () => { for (let i = 0; i < STEPS; i++) sink += Atomics.compareExchange(i32, base + (i & 255), 5, 6); })],
  ['Map.get (512 keys)', perStep(STEPS, () => { for (let i = 0; i < STEPS; i++) sink += remembered.get(keys[i & 511]!)!; })],
  [
    'Map.set of a new string (20 000)',
    perStep(NEW_KEYS, () => {
      const fresh = freshKeys.pop()!; // strings no Map has seen: V8 hashes each on first use
      const map = new Map<string, number>();
      for (let i = 0; i < NEW_KEYS; i++) map.set(fresh[i]!, i);
      sink += map.size;
    }),
  ],
  [
    'encode a new key (FNV-1a, words)',
    perStep(STEPS, () => {
      const codec = new KeyCodec(1024);
      for (let i = 0; i < STEPS; i++) {
        codec.encodeTransient(keys[i & 511]!);
        sink += codec.entry.home;
      }
    }),
  ],
];
store.close();
Store.unlink(name);

console.log(`ns per step on ${process.version} (CPU time of this thread; 9-byte keys)`);
console.log('| step | ns |');
console.log('|---|---:|');
for (const [step, ns] of rows) console.log(`| ${step} | ${ns.toFixed(1)} |`);
console.log(JSON.stringify({ rows: Object.fromEntries(rows), sink: sink !== 0 }));
