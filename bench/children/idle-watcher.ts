/** Bench child: watches KEYS idle keys for SECONDS and prints the CPU it used meanwhile (% of one core). */
import { Store } from '../../src/index.js';

const [target, keysText, secondsText, mode] = process.argv.slice(2);
const store = Store.open(target!);
const keys = Array.from({ length: Number(keysText) }, (_, i) => `idle/${i}`);
const controller = new AbortController();
const changes = store.watch(keys, { signal: controller.signal, lowLatency: mode === 'lowLatency' });
let seen = 0;
const consumed = (async () => {
  for await (const change of changes) {
    void change;
    seen++;
  }
})();
// Steady state only: let start-up work (module loading, the JIT) settle for a second first.
await new Promise((resolve) => setTimeout(resolve, 1000));
const started = performance.now();
const cpu = process.cpuUsage();
setTimeout(() => controller.abort(), Number(secondsText) * 1000);
// The signal ends the watch: its iterator rejects with an AbortError, the expected end.
await consumed.catch((error: unknown) => {
  if (!(error instanceof Error && error.name === 'AbortError')) throw error;
});
const used = process.cpuUsage(cpu);
const wall = performance.now() - started;
store.close();
process.stdout.write(`${JSON.stringify({ cpuPercent: ((used.user + used.system) / 1000 / wall) * 100, changes: seen })}\n`);
