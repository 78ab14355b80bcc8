/** serve()'s options, checked before anything is opened or bound. */
import { describe, SplinterError } from '../errors.js';
import type { Store } from '../facade/store.js';
import { isLoopbackName } from './guard.js';
import { checkToken } from './token.js';

export interface ServeOptions {
  /** The store: an open Store (left open by close()), or a name or path to open (closed by close()). */
  store: Store | string;
  /** The port; 0 picks a free one (default 8080). */
  port?: number | undefined;
  /** The address to bind (default 127.0.0.1). Any other than loopback needs a token. */
  host?: string | undefined;
  /** When given, every request needs `Authorization: Bearer <token>`. */
  token?: string | undefined;
  /** Refuse every write (403 EPERM). */
  readOnly?: boolean | undefined;
  /** Origins (e.g. "https://ops.example") whose pages may call the API: CORS headers for them, and their writes accepted. */
  allowOrigins?: readonly string[] | undefined;
  /** Opening a store by name: accept one another user owns or others may write (as Store.open's trustShared). */
  trustShared?: boolean | undefined;
  /** Told of each fault of the gateway's own (a 500 answered, a look for changes that failed); the CLI prints them. */
  onError?: ((error: unknown) => void) | undefined;
  /** What GET /v1/doctor answers (the package's serve() gives the CLI's doctor). */
  doctor?: ((store: Store) => Promise<unknown>) | undefined;
}

export interface CheckedServeOptions {
  port: number;
  host: string;
  loopback: boolean;
  token: string | undefined;
  readOnly: boolean;
  allowOrigins: ReadonlySet<string>;
}

const KNOWN = new Set(['store', 'port', 'host', 'token', 'readOnly', 'allowOrigins', 'trustShared', 'onError', 'doctor']);

/** @throws {SplinterError} EINVAL for a bad option; EPERM for a host that is not loopback without a token. */
export function checkServeOptions(options: ServeOptions): CheckedServeOptions {
  if (typeof options !== 'object' || options === null) throw new SplinterError('EINVAL', `serve takes { store, port?, host?, token?, readOnly?, allowOrigins? }, received ${describe(options)}`);
  for (const name of Object.keys(options)) {
    if (!KNOWN.has(name)) throw new SplinterError('EINVAL', `serve: unknown option ${JSON.stringify(name)}; the options are ${[...KNOWN].join(', ')}`);
  }
  const port = options.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new SplinterError('EINVAL', `serve: port is an integer 0..65535, received ${describe(port)}`);
  const host = options.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host === '') throw new SplinterError('EINVAL', `serve: host is an address to bind, received ${describe(host)}`);
  const token = options.token === undefined ? undefined : checkToken(options.token, 'serve: the token');
  const loopback = isLoopbackName(host);
  if (!loopback && token === undefined) {
    throw new SplinterError('EPERM', `serve: binding ${host}, which is not a loopback address, needs a token (token / --token-file): anyone who reaches the port could read and write the store`);
  }
  const origins = options.allowOrigins ?? [];
  if (!Array.isArray(origins) || origins.some((o) => typeof o !== 'string' || !/^https?:\/\/[^/\s]+$/.test(o))) {
    throw new SplinterError('EINVAL', `serve: allowOrigins is a list of origins like "https://ops.example" (scheme, host, port; no path), received ${describe(origins)}`);
  }
  if (options.readOnly !== undefined && typeof options.readOnly !== 'boolean') throw new SplinterError('EINVAL', `serve: readOnly is a boolean, received ${describe(options.readOnly)}`);
  if (options.onError !== undefined && typeof options.onError !== 'function') throw new SplinterError('EINVAL', `serve: onError is a function, received ${describe(options.onError)}`);
  if (options.doctor !== undefined && typeof options.doctor !== 'function') throw new SplinterError('EINVAL', `serve: doctor is a function, received ${describe(options.doctor)}`);
  return { port, host, loopback, token, readOnly: options.readOnly === true, allowOrigins: new Set(origins) };
}
