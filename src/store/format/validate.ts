import { SplinterError } from '../../errors.js';
import { HEADER, SPLINTER_MAGIC, SPLINTER_VER } from '../../layout/constants.js';
import { detectEmbeddings, storeSize, type Geometry } from '../../layout/geometry.js';

const hex = (n: number): string => `0x${n.toString(16).toUpperCase().padStart(8, '0')}`;

/**
 * Reads and checks the geometry of the store in `bytes` (the whole file) before anything
 * else is trusted: magic, version, non-zero geometry, a size that matches it exactly for
 * one of the two slot sizes, and the size the header records.
 */
export function validateStore(bytes: Uint8Array, where: string): Geometry {
  const size = bytes.length;
  if (size < HEADER.size) {
    throw new SplinterError('ECORRUPT', `${where} is ${size} bytes; a store is at least ${HEADER.size} bytes (its header)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER.size);
  const magic = view.getUint32(HEADER.magic, true);
  if (magic !== SPLINTER_MAGIC) {
    throw new SplinterError('ECORRUPT', `${where} has magic ${hex(magic)}, expected ${hex(SPLINTER_MAGIC)}: not a Splinter store`);
  }
  const version = view.getUint32(HEADER.version, true);
  if (version !== SPLINTER_VER) {
    throw new SplinterError('ECORRUPT', `${where} is format version ${version}; this library reads version ${SPLINTER_VER}`);
  }
  const slots = view.getUint32(HEADER.slots, true);
  const maxValueSize = view.getUint32(HEADER.max_val_sz, true);
  if (slots === 0 || maxValueSize === 0) {
    throw new SplinterError('ECORRUPT', `${where} declares ${slots} slots of ${maxValueSize} bytes; both must be at least 1`);
  }
  const embeddings = detectEmbeddings(size, slots, maxValueSize);
  const recorded = view.getUint32(HEADER.val_sz, true);
  if (embeddings === undefined && size < storeSize(slots, maxValueSize, false)) {
    throw new SplinterError('ECORRUPT', shorterThanHeader(where, size, slots, maxValueSize, recorded));
  }
  if (embeddings === undefined) {
    throw new SplinterError(
      'ECORRUPT',
      `${where} is ${size} bytes, but a store of ${slots} slots × ${maxValueSize} bytes is ` +
        `${storeSize(slots, maxValueSize, false)} bytes (or ${storeSize(slots, maxValueSize, true)} with embeddings)`,
    );
  }
  if (recorded !== size) {
    throw new SplinterError('ECORRUPT', `${where} records its size as ${recorded} bytes (val_sz) but is ${size} bytes`);
  }
  return { slots, maxValueSize, embeddings };
}

/**
 * A file shorter than the smallest store its header describes: cut short (truncated by another
 * process, a copy that stopped). Said apart from other size mismatches, with both sizes.
 */
export function shorterThanHeader(where: string, size: number, slots: number, maxValueSize: number, recorded: number): string {
  const needed = storeSize(slots, maxValueSize, false);
  return (
    `${where} is truncated: it is ${size} bytes, but its header describes ${slots} slots × ${maxValueSize} bytes, ` +
    `${needed} bytes at least (${storeSize(slots, maxValueSize, true)} with embeddings; val_sz records ${recorded}), ${needed - size} bytes more than there are`
  );
}
