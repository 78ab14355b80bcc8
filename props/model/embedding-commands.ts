/** Model-test steps on embeddings (docs/spec/FORMAT.md §3, §7; docs/slot-features.md). */
import { unhex } from '../lib/layout.js';
import { equal, expectPeer, expectThrows, fail, type Real } from './checks.js';
import { show } from './display.js';
import { note, ran } from './reach.js';
import { embeddingBytes, embeddingFor, type Side, type SlotModel } from './slot-model.js';
import { KeyStep, type KeySource } from './step.js';

/**
 * setEmbedding / set_embedding with the peer's rule v[i] = float32(seed + i × 0.25), which ours
 * uses too so the model knows the bytes: slot epoch +2, global +1, no pulse; a missing key is
 * ENOENT (ours) / -1 ENOENT (C). Without embeddings ours throws ENOTSUP and C answers -1 ENOTSUP.
 */
export class EmbeddingSetCmd extends KeyStep {
  constructor(side: Side, source: KeySource, readonly seed: number) {
    super(side, source);
  }
  protected describe(): string {
    return `setEmbedding(${this.shownKey}, seed ${this.seed})`;
  }
  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const what = this.toString();
    const vector = embeddingFor(this.seed);
    const call = (): void => r.store.setEmbedding(this.key, vector);
    if (!m.geo.embeddings) {
      if (this.side === 'ts') {
        note('ENOTSUP: setEmbedding ours (128-byte slots)');
        return expectThrows(what, call, ['ENOTSUP']);
      }
      return expectPeer(what, await r.peer.send({ op: 'set_embedding', key_hex: this.keyHex, seed: this.seed }), -1, 'ENOTSUP');
    }
    if (!this.valid) return expectThrows(what, call, ['EINVAL']);
    const index = m.find(this.bytes);
    if (this.side === 'ts') {
      if (index < 0) {
        note('ENOENT: setEmbedding ts');
        return expectThrows(what, call, ['ENOENT']);
      }
      call();
    } else {
      const answer = await r.peer.send({ op: 'set_embedding', key_hex: this.keyHex, seed: this.seed });
      if (index < 0) {
        note('ENOENT: setEmbedding c');
        return expectPeer(what, answer, -1, 'ENOENT');
      }
      expectPeer(what, answer, 0);
    }
    ran('setEmbedding', this.side);
    m.setEmbedding(index, embeddingBytes(vector));
  }
}

/** getEmbedding (ours: a Float32Array copy, undefined when missing) / get_embedding (C: vector_hex, -1 ENOENT). */
export class EmbeddingGetCmd extends KeyStep {
  protected describe(): string {
    return `${this.side === 'ts' ? 'getEmbedding' : 'get_embedding'}(${this.shownKey})`;
  }
  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const what = this.toString();
    const call = (): Float32Array | undefined => r.store.getEmbedding(this.key);
    if (!m.geo.embeddings) {
      if (this.side === 'ts') return expectThrows(what, call, ['ENOTSUP']);
      return expectPeer(what, await r.peer.send({ op: 'get_embedding', key_hex: this.keyHex }), -1, 'ENOTSUP');
    }
    if (!this.valid) return expectThrows(what, call, ['EINVAL']);
    const index = m.find(this.bytes);
    const expected = index >= 0 ? m.slots[index]!.embedding : undefined;
    if (expected?.some((b) => b !== 0)) note('getEmbedding: a non-zero vector');
    if (this.side === 'ts') {
      const vector = call();
      if (vector !== undefined && !(vector instanceof Float32Array && vector.length === 768)) fail(`${what}: not a Float32Array of 768 values: ${show(vector)}`);
      equal(what, vector && embeddingBytes(vector), expected);
    } else {
      const answer = await r.peer.send({ op: 'get_embedding', key_hex: this.keyHex });
      if (expected === undefined) return expectPeer(what, answer, -1, 'ENOENT');
      expectPeer(what, answer, 0);
      equal(what, unhex(String(answer['vector_hex'])), expected);
    }
    if (expected !== undefined) ran('getEmbedding', this.side);
  }
}
