/** Request bodies, read up to a bound and never further: a longer body is 413 before it is all sent. */
import type { IncomingMessage } from 'node:http';
import { HttpError } from './answer.js';

/** Why a body was refused for its size; the server then closes the connection rather than read the rest. */
export function tooLarge(limit: number, received: string): HttpError {
  return new HttpError(413, 'EMSGSIZE', `a body is at most ${limit} bytes here (the store's maxValueSize), received ${received}`);
}

/**
 * The body, at most `limit` bytes. A Content-Length over the bound is refused before reading;
 * a body that grows past it is refused at the chunk that crosses it, the rest left unread.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(limit, `Content-Length ${declared}`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        reject(tooLarge(limit, `more than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}
