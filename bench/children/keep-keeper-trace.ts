/** bench/keep.ts with KEEP_TRACE=1: its keeper, printing the spacing and duration of its copies at SIGTERM (STORE FILE INTERVAL [SYNC]). */
import { keep } from '../../src/keep/index.js';
const [store, file, interval, sync] = process.argv.slice(2) as [string, string, string, string | undefined];
const starts: number[] = []; const durs: number[] = []; const copied: number[] = [];
const keeper = keep({ store, persist: file, interval: Number(interval), sync: sync === undefined ? undefined : Number(sync), onEvent: (e) => { if (e.type === 'persisted') { starts.push(e.startedAt); durs.push(Date.now() - e.startedAt); copied.push(e.copied); } } });
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  const gaps = starts.slice(1).map((s, i) => s - starts[i]!).sort((a, b) => a - b);
  const d = [...durs].sort((a, b) => a - b);
  const q = (a: number[], p: number) => a[Math.min(a.length - 1, Math.floor((a.length * p) / 100))];
  process.stderr.write(`passes ${starts.length} gap p50 ${q(gaps, 50)} p99 ${q(gaps, 99)} max ${gaps.at(-1)}; dur p50 ${q(d, 50)} p99 ${q(d, 99)} max ${d.at(-1)}; copied p50 ${q([...copied].sort((a,b)=>a-b), 50)}\n`);
  void keeper.close().then(() => process.exit(0));
});
