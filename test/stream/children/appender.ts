/**
 * Child process: appends `count` texts "child <i>" (i = 1..count) to stream argv[3] of store
 * argv[2], pausing argv[5] ms between them, then prints { last } (the last seq) as one JSON line.
 */
import { Store } from '../../../src/index.js';

const [target, name, count, pause] = process.argv.slice(2) as [string, string, string, string];
const store = Store.open(target);
const stream = store.stream(name);
let last = 0n;
for (let i = 1; i <= Number(count); i++) {
  last = stream.append(`child ${i}`);
  await new Promise((resolve) => setTimeout(resolve, Number(pause)));
}
process.stdout.write(`${JSON.stringify({ last: String(last) })}\n`);
store.close();
