/**
 * How long a one-shot `splinter` command takes, beside a bare `node -e ''` in the same run (issue
 * #26: within 40 ms of it). Each round runs every row once, in turn, so that load from elsewhere
 * falls on all rows alike; the wall time is from spawn to exit, as a shell sees it. It runs the
 * installed entry point (bin/splinter.mjs over dist/): `npm run build` first.
 *
 * `npx tsx bench/cli-start.ts [ROOT]`; `BENCH_CLI_RUNS` (30) rounds, after 3 unrecorded; the last line
 * is JSON. ROOT, another built copy of the package (e.g. an older commit, `git archive` and `npm run
 * build` there), adds its rows to the same rounds, marked "ROOT:", for a before/after in one run.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'splinter.mjs');
const other = process.argv[2] === undefined ? undefined : path.resolve(process.argv[2]);
const RUNS = Math.max(20, Number(process.env['BENCH_CLI_RUNS'] ?? 30));
const WARMUP = 3;
const store = `bench-cli-start-${process.pid}`;
const storePath = path.join('/dev/shm', store);

interface Row {
  name: string;
  argv: string[];
}

/** The one-shot commands, run by the launcher `launcher`. */
function commandRows(launcher: string, label: string): Row[] {
  return [
    { name: `${label}splinter --version`, argv: [launcher, '--version'] },
    { name: `${label}splinter get KEY`, argv: [launcher, 'get', 'greeting', '--use', store] },
    { name: `${label}splinter set KEY VALUE`, argv: [launcher, 'set', 'counter', '42', '--use', store] },
    { name: `${label}splinter list`, argv: [launcher, 'list', '--use', store] },
  ];
}

const ROWS: Row[] = [
  { name: "node -e ''", argv: ['-e', ''] },
  ...commandRows(bin, ''),
  ...(other === undefined ? [] : commandRows(path.join(other, 'bin', 'splinter.mjs'), `${other}: `)),
];

/** One run's wall time in ms; a failing command ends the bench (a fast failure is no figure). */
function timeOnce(row: Row): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, row.argv, { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${row.name} exited ${result.status}: ${result.stderr}`);
  return ms;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function run(args: string[]): void {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`splinter ${args.join(' ')}: ${result.stderr}`);
}

if (!fs.existsSync(path.join(root, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run npm run build first');
const loadBefore = os.loadavg()[0]!;
run(['init', store, '--slots', '1024', '--max-value', '4096']);
try {
  run(['set', 'greeting', 'hello', '--use', store]);
  const times = ROWS.map(() => [] as number[]);
  for (let round = 0; round < WARMUP + RUNS; round++) {
    ROWS.forEach((row, i) => {
      const ms = timeOnce(row);
      if (round >= WARMUP) times[i]!.push(ms);
    });
  }
  const loadAfter = os.loadavg()[0]!;
  const figures = ROWS.map((row, i) => {
    const sorted = [...times[i]!].sort((a, b) => a - b);
    return { name: row.name, median: quantile(sorted, 0.5), p90: quantile(sorted, 0.9) };
  });
  const bare = figures[0]!;
  const round2 = (x: number): number => Math.round(x * 100) / 100;
  console.log(`node ${process.version}, ${os.cpus().length} cores, ${RUNS} runs per row, load average ${loadBefore.toFixed(2)} → ${loadAfter.toFixed(2)}`);
  const width = Math.max(...figures.map((f) => f.name.length)) + 2;
  console.log(`${'row'.padEnd(width)}median ms   p90 ms   median over bare node`);
  for (const f of figures) {
    const over = f === bare ? '' : `${(f.median - bare.median).toFixed(1)} ms`;
    console.log(`${f.name.padEnd(width)}${f.median.toFixed(1).padStart(9)} ${f.p90.toFixed(1).padStart(8)}   ${over}`);
  }
  const rows = figures.map((f) => ({ name: f.name, medianMs: round2(f.median), p90Ms: round2(f.p90), overBareMs: round2(f.median - bare.median) }));
  console.log(JSON.stringify({ bench: 'cli-start', node: process.version, cores: os.cpus().length, runs: RUNS, load: [round2(loadBefore), round2(loadAfter)], rows }));
} finally {
  fs.rmSync(storePath, { force: true });
}
