/** The bridge's options, checked: every bad one is an EINVAL naming what was expected and what came. */
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { describe, SplinterError } from '../errors.js';
import type { Store } from '../facade/store.js';
import { KEY_MAX_BYTES } from '../layout/constants.js';
import { HOST_ID_PATTERN } from './codec.js';

export interface BridgeEvent {
  /** connected: (re)synced with Redis; disconnected: Redis went away (changes wait in the store); skipped: a record from Redis that is not one to apply, a local key the bridge cannot carry, or a remote value this store cannot hold; error: anything else. */
  readonly type: 'connected' | 'disconnected' | 'skipped' | 'error';
  readonly message: string;
}

export interface BridgeOptions {
  /** The store: a target (opened, and closed with the bridge) or an open Store (left open). */
  store: string | Store;
  /** redis://[user:password@]host[:port][/db] or rediss://… */
  redis: string;
  /** Only keys starting with this are bridged; '' (the default) bridges every key. */
  prefix?: string | undefined;
  /** This bridge's name in records, the tie-breaker of the convergence rule; unique per bridge. Default: host name, pid and random bits. */
  hostId?: string | undefined;
  /** About how many changes the Redis stream keeps (XADD MAXLEN ~); default 10,000. */
  streamMaxLength?: number | undefined;
  /** How often the store is looked at for keys created since (ms); default 10. */
  scanIntervalMs?: number | undefined;
  /** How long the first connection may take (ms); default 5,000. */
  connectTimeoutMs?: number | undefined;
  /** Open a store (given as a target) that another user owns or others may write, as Store.open's trustShared does; default false. */
  trustShared?: boolean | undefined;
  /** Connection changes, what was skipped (a few lines per 10 s at most), errors. */
  onEvent?: ((event: BridgeEvent) => void) | undefined;
}

export interface CheckedOptions {
  readonly store: string | Store;
  readonly redis: string;
  readonly prefix: string;
  readonly hostId: string;
  readonly streamMaxLength: number;
  readonly scanIntervalMs: number;
  readonly connectTimeoutMs: number;
  readonly trustShared: boolean;
  readonly onEvent: (event: BridgeEvent) => void;
}

function positiveInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new SplinterError('EINVAL', `bridge: ${name} is a whole number ≥ 1, received ${describe(value)}`);
  }
  return value;
}

function checkUrl(url: unknown): string {
  const expected = 'a Redis URL, redis://[user:password@]host[:port][/db] or rediss://…';
  if (typeof url !== 'string' || url === '') throw new SplinterError('EINVAL', `bridge: expected ${expected}, received ${describe(url)}`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SplinterError('EINVAL', `bridge: expected ${expected}, received ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new SplinterError('EINVAL', `bridge: expected ${expected}, received the scheme ${JSON.stringify(parsed.protocol)}`);
  }
  if (parsed.hostname === '') throw new SplinterError('EINVAL', `bridge: expected ${expected}, received no host in ${JSON.stringify(url)}`);
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new SplinterError('EINVAL', `bridge: a Redis database is a number (/0, /1, …), received ${JSON.stringify(parsed.pathname)}`);
  return url;
}

function checkPrefix(prefix: unknown): string {
  if (prefix === undefined) return '';
  if (typeof prefix !== 'string') throw new SplinterError('EINVAL', `bridge: a prefix is a string, received ${describe(prefix)}`);
  if (!prefix.isWellFormed()) throw new SplinterError('EINVAL', `bridge: a key prefix is well-formed Unicode (its UTF-8 bytes start the keys), received ${JSON.stringify(prefix)} (a lone surrogate)`);
  if (prefix.includes('\0')) throw new SplinterError('EINVAL', `bridge: a key prefix cannot hold NUL, received ${JSON.stringify(prefix)}`);
  const bytes = Buffer.byteLength(prefix);
  if (bytes >= KEY_MAX_BYTES) {
    throw new SplinterError('EINVAL', `bridge: a key prefix leaves room for a key (keys are at most ${KEY_MAX_BYTES} bytes): at most ${KEY_MAX_BYTES - 1} bytes, received ${bytes}`);
  }
  return prefix;
}

function defaultHostId(): string {
  const host = os.hostname().replace(/[^\x21-\x7e]/g, '_').slice(0, 200) || 'host';
  return `${host}/${process.pid}/${randomBytes(4).toString('hex')}`;
}

export function checkOptions(options: BridgeOptions): CheckedOptions {
  if (typeof options !== 'object' || options === null) throw new SplinterError('EINVAL', `bridge takes an options object, received ${describe(options)}`);
  const store = options.store;
  if (typeof store !== 'string' && (typeof store !== 'object' || store === null)) {
    throw new SplinterError('EINVAL', `bridge: store is a target (a /dev/shm name or a file path) or an open Store, received ${describe(store)}`);
  }
  if (store === '') throw new SplinterError('EINVAL', 'bridge: store is a target (a /dev/shm name or a file path), received an empty string');
  const hostId = options.hostId ?? defaultHostId();
  if (typeof hostId !== 'string' || !HOST_ID_PATTERN.test(hostId)) {
    throw new SplinterError('EINVAL', `bridge: a host id is 1..255 printable ASCII characters without spaces, received ${describe(hostId)}`);
  }
  if (options.trustShared !== undefined && typeof options.trustShared !== 'boolean') {
    throw new SplinterError('EINVAL', `bridge: trustShared is true or false, received ${describe(options.trustShared)}`);
  }
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') {
    throw new SplinterError('EINVAL', `bridge: onEvent is a function, received ${describe(options.onEvent)}`);
  }
  return {
    store,
    redis: checkUrl(options.redis),
    prefix: checkPrefix(options.prefix),
    hostId,
    streamMaxLength: positiveInteger(options.streamMaxLength, 'streamMaxLength', 10_000),
    scanIntervalMs: positiveInteger(options.scanIntervalMs, 'scanIntervalMs', 10),
    connectTimeoutMs: positiveInteger(options.connectTimeoutMs, 'connectTimeoutMs', 5_000),
    trustShared: options.trustShared ?? false,
    onEvent: options.onEvent ?? (() => undefined),
  };
}
