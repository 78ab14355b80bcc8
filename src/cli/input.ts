/**
 * Reading a value from a file or stdin without reading more than a value can be: at most
 * `limit + 1` bytes, so that `--file /dev/zero` or an endless pipe ends at once with EMSGSIZE
 * instead of filling memory.
 */
import fs from 'node:fs';
import { SplinterError } from '../errors.js';

const CHUNK = 64 * 1024;

/** At most `limit + 1` bytes of the file at `path` (one more than allowed tells "too long"); Node errors as they come. */
export function readFileAtMost(path: string, limit: number): Uint8Array {
  const fd = fs.openSync(path, fs.constants.O_RDONLY);
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    while (total <= limit) {
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK, limit + 1 - total));
      const n = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
    }
    return new Uint8Array(Buffer.concat(chunks, total));
  } finally {
    fs.closeSync(fd);
  }
}

/** At most `limit + 1` bytes of a stream; it is not read (nor kept open) past that. */
export async function readStreamAtMost(stream: AsyncIterable<Uint8Array | string>, limit: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const data of stream) {
    const chunk = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const kept = chunk.subarray(0, limit + 1 - total);
    chunks.push(kept);
    total += kept.length;
    if (total > limit) break; // leaving the loop destroys the stream: nothing more is read
  }
  return new Uint8Array(Buffer.concat(chunks, total));
}

/** The EMSGSIZE of input longer than a value can be (`from`: "stdin", or the file's path). */
export function inputTooLong(from: string, limit: number): SplinterError {
  return new SplinterError('EMSGSIZE', `a value is 1..${limit} bytes in this store; ${from} holds more than ${limit} bytes (reading stopped there)`);
}
