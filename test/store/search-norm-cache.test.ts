/**
 * The norm cache of store.search (src/store/search/norm-cache.ts): a search reuses each slot's
 * squared norm while the slot holds the version it was read from. A C writer that unsets a key and
 * sets it again brings the slot's epoch (and hash) back to the cached values with another vector;
 * the cached norm must not be paired with the new vector's dot.
 */
import path from 'node:path';
import t from 'tap';
import { Store } from '../../src/index.js';
import { tempDir } from '../helpers/fixtures.js';
import { Peer } from '../helpers/peer.js';

const DIM = 768;
const hex = (v: Float32Array): string => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
const axis = (i: number, scale = 1): Float32Array => {
  const v = new Float32Array(DIM);
  v[i] = scale;
  return v;
};

t.test('a key C unset and set again to the same epoch is scored with its new norm', async (t) => {
  const file = path.join(tempDir(t), 'norms.spl');
  const peer = Peer.create(file, 256, 64, true);
  await peer.ready;
  t.teardown(() => peer.close());
  const send = async (op: Record<string, unknown>): Promise<void> => {
    t.equal((await peer.send(op)).rc, 0, `${String(op.op)} ${String(op.key)}`);
  };
  const value = Buffer.from('v').toString('hex');
  // Twenty decoys at cosine 0.6 with the query (axis 0).
  for (let n = 0; n < 20; n++) {
    const v = axis(1 + n);
    v[0] = 0.75; // cos = 0.75 / sqrt(0.75² + 1) = 0.6
    await send({ op: 'set', key: `decoy${n}`, value_hex: value });
    await send({ op: 'set_embedding', key: `decoy${n}`, vector_hex: hex(v) });
  }
  // The key: a long vector away from the query, written twice so its epoch is 6.
  await send({ op: 'set', key: 'k', value_hex: value });
  await send({ op: 'set_embedding', key: 'k', vector_hex: hex(axis(500, 100)) });
  await send({ op: 'set_embedding', key: 'k', vector_hex: hex(axis(500, 100)) });

  const store = Store.open(file);
  t.teardown(() => store.close());
  const q = axis(0);
  const first = store.search(q, { limit: 1 });
  t.not(first.hits[0]!.key, 'k', 'first search: a decoy is the best');
  const epoch = store.search(q, { limit: 30 }).hits.find((h) => h.key === 'k')!.epoch;

  // C's unset resets the epoch to 2; set and set_embedding bring it back to 6, now the query itself.
  t.ok((await peer.send({ op: 'unset', key: 'k' })).rc >= 0, 'unset k');
  await send({ op: 'set', key: 'k', value_hex: value });
  await send({ op: 'set_embedding', key: 'k', vector_hex: hex(axis(0)) });

  const again = store.search(q, { limit: 1 });
  t.equal(again.hits[0]!.key, 'k', 'the rewritten key is the best match');
  t.equal(again.hits[0]!.similarity, 1);
  t.equal(again.hits[0]!.epoch, epoch, 'its epoch came back to the one the first search read');
});
