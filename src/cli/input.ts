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

/**
 * The lines of a stream (split at LF, CR or CRLF, as readline does), each at most `maxLine`
 * bytes: a longer one ends the reading with EMSGSIZE, so an endless line (`< /dev/zero`) never
 * fills memory.
 * @throws SplinterError EMSGSIZE when a line runs past `maxLine` bytes.
 */
export async function* linesAtMost(stream: AsyncIterable<Uint8Array | string>, maxLine: number): AsyncGenerator<string> {
  let parts: Buffer[] = [];
  let pending = 0;
  let afterCR = false;
  for await (const data of stream) {
    const chunk = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (byte !== 0x0a && byte !== 0x0d) continue;
      if (byte === 0x0a && afterCR && i === start && pending === 0) {
        start = i + 1; // the LF of a CRLF: the line ended at the CR
        afterCR = false;
        continue;
      }
      parts.push(chunk.subarray(start, i));
      yield Buffer.concat(parts).toString('utf8');
      parts = [];
      pending = 0;
      afterCR = byte === 0x0d;
      start = i + 1;
    }
    if (start < chunk.length) {
      afterCR = false;
      pending += chunk.length - start;
      if (pending > maxLine) throw new SplinterError('EMSGSIZE', `a command line is at most ${maxLine} bytes; stdin holds a longer one (reading stopped there)`);
      parts.push(Buffer.from(chunk.subarray(start))); // copied: the stream may reuse its chunk
    }
  }
  if (pending > 0) yield Buffer.concat(parts).toString('utf8');
}
