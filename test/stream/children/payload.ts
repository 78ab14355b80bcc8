/**
 * The messages of the multi-producer test: producer p's i-th message (i from 0) is 8..64 bytes:
 * p and i as u32 LE, then filler bytes that depend on both, so a torn or misplaced copy shows.
 */
export function payload(producer: number, i: number, maxValueSize: number): Uint8Array {
  const bytes = new Uint8Array(8 + ((i * 7 + producer) % (maxValueSize - 7)));
  const view = new DataView(bytes.buffer);
  view.setUint32(0, producer, true);
  view.setUint32(4, i, true);
  for (let j = 8; j < bytes.length; j++) bytes[j] = (producer * 31 + i + j) & 0xff;
  return bytes;
}

/** Producer and index of a payload, or undefined when its bytes are not one `payload` makes. */
export function decodePayload(bytes: Uint8Array, maxValueSize: number): { producer: number; i: number } | undefined {
  if (bytes.length < 8) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const producer = view.getUint32(0, true);
  const i = view.getUint32(4, true);
  if (producer > 1000) return undefined;
  const expected = payload(producer, i, maxValueSize);
  if (expected.length !== bytes.length) return undefined;
  for (let j = 8; j < bytes.length; j++) if (bytes[j] !== expected[j]) return undefined;
  return { producer, i };
}
