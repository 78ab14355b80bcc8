/** A gateway on a fresh shared-memory store, and a node:http client that sends exactly the headers a test gives (fetch would fix Host and Origin). */
import http from 'node:http';
import { serve, Store, type Server, type ServeOptions } from '../../src/index.js';

let made = 0;

export interface Served {
  store: Store;
  server: Server;
  name: string;
}

/** A store of `slots` × `maxValueSize` in /dev/shm, served on a free port; both gone at the test's end. */
export async function served(
  t: { teardown(fn: () => unknown): void },
  options: Omit<ServeOptions, 'store'> = {},
  geometry = { slots: 256, maxValueSize: 1024 },
): Promise<Served> {
  const name = `serve-test-${process.pid}-${++made}`;
  const store = Store.create(name, geometry);
  const server = await serve({ store, port: 0, ...options });
  t.teardown(async () => {
    await server.close();
    store.close();
    Store.unlink(name);
  });
  return { store, server, name };
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface Ask {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array | undefined;
  /** Connect here instead of the URL's host (the Host header stays the URL's unless headers set it). */
  connectTo?: string;
}

/** One request for `path`, sent exactly as written (no URL normalising: `..` and escapes stay); resolves with the whole answer. */
export function ask(server: Server | string, path: string, ask: Ask = {}): Promise<Answer> {
  const target = new URL(typeof server === 'string' ? server : server.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: ask.connectTo ?? target.hostname,
        port: target.port,
        path,
        method: ask.method ?? 'GET',
        headers: { Host: target.host, ...ask.headers },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const text = body.toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode!, headers: res.headers, body, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(ask.body);
  });
}

