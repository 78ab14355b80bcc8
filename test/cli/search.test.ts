/**
 * `splinter search` against C's `search` on a store the C peer wrote: the table and JSON built from
 * the peer's own scoring loop and printf, with a fake embedding process answering the scratch key
 * (it gives the query the embedding of the key the query text names).
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { isSplinterError, Store } from '../../src/index.js';
import { fixed4 } from '../../src/cli/search-format.js';
import type { Test } from '../helpers/assert.js';
import { tempDir } from '../helpers/fixtures.js';
import { Peer } from '../helpers/peer.js';
import { cliAsync } from './helpers.js';

t.setTimeout(600_000);
const DIM = 768;

function vectorOf(seed: number): Float32Array {
  const v = new Float32Array(DIM);
  let a = seed >>> 0;
  for (let i = 0; i < DIM; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    v[i] = a / 2 ** 31 - 1;
  }
  return v;
}
const hex = (b: ArrayBufferView): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

interface PeerHit { key: string; similarity: string; distance: string }

async function peerStore(t: Test): Promise<{ file: string; peer: Peer; store: Store }> {
  const file = path.join(tempDir(t), 'search.spl');
  const peer = Peer.create(file, 256, 64, true);
  t.teardown(() => peer.kill()); // a subtest that failed before its close leaves no process behind
  await peer.ready;
  for (let i = 0; i < 40; i++) {
    const key = `note/${i}`;
    t.equal((await peer.send({ op: 'set', key, value_hex: hex(Buffer.from(`text ${i}`)) })).rc, 0);
    t.equal((await peer.send({ op: 'set_embedding', key, vector_hex: hex(vectorOf(i % 30)) })).rc, 0); // 30..39 tie with 0..9
    if (i % 3 === 0) await peer.send({ op: 'set_label', key, mask: '4' });
  }
  await peer.send({ op: 'set', key: 'plain', value_hex: hex(Buffer.from('no vector')) }); // zeros: similarity 0
  const store = Store.open(file);
  t.teardown(() => store.close());
  return { file, peer, store };
}

/** The fake embedding process: answers each scratch key with the embedding of the key its text names. */
function fakeEmbedder(store: Store): () => void {
  const answered = new Map<string, bigint>();
  const timer = setInterval(() => {
    for (const { key, epoch } of store.enumerateMatches(1n)) {
      if (typeof key !== 'string' || !key.startsWith('__sqtmp_') || answered.get(key) === epoch) continue;
      try {
        const text = store.get(key);
        if (text === undefined) continue;
        const vector = store.getEmbedding(Buffer.from(text).toString('utf8').trim());
        if (vector === undefined) continue;
        store.setEmbedding(key, vector);
        // The epoch this answer made (a write moves it by 2), not a later read of it: a bump the CLI
        // made right after this answer is a new question, and is answered too.
        answered.set(key, epoch + 2n);
      } catch (error) {
        // The CLI is writing the scratch key right now (its slot is odd): the next tick looks again, as a real embedder would.
        if (!isSplinterError(error, 'EAGAIN')) throw error;
      }
    }
  }, 5);
  return () => clearInterval(timer);
}

/** The table C prints for these hits (its printf's numbers from the peer, the rest from the slot). */
function cTable(store: Store, hits: PeerHit[]): string {
  const pad = (s: string, n: number): string => s.padEnd(n);
  const types: Record<number, string> = { 1: 'SPL_SLOT_TYPE_VOID', 128: 'SPL_SLOT_TYPE_VARTEXT' };
  const lines = [`${pad('Name', 44)} ${pad('Similarity', 10)} ${pad('Distance', 10)} ${pad('Epoch', 6)} ${pad('Len', 6)} Type`];
  for (const h of hits) {
    const s = store.slotSnapshot(h.key)!;
    lines.push(`${pad(h.key, 44)} ${pad(h.similarity, 10)} ${pad(h.distance, 10)} ${pad(String(s.epoch), 6)} ${pad(String(s.valueLength), 6)} ${types[s.typeFlag]}`);
  }
  return `${lines.join('\n')}\n\n`;
}

t.test('text queries through the scratch key print what C prints', async (t) => {
  const { file, peer, store } = await peerStore(t);
  const stop = fakeEmbedder(store);
  t.teardown(stop);
  const q = hex(vectorOf(7));
  for (const [args, c] of [
    [['--limit', '5'], { limit: 5 }],
    [['--limit', '6', '--bloom', '4'], { limit: 6, mask: '4' }],
    [['--similarity', '0.05'], { min_similarity: 0.05 }],
    [['--distance', '22', '--limit', '8'], { max_distance: 22, limit: 8 }],
    [[], {}],
  ] as const) {
    const want = (await peer.send({ op: 'search', query_hex: q, ...c })) as unknown as { results: PeerHit[]; active: number };
    const run = await cliAsync(['--use', file, 'search', 'note/7', '--wait', '60000', ...args], { timeout: 120_000 }); // a loaded machine may be slow to answer
    t.equal(run.stderr, '', `${args.join(' ')}: no warnings`);
    t.equal(run.code, 0);
    t.equal(run.stdout, cTable(store, want.results), `${args.join(' ')}: C's table, row for row`);
    const json = await cliAsync(['--use', file, '--json', 'search', 'note/7', '--wait', '60000', ...args], { timeout: 120_000 });
    t.equal(json.code, 0, `--json ${args.join(' ')}: exit 0 ${json.stderr}`);
    const doc = JSON.parse(json.stdout) as { query: string; store: { total_slots: number; active_keys: number }; results: Array<Record<string, unknown>> };
    t.same(doc.store, { total_slots: 256, active_keys: want.active }, `${args.join(' ')}: C's store block`);
    t.equal(doc.query, 'note/7');
    t.same(doc.results.map((r) => [r['key'], r['similarity'], r['distance'], r['has_embedding']]), want.results.map((h) => [h.key, Number(h.similarity), Number(h.distance), true]));
    t.match(json.stdout, /"similarity": -?\d+\.\d{4},/, 'numbers printed as %.4f');
  }
  const like = await cliAsync(['--use', file, 'search', '--like', 'note/7', '--limit', '4']);
  const vectorFile = path.join(path.dirname(file), 'q.json');
  fs.writeFileSync(vectorFile, JSON.stringify([...vectorOf(7)]));
  const vector = await cliAsync(['--use', file, 'search', '--vector', vectorFile, '--limit', '4']);
  const text = await cliAsync(['--use', file, 'search', 'note/7', '--wait', '60000', '--limit', '4']);
  t.equal(like.stdout, text.stdout, '--like KEY ranks as the text whose embedding is that key’s');
  t.equal(vector.stdout, text.stdout, '--vector FILE too');
  t.same(store.keys().filter((k) => typeof k === 'string' && k.startsWith('__sqtmp_')), [], 'the scratch keys are gone');
  t.equal(await peer.close(), 0);
});

t.test('no embedding process: C’s warnings, and unscored keys only with a filter', async (t) => {
  const { file, peer, store } = await peerStore(t);
  const bare = await cliAsync(['--use', file, 'search', 'anything', '--wait', '300']);
  t.equal(bare.code, 0);
  t.equal(bare.stdout, '');
  t.equal(
    bare.stderr,
    'search: warning: splinference timed out; embedding scoring unavailable.\nsearch: splinference unavailable and no regex/bloom filter; no results.\n',
  );
  const filtered = await cliAsync(['--use', file, 'search', 'anything', '--wait', '300', '--regex', '^note/1[0-2]$']);
  t.equal(filtered.stderr, 'search: warning: splinference timed out; embedding scoring unavailable.\n');
  const rows = filtered.stdout.trim().split('\n').slice(1);
  t.same(rows.map((r) => r.split(/\s+/).slice(0, 3)).sort(), [['note/10', '-', '-'], ['note/11', '-', '-'], ['note/12', '-', '-']]);
  const json = JSON.parse((await cliAsync(['--use', file, '--json', 'search', 'x', '--wait', '100', '--bloom', '4', '--limit', '2'])).stdout) as {
    store: { active_keys: number };
    results: Array<{ similarity: null; has_embedding: boolean }>;
  };
  t.equal(json.store.active_keys, 14, 'every key with label 0x4');
  t.same(json.results.map((r) => [r.similarity, r.has_embedding]), [[null, false], [null, false]]);
  t.same(store.keys().filter((k) => typeof k === 'string' && k.startsWith('__sqtmp_')), [], 'the scratch key is gone');
  t.equal(await peer.close(), 0);
});

t.test('usage errors and hostile files', async (t) => {
  const { file, peer } = await peerStore(t);
  const both = await cliAsync(['--use', file, 'search', 'q', '--file', 'x']);
  t.equal(both.code, 2);
  t.match(both.stderr, /mutually exclusive/);
  t.equal((await cliAsync(['--use', file, 'search'])).code, 2);
  const junk = path.join(path.dirname(file), 'junk.bin');
  fs.writeFileSync(junk, Buffer.alloc(100, 1));
  const bad = await cliAsync(['--use', file, 'search', '--vector', junk]);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /JSON array of 768 numbers or 3072 bytes/);
  t.match((await cliAsync(['--use', file, 'search', '--like', 'missing'])).stderr, /no such key/);
  t.equal((await cliAsync(['--use', file, 'search', '--like', 'note/1', '--regex', '('])).code, 2);
  t.equal(await peer.close(), 0);
});

t.test('%.4f as printf prints it: exact ties to even, large values in full', async (t) => {
  t.equal(fixed4(0.03125), '0.0312');
  t.equal(fixed4(0.09375), '0.0938');
  t.equal(fixed4(-0.03125), '-0.0312');
  t.equal(fixed4(Math.fround(3e38)), '300000000549775575777803994281145270272.0000');
  t.equal(fixed4(0.5), '0.5000');
  t.equal(fixed4(Math.fround(0.1)), '0.1000');
});
