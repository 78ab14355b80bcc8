/**
 * Two builds of the library in one process, timed in alternation on one key-value loop, so the
 * drift between processes (physical page placement, the other vCPU's load) mostly cancels.
 * Usage: npx tsx bench/ab.ts <op> <buildA> <buildB>, where each build is the output of
 * `npx tsc -p tsconfig.build.json --outDir <dir>` placed inside a checkout (so the native addon
 * resolves), e.g. .ab/before and .ab/after; op is set, get, getInto, getEpoch, has, append or unsetSet.
 * Prints the median ns/op of each and the ratio B/A; run it a few times and compare the ratios.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Store as StoreType } from '../src/index.js';

const [op = 'getInto', dirA, dirB] = process.argv.slice(2);
if (dirA === undefined || dirB === undefined) {
  console.error('usage: npx tsx bench/ab.ts <op> <buildA> <buildB>');
  process.exit(2);
}
const KEYS = 1000;
const keys = Array.from({ length: KEYS }, (_, i) => `bench/${i}`);
const value = new Uint8Array(64).fill(0x61);
const target = new Uint8Array(4096);

type Loop = (n: number) => number;

/** Each build gets loops of its own (separate closures, separate JIT feedback). */
function loopsFor(s: StoreType): Record<string, Loop> {
  return {
    set: (n) => {
      for (let i = 0; i < n; i++) s.set(keys[i % KEYS]!, value);
      return n;
    },
    get: (n) => {
      let total = 0;
      for (let i = 0; i < n; i++) total += s.get(keys[i % KEYS]!)!.length;
      return total;
    },
    getInto: (n) => {
      let total = 0;
      for (let i = 0; i < n; i++) total += s.getInto(keys[i % KEYS]!, target);
      return total;
    },
    getEpoch: (n) => {
      let odd = 0;
      for (let i = 0; i < n; i++) odd += Number(s.getEpoch(keys[i % KEYS]!) & 1n);
      return odd;
    },
    has: (n) => {
      let found = 0;
      for (let i = 0; i < n; i++) if (s.has(keys[i % KEYS]!)) found++;
      return found;
    },
    unsetSet: (n) => {
      for (let i = 0; i < n; i++) {
        const key = keys[i % KEYS]!;
        s.unset(key);
        s.set(key, value);
      }
      return n;
    },
    append: (n) => {
      let total = 0;
      const one = value.subarray(0, 1);
      for (let i = 0; i < n; i++) {
        const key = keys[i % KEYS]!;
        try {
          total += s.append(key, one);
        } catch {
          s.unset(key);
          s.set(key, value);
        }
      }
      return total;
    },
  };
}

const builds: Array<{ label: string; loop: Loop; samples: number[]; close: () => void }> = [];
for (const [label, dir] of [['A', dirA], ['B', dirB]] as const) {
  const { Store } = (await import(pathToFileURL(path.resolve(dir, 'index.js')).href)) as { Store: typeof StoreType };
  const name = `splinter-bench-ab-${label}-${process.pid}`;
  const store = Store.create(name, { slots: 1024, maxValueSize: 4096 });
  for (const key of keys) store.set(key, value);
  const loop = loopsFor(store)[op];
  if (loop === undefined) throw new Error(`unknown op ${op}`);
  builds.push({ label, loop, samples: [], close: () => (store.close(), Store.unlink(name)) });
}
const N = 500_000;
let sink = 0;
for (const b of builds) sink += b.loop(N); // warm-up
for (let round = 0; round < 12; round++) {
  for (const b of round % 2 === 0 ? builds : [...builds].reverse()) {
    const start = process.hrtime.bigint();
    sink += b.loop(N);
    b.samples.push(Number(process.hrtime.bigint() - start) / N);
  }
}
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
const [a, b] = builds.map((x) => median(x.samples)) as [number, number];
console.log(`${op}: A ${a.toFixed(1)} ns/op, B ${b.toFixed(1)} ns/op, B/A ${(b / a).toFixed(2)} (checksum ${sink})`);
builds.forEach((x) => x.close());
