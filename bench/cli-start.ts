/**
 * How long a one-shot `splinter` command takes, beside a bare `node -e ''` in the same run (issue
 * #26: within 40 ms of it). Each round runs every row once, in turn, so that load from elsewhere
 * falls on all rows alike; the wall time is from spawn to exit, as a shell sees it. It runs the
 * installed entry point (package.json's bin over dist/): `npm run build` first.
 *
 * `npx tsx bench/cli-start.ts [ROOT]`; `BENCH_CLI_RUNS` (30) rounds, after 3 unrecorded (which also
 * fill the code cache, as any earlier run of the command would); the last line is JSON. ROOT, another
 * built copy of the package (e.g. an older commit, `git archive` and `npm run build` there), adds its
 * rows to the same rounds, marked "ROOT:", for a before/after in one run. BENCH_CLI_NODE, another
 * node binary (e.g. Node 22 or 24), runs every row, bare node included, instead of this one.
 * The row "get, no code cache" is a get with NODE_DISABLE_COMPILE_CACHE=1: what the cache saves.
 * Beside the wall time, each row's CPU time (user + system, all its threads, from process.cpuUsage()
 * at exit, through a --require preload every row gets, bare node included): less moved by load from
 * elsewhere than the wall time, which includes waiting for a core.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The launcher a package's `splinter` command runs. */
function launcherOf(packageRoot: string): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { bin: { splinter: string } };
  return path.join(packageRoot, pkg.bin.splinter);
}

const bin = launcherOf(root);
const node = process.env['BENCH_CLI_NODE'] || process.execPath;
const other = process.argv[2] === undefined ? undefined : path.resolve(process.argv[2]);
const RUNS = Math.max(20, Number(process.env['BENCH_CLI_RUNS'] ?? 30));
const WARMUP = 3;
const store = `bench-cli-start-${process.pid}`;
const storePath = path.join('/dev/shm', store);

interface Row {
  name: string;
  argv: string[];
  env?: Record<string, string>;
}

/** The one-shot commands, run by the launcher `launcher`. */
function commandRows(launcher: string, label: string): Row[] {
  return [
    { name: `${label}splinter --version`, argv: [launcher, '--version'] },
    { name: `${label}splinter get KEY`, argv: [launcher, 'get', 'greeting', '--use', store] },
    { name: `${label}splinter get KEY, no code cache`, argv: [launcher, 'get', 'greeting', '--use', store], env: { NODE_DISABLE_COMPILE_CACHE: '1' } },
    { name: `${label}splinter set KEY VALUE`, argv: [launcher, 'set', 'counter', '42', '--use', store] },
    { name: `${label}splinter list`, argv: [launcher, 'list', '--use', store] },
    { name: `${label}splinter stats`, argv: [launcher, 'stats', '--use', store] },
  ];
}

const ROWS: Row[] = [
  { name: "node -e ''", argv: ['-e', ''] },
  ...commandRows(bin, ''),
  ...(other === undefined ? [] : commandRows(launcherOf(other), `${other}: `)),
];

const cpuPreload = path.join(os.tmpdir(), `bench-cli-start-cpu-${process.pid}.cjs`);
const CPU_MARK = 'bench-cli-start cpu µs ';

/** One run's wall time and CPU time in ms; a failing command ends the bench (a fast failure is no figure). */
function timeOnce(row: Row): { wall: number; cpu: number } {
  const start = process.hrtime.bigint();
  const env = row.env === undefined ? process.env : { ...process.env, ...row.env };
  const result = spawnSync(node, ['--require', cpuPreload, ...row.argv], { encoding: 'utf8', env });
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${row.name} exited ${result.status}: ${result.stderr}`);
  const mark = result.stderr.lastIndexOf(CPU_MARK);
  if (mark < 0) throw new Error(`${row.name}: no CPU time reported: ${result.stderr}`);
  return { wall, cpu: Number.parseInt(result.stderr.slice(mark + CPU_MARK.length), 10) / 1000 };
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function run(args: string[]): void {
  const result = spawnSync(node, [bin, ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`splinter ${args.join(' ')}: ${result.stderr}`);
}

if (!fs.existsSync(path.join(root, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run npm run build first');
fs.writeFileSync(cpuPreload, `process.on('exit', () => { const u = process.cpuUsage(); require('node:fs').writeSync(2, ${JSON.stringify(CPU_MARK)} + (u.user + u.system) + '\\n'); });\n`);
const loadBefore = os.loadavg()[0]!;
run(['init', store, '--slots', '1024', '--max-value', '4096']);
try {
  run(['set', 'greeting', 'hello', '--use', store]);
  const times = ROWS.map(() => [] as number[]);
  const cpuTimes = ROWS.map(() => [] as number[]);
  for (let round = 0; round < WARMUP + RUNS; round++) {
    ROWS.forEach((row, i) => {
      const { wall, cpu } = timeOnce(row);
      if (round >= WARMUP) {
        times[i]!.push(wall);
        cpuTimes[i]!.push(cpu);
      }
    });
  }
  const loadAfter = os.loadavg()[0]!;
  const figures = ROWS.map((row, i) => {
    const sorted = [...times[i]!].sort((a, b) => a - b);
    const cpu = [...cpuTimes[i]!].sort((a, b) => a - b);
    return { name: row.name, median: quantile(sorted, 0.5), p90: quantile(sorted, 0.9), cpu: quantile(cpu, 0.5) };
  });
  const bare = figures[0]!;
  const round2 = (x: number): number => Math.round(x * 100) / 100;
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(`node ${version}, ${os.cpus().length} cores, ${RUNS} runs per row, load average ${loadBefore.toFixed(2)} → ${loadAfter.toFixed(2)}`);
  const width = Math.max(...figures.map((f) => f.name.length)) + 2;
  console.log(`${'row'.padEnd(width)}median ms   p90 ms   over bare node   CPU median ms   CPU over bare node`);
  for (const f of figures) {
    const over = f === bare ? '' : `${(f.median - bare.median).toFixed(1)} ms`;
    const cpuOver = f === bare ? '' : `${(f.cpu - bare.cpu).toFixed(1)} ms`;
    console.log(
      `${f.name.padEnd(width)}${f.median.toFixed(1).padStart(9)} ${f.p90.toFixed(1).padStart(8)}   ${over.padStart(14)}   ${f.cpu.toFixed(1).padStart(13)}   ${cpuOver.padStart(18)}`,
    );
  }
  const rows = figures.map((f) => ({
    name: f.name,
    medianMs: round2(f.median),
    p90Ms: round2(f.p90),
    overBareMs: round2(f.median - bare.median),
    cpuMedianMs: round2(f.cpu),
    cpuOverBareMs: round2(f.cpu - bare.cpu),
  }));
  console.log(JSON.stringify({ bench: 'cli-start', node: version, cores: os.cpus().length, runs: RUNS, load: [round2(loadBefore), round2(loadAfter)], rows }));
} finally {
  fs.rmSync(storePath, { force: true });
  fs.rmSync(cpuPreload, { force: true });
}
