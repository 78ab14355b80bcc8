/** Typed views over store bytes that the decoders read from: a StoreMemory, or views over a copy of a file's bytes. */
export interface StoreWords {
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  readonly u64: BigUint64Array;
}

/** Views over a byte copy (copied again when it does not start 8-byte aligned). */
export function wordsOf(bytes: Uint8Array): StoreWords {
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes);
  const { buffer, byteOffset, byteLength } = aligned;
  return {
    u8: aligned,
    u32: new Uint32Array(buffer, byteOffset, byteLength >>> 2),
    u64: new BigUint64Array(buffer, byteOffset, Math.floor(byteLength / 8)),
  };
}
