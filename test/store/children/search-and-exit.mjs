// Searches a large shared store until its search worker is in use, then closes the store (argv "close") or not, and falls off the end.
// The built package (dist/): a worker thread cannot load TypeScript sources under `node --import tsx`.
import { Store } from '../../../dist/index.js';

const store = Store.createShared({ slots: 20_000, maxValueSize: 8, embeddings: true });
store.set('a', 'x');
store.setEmbedding('a', new Float32Array(768).fill(1));
const pool = () => store.searchPool;
store.search(new Float32Array(768).fill(1), { limit: 1, parallel: true });
const deadline = Date.now() + 100_000;
while (pool()?.ready !== true && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
console.log(`worker ready: ${pool()?.ready === true}`, store.search(new Float32Array(768).fill(1), { limit: 1, parallel: true }).hits[0]?.key);
if (process.argv[2] === 'close') store.close();
