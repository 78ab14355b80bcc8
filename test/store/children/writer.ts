/** Child process: opens a store by target, sets KEY=VALUE pairs from argv, prints "done". */
import { Store } from '../../../src/index.js';

const [target, ...pairs] = process.argv.slice(2);
const store = Store.open(target!);
for (const pair of pairs) {
  const eq = pair.indexOf('=');
  store.set(pair.slice(0, eq), pair.slice(eq + 1));
}
store.close();
process.stdout.write('done\n');
