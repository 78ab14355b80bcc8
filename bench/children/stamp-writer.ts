/**
 * Bench child: sets KEY to the monotonic time (8 bytes LE, ns) COUNT times, 2–6 ms apart,
 * after warming up (a long-running process runs optimised code; a fresh one interprets it).
 */
import { Store } from '../../src/index.js';

const [target, key, countText] = process.argv.slice(2);
const store = Store.open(target!);
const stamp = new Uint8Array(8);
const view = new DataView(stamp.buffer);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
await sleep(300); // let the watcher arm
for (let i = 0; i < 20_000; i++) store.set('warm-up', stamp); // the JIT optimises set; the watcher's checks warm too
await sleep(100);
for (let i = 0; i < Number(countText); i++) {
  await sleep(2 + Math.random() * 4);
  view.setBigUint64(0, process.hrtime.bigint(), true);
  store.set(key!, stamp);
}
store.close();
