/** bench/keep.ts's writer: RATE sets per second over KEYS keys, and the key "clock" set to Date.now() every millisecond or so. */
import { Store } from '../../src/index.js';

const [name, rateText, keysText] = process.argv.slice(2) as [string, string, string];
const store = Store.open(name);
const rate = Number(rateText);
const keys = Array.from({ length: Number(keysText) }, (_, i) => `w:${i}`);
const value = new Uint8Array(32).fill(0x61);
let written = 0;
const started = Date.now();
process.stdout.write('ready\n');
const tick = (): void => {
  const due = Math.floor(((Date.now() - started) * rate) / 1000);
  const until = Math.min(due, written + 20_000);
  while (written < until) store.set(keys[written++ % keys.length]!, value);
  store.set('clock', String(Date.now()));
  setTimeout(tick, 1);
};
tick();
process.on('SIGTERM', () => {
  process.stdout.write(`written ${written} in ${Date.now() - started} ms\n`);
  process.exit(0);
});
