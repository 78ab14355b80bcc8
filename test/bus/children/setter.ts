/** Child process: after a delay, sets each KEY=VALUE in order (with a pause between), then exits. */
import { Store } from '../../../src/index.js';

const [target, delayMs, ...pairs] = process.argv.slice(2);
const store = Store.open(target!);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
await sleep(Number(delayMs));
for (const pair of pairs) {
  const eq = pair.indexOf('=');
  store.set(pair.slice(0, eq), pair.slice(eq + 1));
  await sleep(20);
}
store.close();
