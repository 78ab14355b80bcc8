/** Child process: opens a store by target and prints {key: value} of the keys it was given as JSON. */
import { Store } from '../../../src/index.js';

const [target, ...keys] = process.argv.slice(2);
const store = Store.open(target!);
const out: Record<string, string | null> = {};
for (const key of keys) out[key] = store.getString(key) ?? null;
store.close();
process.stdout.write(`${JSON.stringify(out)}\n`);
