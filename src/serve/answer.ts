/**
 * Answers: every one JSON (bigints as decimal strings) or raw bytes, with the headers every
 * answer carries; errors as `{ error: { code, message } }` with the status their code implies.
 */
import type { ServerResponse } from 'node:http';
import { isSplinterError } from '../errors.js';

/** Headers on every answer: no sniffing a value into HTML, no caching of live data. */
export const BASE_HEADERS: Readonly<Record<string, string>> = { 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' };

/** The gateway's own code for a fault of its own (any exception that is not a SplinterError). */
export const INTERNAL = 'EINTERNAL';

/** An answer that is an error: the status, a SplinterError code (or EINTERNAL), a message, extra headers and fields. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
    readonly fields: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

/** The status of each SplinterError code a handler may meet. */
const STATUS_OF: Readonly<Record<string, number>> = {
  EINVAL: 400,
  EACCES: 403,
  EPERM: 403,
  ENOENT: 404,
  EEXIST: 409,
  EPROTOTYPE: 409,
  EMSGSIZE: 413,
  ENOSPC: 507,
  ENOTSUP: 501,
  EAGAIN: 503,
  EBUSY: 503,
  ECLOSED: 503,
  ESTALE: 503,
  ETIMEDOUT: 504,
};

/** Any exception as an HttpError: a SplinterError keeps its code; anything else is a 500 that says nothing of its insides. */
export function httpErrorOf(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (isSplinterError(error)) {
    const status = STATUS_OF[error.code] ?? 500;
    return new HttpError(status, error.code, error.message, status === 503 ? { 'Retry-After': '1' } : {});
  }
  return new HttpError(500, INTERNAL, 'the gateway failed to answer this request; it goes on serving others');
}

export function jsonText(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Readonly<Record<string, string>> = {}): void {
  send(res, status, jsonText(value), { 'Content-Type': 'application/json', ...headers });
}

/** Bodies up to this size go out as latin1 text, which Node writes in one piece with the headers (bytes take a second write). */
const ONE_WRITE_BYTES = 16 * 1024;

export function send(res: ServerResponse, status: number, body: Uint8Array | string | undefined, headers: Readonly<Record<string, string>>): void {
  if (res.headersSent) {
    res.destroy(); // an error after the answer began: the client sees it cut short, not a second answer
    return;
  }
  const length = body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length;
  // A flat list: Node takes it as it is, where an object is walked and each name checked again.
  const list: string[] = ['X-Content-Type-Options', 'nosniff', 'Cache-Control', 'no-store', 'Content-Length', String(length)];
  for (const name in headers) list.push(name, headers[name]!);
  res.writeHead(status, list);
  if (typeof body === 'string') res.end(body, 'utf8');
  else if (body !== undefined && body.length <= ONE_WRITE_BYTES) res.end(Buffer.from(body.buffer, body.byteOffset, body.length).toString('latin1'), 'latin1');
  else res.end(body);
}

export function sendError(res: ServerResponse, error: HttpError): void {
  sendJson(res, error.status, { error: { code: error.code, message: error.message, ...error.fields } }, error.headers);
}
