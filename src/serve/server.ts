/**
 * serve(): the HTTP gateway. node:http with a small route table: measured against hono on the
 * GET of a 64-byte value, it kept closer to a bare server answering a constant (see the commit).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, SplinterError } from '../errors.js';
import { Store } from '../facade/store.js';
import { httpErrorOf, HttpError, send, sendError, BASE_HEADERS } from './answer.js';
import { EventClients, StreamHeads } from './events.js';
import { ChangeFeed } from './feed.js';
import { guard, hashToken, type GuardSettings } from './guard.js';
import { checkServeOptions, type ServeOptions } from './options.js';
import { ASSET_PREFIX, serveAsset } from './assets.js';
import { servePage } from './page.js';
import { matchParts, parseQuery, type Gateway, type Route } from './route.js';
import { ROUTES } from './routes.js';

export interface Server {
  /** Where it listens, e.g. http://127.0.0.1:8080/ */
  readonly url: string;
  /** The port bound (the one picked, for port 0). */
  readonly port: number;
  /** Stops listening, ends the event streams and open connections; closes the store if serve opened it. */
  close(): Promise<void>;
}

/** Bounds on what a client may send: headers, the time to send a request, idle keep-alive. */
const LIMITS = { maxHeaderSize: 16 * 1024, requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 };
const WRITE_METHODS = new Set(['PUT', 'POST', 'DELETE', 'PATCH']);
const CORS_HEADERS = 'Authorization, Content-Type, If-Match, If-None-Match';

function openStore(options: ServeOptions): { store: Store; owned: boolean } {
  if (options.store instanceof Store) return { store: options.store, owned: false };
  if (typeof options.store !== 'string') throw new SplinterError('EINVAL', `serve: store is a Store or a store name or path, received ${describe(options.store)}`);
  return { store: Store.open(options.store, { trustShared: options.trustShared === true }), owned: true };
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const code = error.code === 'EADDRINUSE' ? 'EBUSY' : error.code === 'EACCES' ? 'EACCES' : 'EINVAL';
      reject(new SplinterError(code, `serve: cannot listen on ${host} port ${port}: ${error.code ?? error.message}`));
    });
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

/**
 * A connection whose body was refused: closed as soon as the 413 is handed to the kernel. Left
 * open, the server would read the rest of the body to find the next request; the client has the
 * answer before the close (measured on loopback: every time, raw sockets and node:http alike).
 */
function stopReading(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Connection', 'close');
  res.once('finish', () => setImmediate(() => req.socket.destroy()));
}

/** The route for a path and method; 404 when no route has the path, 405 (with Allow) when none has the method. */
/** Each route's template split once. */
const TEMPLATES = ROUTES.map((r) => ({ route: r, parts: r.path.split('/') }));

function route(method: string, path: string): { route: Route; params: Record<string, string> } {
  const allowed: string[] = [];
  const got = path.split('/');
  for (const { route: candidate, parts } of TEMPLATES) {
    const params = matchParts(parts, got);
    if (params === undefined) continue;
    if (candidate.method === method || (method === 'HEAD' && candidate.method === 'GET')) return { route: candidate, params };
    allowed.push(candidate.method);
  }
  if (allowed.length === 0) throw new HttpError(404, 'ENOENT', `no route ${path.length > 100 ? `${path.slice(0, 100)}…` : path}; the routes are in /v1/openapi.json`);
  throw new HttpError(405, 'ENOTSUP', `${method} is not a method of this route; it takes ${allowed.join(', ')}`, { Allow: allowed.join(', ') });
}

function corsHeaders(req: IncomingMessage, settings: GuardSettings): Record<string, string> {
  const origin = req.headers.origin;
  if (origin === undefined || !settings.allowOrigins.has(origin)) return {};
  return { 'Access-Control-Allow-Origin': origin, Vary: 'Origin', 'Access-Control-Expose-Headers': 'ETag' };
}

async function handle(req: IncomingMessage, res: ServerResponse, settings: GuardSettings, gateway: Gateway, onError: (error: unknown) => void): Promise<void> {
  try {
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    // The page and its assets are static and hold nothing of the store: a browser loads them without the token, which the page then asks for.
    const isStatic = path === '/' || path === '/index.html' || path === '/favicon.ico' || path.startsWith(ASSET_PREFIX);
    guard(req, settings, WRITE_METHODS.has(method), isStatic);
    for (const [name, value] of Object.entries(corsHeaders(req, settings))) res.setHeader(name, value);
    if (method === 'OPTIONS') {
      if (res.getHeader('Access-Control-Allow-Origin') === undefined) throw new HttpError(403, 'EPERM', 'no other origin may call this server (it was given no allowOrigins)');
      res.writeHead(204, { ...BASE_HEADERS, 'Access-Control-Allow-Methods': 'GET, PUT, POST, DELETE', 'Access-Control-Allow-Headers': CORS_HEADERS, 'Access-Control-Max-Age': '600' });
      res.end();
      return;
    }
    if (path === '/' || path === '/index.html') {
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'ENOTSUP', `${method} is not a method of the page; it takes GET`, { Allow: 'GET' });
      servePage(res);
      return;
    }
    if (path === '/favicon.ico') {
      send(res, 204, undefined, {}); // no icon: an answer, so a browser logs no error for it
      return;
    }
    if (path.startsWith(ASSET_PREFIX)) {
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'ENOTSUP', `${method} is not a method of the page's files; they take GET`, { Allow: 'GET' });
      serveAsset(res, path.slice(ASSET_PREFIX.length));
      return;
    }
    const found = route(method, path);
    const pending = found.route.handler({ req, res, params: found.params, query: parseQuery(q < 0 ? '' : target.slice(q + 1)), gateway });
    if (pending !== undefined) await pending; // the reads answer at once: no turn of the microtask queue for them
  } catch (error) {
    const answer = httpErrorOf(error);
    if (answer.status === 500) onError(error);
    if (answer.status === 413) stopReading(req, res);
    sendError(res, answer);
  }
}

/**
 * Serves a store over HTTP (docs/serve.md): the /v1 API, its OpenAPI document, events.
 * @throws {SplinterError} EINVAL for a bad option; EPERM for a host that is not loopback without a token; what
 *   Store.open throws for a store given by name; EBUSY when the port is taken; EACCES when it may not be bound.
 */
export async function serve(options: ServeOptions): Promise<Server> {
  const rest = options;
  const checked = checkServeOptions(rest);
  const { store, owned } = openStore(rest);
  const report = rest.onError ?? (() => undefined);
  const feed = new ChangeFeed(store, report);
  const clients = new EventClients();
  const gateway: Gateway = { store, readOnly: checked.readOnly, feed, clients, heads: new StreamHeads(store), doctor: rest.doctor };
  const settings: GuardSettings = {
    port: checked.port,
    loopback: checked.loopback,
    tokenHash: checked.token === undefined ? undefined : hashToken(checked.token),
    readOnly: checked.readOnly,
    allowOrigins: checked.allowOrigins,
  };
  const server = http.createServer(LIMITS, (req, res) => {
    handle(req, res, settings, gateway, report).catch((error: unknown) => {
      report(error);
      res.destroy();
    });
  });
  server.on('clientError', (_error, socket) => {
    // A request that does not parse, or headers over the bound: a plain 400 (431 for headers), then close.
    if (socket.writable) socket.end(`HTTP/1.1 ${_error.message.includes('Header overflow') ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    else socket.destroy();
  });
  let port: number;
  try {
    port = await listen(server, checked.port, checked.host);
  } catch (error) {
    if (owned) store.close();
    throw error;
  }
  settings.port = port;
  const shownHost = checked.host.includes(':') ? `[${checked.host}]` : checked.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        feed.stop();
        clients.closeAll();
        server.close(() => {
          if (owned) store.close();
          resolve();
        });
        server.closeAllConnections();
      })),
  };
}
