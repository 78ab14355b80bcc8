/** Bench child: COUNT times, waits for PING to change and copies its value to PONG. */
import { Store } from '../../src/index.js';

const [target, ping, pong, countText, mode] = process.argv.slice(2);
const store = Store.open(target!);
const value = new Uint8Array(store.maxValueSize);
const changes = store.watch(ping!, { lowLatency: mode === 'lowLatency' });
process.stdout.write('ready\n');
let answered = 0;
for await (const change of changes) {
  void change;
  const length = store.getInto(ping!, value);
  store.set(pong!, value.subarray(0, length));
  if (++answered === Number(countText)) break;
}
store.close();
