/**
 * A process rewriting embeddings nonstop: argv STORE KEYS SECONDS. Key v/N gets a vector whose 768
 * components all equal one integer 1..50 (a vector that checks itself: any mix of two is not uniform).
 * Prints how many vectors it wrote.
 */
import { Store } from '../../../src/index.js';

const [target, keys, seconds] = process.argv.slice(2);
const store = Store.open(target!, { contentionBudgetMs: 5000 });
const n = Number(keys);
const vector = new Float32Array(768);
const until = performance.now() + Number(seconds) * 1000;
let written = 0;
while (performance.now() < until) {
  vector.fill(1 + (written % 50));
  store.setEmbedding(`v/${written % n}`, vector);
  written++;
}
store.close();
console.log(written);
