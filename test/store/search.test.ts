/**
 * store.search against C: stores the C peer wrote (labels, empty embeddings, zero vectors, exact and
 * near ties), ranked by the peer's own float32 loop (the `search` command) and by a reference of
 * C's formula written here, independently of src/.
 */
import path from 'node:path';
import t from 'tap';
import { Store, type SearchHit, type SearchOptions } from '../../src/index.js';
import type { Test } from '../helpers/assert.js';
import { tempDir } from '../helpers/fixtures.js';
import { Peer } from '../helpers/peer.js';
import { seededRandom } from '../helpers/random.js';

const DIM = 768;
const f = Math.fround;

const random = seededRandom;

function vector(next: () => number): Float32Array {
  const v = new Float32Array(DIM);
  for (let i = 0; i < DIM; i++) v[i] = next() * 2 - 1;
  return v;
}

const hex = (v: Float32Array): string => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
const bitsOf = (x: number): number => new Uint32Array(new Float32Array([x]).buffer)[0]!;

/** C's search formula as its source describes it: float32 steps in index order. */
function reference(q: Float32Array, v: Float32Array): { sim: number; dist: number } {
  let dot = 0, qq = 0, vv = 0, dd = 0;
  for (let i = 0; i < DIM; i++) {
    dot = f(dot + f(q[i]! * v[i]!));
    qq = f(qq + f(q[i]! * q[i]!));
    vv = f(vv + f(v[i]! * v[i]!));
  }
  for (let i = 0; i < DIM; i++) {
    const d = f(q[i]! - v[i]!);
    dd = f(dd + f(d * d));
  }
  const norms = f(f(Math.sqrt(qq)) * f(Math.sqrt(vv)));
  return { sim: norms < f(1e-9) ? 0 : f(dot / norms), dist: f(Math.sqrt(dd)) };
}

interface Entry { key: string; vector: Float32Array; labels: bigint }

/** The reference ranking over the entries (slot order given by `order`). */
function referenceRanking(entries: Entry[], order: string[], q: Float32Array, o: SearchOptions): Array<{ key: string; sim: number; dist: number }> {
  const bySlot = order.map((key) => entries.find((e) => e.key === key)!);
  const scored = bySlot
    .filter((e) => o.labels === undefined || (e.labels & o.labels) === o.labels)
    .filter((e) => !(o.keys instanceof RegExp) || o.keys.test(e.key))
    .map((e, slot) => ({ key: e.key, slot, ...reference(q, e.vector) }))
    .filter((r) => o.minSimilarity === undefined || r.sim >= f(o.minSimilarity))
    .filter((r) => o.maxDistance === undefined || r.dist <= f(o.maxDistance));
  scored.sort((a, b) => b.sim - a.sim || a.dist - b.dist || a.slot - b.slot);
  return scored.slice(0, o.limit ?? scored.length);
}

async function peerStore(t: Test, entries: Entry[]): Promise<{ peer: Peer; file: string }> {
  const file = path.join(tempDir(t), 'search.spl');
  const peer = Peer.create(file, 1024, 64, true);
  await peer.ready;
  for (const e of entries) {
    t.equal((await peer.send({ op: 'set', key: e.key, value_hex: Buffer.from(`value of ${e.key}`).toString('hex') })).rc, 0);
    if (e.vector.some((x) => x !== 0)) t.equal((await peer.send({ op: 'set_embedding', key: e.key, vector_hex: hex(e.vector) })).rc, 0);
    if (e.labels !== 0n) t.equal((await peer.send({ op: 'set_label', key: e.key, mask: e.labels.toString() })).rc, 0);
  }
  return { peer, file };
}

interface PeerHit { key: string; similarity_bits: number; distance_bits: number }

async function peerSearch(peer: Peer, q: Float32Array, o: SearchOptions): Promise<{ results: PeerHit[]; active: number }> {
  const answer = await peer.send({
    op: 'search',
    query_hex: hex(q),
    ...(o.labels !== undefined ? { mask: o.labels.toString() } : {}),
    ...(o.limit !== undefined ? { limit: o.limit } : {}),
    ...(o.minSimilarity !== undefined ? { min_similarity: o.minSimilarity } : {}),
    ...(o.maxDistance !== undefined ? { max_distance: o.maxDistance } : {}),
  });
  return { results: answer['results'] as PeerHit[], active: answer['active'] as number };
}

function sameRanking(t: Test, hits: SearchHit[], want: Array<{ key: string; sim: number; dist: number }>, peer: PeerHit[] | undefined, what: string): void {
  t.same(hits.map((h) => h.key), want.map((w) => w.key), `${what}: the reference's order`);
  t.same(hits.map((h) => [h.similarity, h.distance]), want.map((w) => [w.sim, w.dist]), `${what}: the reference's scores, to the bit`);
  if (peer === undefined) return;
  t.same(hits.map((h) => h.key), peer.map((p) => p.key), `${what}: the C peer's order`);
  t.same(hits.map((h) => [bitsOf(h.similarity), bitsOf(h.distance)]), peer.map((p) => [p.similarity_bits, p.distance_bits]), `${what}: the C peer's float32 scores`);
}

t.test('rankings equal C formula and C peer on a store C wrote', async (t) => {
  const next = random(25);
  const entries: Entry[] = [];
  for (let i = 0; i < 300; i++) entries.push({ key: `mem/${i}`, vector: vector(next), labels: BigInt(i % 4) });
  const base = entries[7]!.vector;
  entries.push({ key: 'twin/a', vector: new Float32Array(base), labels: 1n }); // exact tie with mem/7 and twin/b
  entries.push({ key: 'twin/b', vector: new Float32Array(base), labels: 1n });
  const nudged = new Float32Array(base);
  nudged[100] = f(nudged[100]! * (1 + 2 ** -22)); // a near tie: differs from base in the last bits
  entries.push({ key: 'near/one', vector: nudged, labels: 3n });
  entries.push({ key: 'scaled/two', vector: base.map((x) => x * 2), labels: 0n }); // same direction, farther
  entries.push({ key: 'none/no-embedding', vector: new Float32Array(DIM), labels: 2n }); // never embedded: zeros
  const { peer, file } = await peerStore(t, entries);
  const store = Store.open(file);
  t.teardown(() => store.close());
  const order = store.keys() as string[];
  const queries = [base, vector(next), nudged];
  const cases: SearchOptions[] = [
    {},
    { limit: 10 },
    { limit: 1 },
    { limit: 5, labels: 1n },
    { limit: 8, labels: 3n },
    { keys: /^(twin|near|mem\/1)/, limit: 12 },
    { minSimilarity: 0.05 },
    { maxDistance: 31.5, limit: 20 },
    { minSimilarity: 0.02, maxDistance: 32, limit: 7 },
  ];
  for (const [qi, q] of queries.entries()) {
    for (const o of cases) {
      const what = `query ${qi} ${JSON.stringify(o, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof RegExp ? String(v) : v))}`;
      const { hits, skipped, matched } = store.search(q, o);
      t.same(skipped, { busy: [], nonFinite: [] }, `${what}: nothing skipped`);
      // The peer takes C's filters (no regex); those cases are checked against the reference only.
      const c = o.keys === undefined ? await peerSearch(peer, q, o) : undefined;
      const want = referenceRanking(entries, order, q, { ...o, limit: undefined });
      t.equal(matched, want.length, `${what}: matched counts every hit before the limit`);
      if (c !== undefined) t.equal(matched, c.active, `${what}: matched is the C peer's active count`);
      sameRanking(t, hits, want.slice(0, o.limit ?? want.length), c?.results, what);
    }
  }
  const full = store.search(base, { limit: 4 }).hits;
  const tied = ['mem/7', 'twin/a', 'twin/b'].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  t.same(full.map((h) => h.key), [...tied, 'near/one'], 'a full tie keeps slot order; the near tie comes after');
  const first = entries.find((e) => e.key === tied[0])!;
  t.equal(full[0]!.labels, first.labels, 'labels are reported');
  t.equal(full[0]!.length, `value of ${first.key}`.length, 'the value length is reported');
  t.ok(full[0]!.epoch > 0n, 'the epoch is reported');
  const zero = store.search(base, { keys: 'none/' }).hits;
  t.same(zero.map((h) => [h.key, h.similarity]), [['none/no-embedding', 0]], 'a slot never embedded scores 0, as C scores a zero vector');
  const byKey = store.search('mem/7', { limit: 3 });
  t.same(byKey.hits.map((h) => h.key), tied, 'a key as the query: its embedding');
  t.equal(await peer.close(), 0);
});

t.test('hostile input: no embeddings, bad queries, NaN and overflow in the store', async (t) => {
  const dir = tempDir(t);
  const plain = Store.create(path.join(dir, 'plain.spl'), { slots: 8, maxValueSize: 16 });
  t.throws(() => plain.search(new Float32Array(DIM)), { code: 'ENOTSUP' });
  plain.close();
  const store = Store.create(path.join(dir, 'emb.spl'), { slots: 16, maxValueSize: 16, embeddings: true });
  t.teardown(() => store.close());
  t.throws(() => store.search(new Float32Array(3)), { code: 'EINVAL' }, 'wrong dimension');
  const nan = new Float32Array(DIM);
  nan[5] = NaN;
  t.throws(() => store.search(nan), { code: 'EINVAL' }, 'a NaN query');
  t.throws(() => store.search(new Float64Array(DIM) as unknown as Float32Array), { code: 'EINVAL' }, 'not a Float32Array');
  t.throws(() => store.search(new Float32Array(DIM), { limit: 0 }), { code: 'EINVAL' });
  t.throws(() => store.search(new Float32Array(DIM), { minSimilarity: NaN }), { code: 'EINVAL' });
  t.throws(() => store.search(new Float32Array(DIM), { parallel: 'yes' as unknown as boolean }), { code: 'EINVAL' });
  t.throws(() => store.search('missing'), { code: 'ENOENT' });
  const ones = new Float32Array(DIM).fill(1);
  for (const [key, fill] of [['good', 1], ['nan', NaN], ['inf', Infinity], ['huge', 3e38]] as const) {
    store.set(key, 'v');
    store.setEmbedding(key, new Float32Array(DIM).fill(fill));
  }
  const { hits, skipped } = store.search(ones);
  t.same(hits.map((h) => [h.key, h.similarity, h.distance]), [['good', 1, 0]], 'only the finite score is ranked');
  t.same([...skipped.nonFinite].sort(), ['huge', 'inf', 'nan'], 'the others are reported, not dropped unseen');
  const aborted = AbortSignal.abort();
  t.throws(() => store.search(ones, { signal: aborted }), { name: 'AbortError' });
});
