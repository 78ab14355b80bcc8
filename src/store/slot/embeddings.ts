/** 768-float embeddings stored after the key in stores built with embeddings (3200-byte slots). */
import { describe, SplinterError } from '../../errors.js';
import { SLOT, SPLINTER_EMBED_DIM } from '../../layout/constants.js';
import type { KvContext } from '../handle/context.js';
import { lockExistingKey } from '../keys/locate.js';
import { readKeySlot } from '../sync/seqlock-read.js';
import { bumpGlobalEpoch, unlock } from '../sync/seqlock.js';
import { type Key } from '../keys/key-text.js';

const EMBED_BYTES = SPLINTER_EMBED_DIM * 4;

function requireEmbeddings(ctx: KvContext, what: string): void {
  if (!ctx.m.embeddings) {
    throw new SplinterError('ENOTSUP', `${what}: this store has 128-byte slots without embeddings (create it with embeddings: true)`);
  }
}

/** set_embedding: copies the vector under the slot's seqlock; slot and global epochs move. */
export function setEmbedding(ctx: KvContext, keyText: Key, vector: Float32Array): void {
  requireEmbeddings(ctx, 'setEmbedding');
  const real = vector instanceof Float32Array && ArrayBuffer.isView(vector); // a Proxy passes instanceof, and its getters throw
  if (!real || vector.length !== SPLINTER_EMBED_DIM) {
    throw new SplinterError(
      'EINVAL',
      `setEmbedding needs a Float32Array of ${SPLINTER_EMBED_DIM} values, received ${real ? `${vector.length} values` : describe(vector)}`,
    );
  }
  const m = ctx.m;
  const index = lockExistingKey(ctx, keyText, 'setEmbedding');
  const slotByte = m.slotByte(index);
  m.u8.set(new Uint8Array(vector.buffer, vector.byteOffset, EMBED_BYTES), slotByte + SLOT.embedding);
  bumpGlobalEpoch(m.u32, m.globalEpochW32); // before the release: readers see it with the new slot epoch
  unlock(m.u32, m.u64, m.epochW32(slotByte));
  ctx.writeListener.afterWrite(index, true);
}

/** get_embedding: a seqlock-checked copy of the vector; undefined when the key is missing. */
export function getEmbedding(ctx: KvContext, keyText: Key): Float32Array | undefined {
  requireEmbeddings(ctx, 'getEmbedding');
  const m = ctx.m;
  return readKeySlot(ctx, keyText, 'getEmbedding', (_index, slotByte) => {
    const start = slotByte + SLOT.embedding;
    return new Float32Array(m.u8.slice(start, start + EMBED_BYTES).buffer);
  });
}
