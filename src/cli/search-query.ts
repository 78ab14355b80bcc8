/**
 * Where `splinter search` gets its query vector: C's scratch-key protocol for text (an embedding
 * process such as splinference fills the vector), or a vector file. docs/search.md, "The scratch key".
 */
import { SlotType, SPLINTER_EMBED_DIM } from '../layout/constants.js';
import type { Store } from '../facade/store.js';
import { CliFailure } from './usage-error.js';

/** C's default wait for the embedding process, in ms. */
export const EMBED_WAIT_MS = 2000;
/** The slices a wait is cut into: a change poll() missed (it came before the poll began) is seen within one. */
const WAIT_SLICE_MS = 50;

/** The scratch key of this process, as C names it. */
export function scratchKeyName(pid = process.pid): string {
  return `__sqtmp_${pid}`;
}

/**
 * Writes the text to the scratch key (vartext, label bit 0, bumped) and waits until its epoch moves
 * again: the embedding process wrote its vector. undefined (after C's warning) when none answered
 * in `waitMs` or the vector cannot be read. The caller unsets the key.
 */
export async function embedThroughScratch(store: Store, scratch: string, text: Uint8Array, waitMs: number, warn: (line: string) => void, signal: AbortSignal): Promise<Float32Array | undefined> {
  store.set(scratch, text);
  store.setNamedType(scratch, SlotType.VARTEXT);
  store.setLabel(scratch, 1n);
  // Answered once the epoch moved by two writes past this point: our bump and the embedder's
  // vector, in either order (an embedder that saw the label may answer before the bump lands, and
  // a snapshot taken after the bump could already include its answer and then wait forever).
  const before = store.slotSnapshot(scratch)?.epoch ?? 0n;
  store.bumpSlot(scratch);
  const deadline = performance.now() + waitMs;
  for (;;) {
    const now = store.slotSnapshot(scratch)?.epoch;
    if (now === undefined || now >= before + 4n) break;
    const left = deadline - performance.now();
    if (left <= 0) {
      warn('search: warning: splinference timed out; embedding scoring unavailable.');
      return undefined;
    }
    await store.poll(scratch, { timeout: Math.min(left, WAIT_SLICE_MS), signal });
  }
  const vector = store.getEmbedding(scratch);
  if (vector === undefined) warn('search: warning: could not retrieve query embedding; scoring unavailable.');
  return vector;
}

/** A query vector from a file's bytes: a JSON array of 768 numbers, or 3072 bytes of little-endian float32. */
export function parseVectorFile(bytes: Uint8Array, from: string): Float32Array {
  const raw = SPLINTER_EMBED_DIM * 4;
  if (bytes[0] === 0x5b) {
    const parsed = jsonOrUndefined(bytes); // "[": JSON first; 3072 bytes that are not JSON fall through to float32
    if (Array.isArray(parsed) && parsed.length === SPLINTER_EMBED_DIM && parsed.every((x) => typeof x === 'number')) {
      return Float32Array.from(parsed as number[]);
    }
  }
  if (bytes.length === raw) return new Float32Array(new Uint8Array(bytes).buffer, 0, SPLINTER_EMBED_DIM); // a copy: its own aligned buffer
  throw new CliFailure(
    'EINVAL',
    `${from} must hold a JSON array of ${SPLINTER_EMBED_DIM} numbers or ${raw} bytes of float32, received ${bytes.length} bytes that are neither`,
  );
}

function jsonOrUndefined(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return undefined;
  }
}
