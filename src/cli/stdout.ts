/**
 * The command's output, written to descriptor 1 at once. Node's process.stdout writes
 * synchronously on Linux as well (files, pipes and terminals), but creating it loads net and
 * the streams: 5 ms of a one-shot command's start (issue #26).
 */
import fs from 'node:fs';

/** A one-millisecond pause, for a descriptor another process made non-blocking. */
function pause(): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
}

/**
 * Writes all of `data` to stdout. EPIPE (the reader left: `splinter export | head`) ends the
 * process with 0, as it always did; EAGAIN waits for room, as a blocking write would.
 * @throws the write's own error otherwise (EBADF, ENOSPC, EIO): the command reports it.
 */
export function writeStdout(data: string | Uint8Array): void {
  let rest = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  while (rest.length > 0) {
    let written: number;
    try {
      written = fs.writeSync(1, rest);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') process.exit(0);
      if (code === 'EAGAIN') pause();
      if (code === 'EAGAIN' || code === 'EINTR') continue;
      throw error;
    }
    rest = rest.subarray(written);
  }
}
