/**
 * Torn reads: another process rewrites vectors while searches run. Every vector it writes is uniform
 * (all 768 components one integer), so each possible score is known; a result read from a vector
 * half old and half new would score something else.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import t from 'tap';
import { Store } from '../../src/index.js';
import { repoRoot, tempDir } from '../helpers/fixtures.js';

t.setTimeout(120_000);
const DIM = 768;
const f = Math.fround;
const KEYS = 48;

/** C's scores for the all-ones query against a uniform vector of c (written here, from C's formula). */
function uniformScores(c: number): string {
  let dot = 0, qq = 0, vv = 0, dd = 0;
  for (let i = 0; i < DIM; i++) {
    dot = f(dot + c);
    qq = f(qq + 1);
    vv = f(vv + f(c * c));
    dd = f(dd + f(f(1 - c) * f(1 - c)));
  }
  const norms = f(f(Math.sqrt(qq)) * f(Math.sqrt(vv)));
  return `${f(dot / norms)} ${f(Math.sqrt(dd))}`;
}

t.test('searches during a writer’s rewrites never score a mixed vector', async (t) => {
  const file = path.join(tempDir(t), 'torn.spl');
  const store = Store.create(file, { slots: 128, maxValueSize: 16, embeddings: true }, { contentionBudgetMs: 2000 });
  t.teardown(() => store.close());
  const ones = new Float32Array(DIM).fill(1);
  for (let i = 0; i < KEYS; i++) {
    store.set(`v/${i}`, 'x');
    store.setEmbedding(`v/${i}`, ones);
  }
  const valid = new Set<string>();
  for (let c = 1; c <= 50; c++) valid.add(uniformScores(c));
  const writer = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test/store/children/embedding-rewriter.ts'), file, String(KEYS), '4'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  writer.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => writer.on('exit', resolve));
  // Wait until the writer has started rewriting, then search for as long as it writes.
  const started = Date.now();
  while (store.search(ones, { limit: 1 }).hits[0]!.distance === 0 && Date.now() - started < 60_000) await new Promise((r) => setTimeout(r, 10));
  let searches = 0;
  let hitsSeen = 0;
  let bad = 0;
  let busy = 0;
  let done = false;
  void exited.then(() => (done = true));
  while (!done) {
    for (const limit of [5, undefined]) {
      const { hits, skipped } = store.search(ones, limit === undefined ? {} : { limit });
      searches++;
      busy += skipped.busy.length;
      for (const h of hits) {
        hitsSeen++;
        if (!valid.has(`${h.similarity} ${h.distance}`) || (h.epoch & 1n) === 1n) bad++;
      }
    }
    await new Promise((r) => setImmediate(r));
  }
  t.equal(await exited, 0, 'the writer ran to its end');
  t.ok(Number(out) > 1000, `the writer rewrote vectors (${out.trim()})`);
  t.ok(searches > 20, `searches ran meanwhile (${searches}, ${hitsSeen} hits, ${busy} busy slots reported)`);
  t.equal(bad, 0, 'no hit scored a vector that was never written whole');
});
