/** Child process: a plain writer. Sets FIRST, says "ready", and on a line of stdin sets SECOND, says "done" and exits. */
import { Store } from '../../../src/index.js';

const [target, first, second] = process.argv.slice(2) as [string, string, string];
const store = Store.open(target);
store.set(first, 'one');
process.stdout.write('ready\n');
process.stdin.once('data', () => {
  store.set(second, 'two');
  store.close();
  process.stdout.write('done\n');
  process.exit(0);
});
