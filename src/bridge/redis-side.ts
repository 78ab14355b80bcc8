/**
 * The Redis side of a bridge: two connections (one for commands, one blocked reading the stream),
 * the put script, the namespace snapshot and the stream. ioredis is loaded only when a bridge
 * starts, so users who never bridge need not install it.
 */
import { randomUUID } from 'node:crypto';
import type { Redis as RedisClient, RedisOptions } from 'ioredis';
import { SplinterError } from '../errors.js';
import { decodeRecord, encodeRecord, type Change } from './codec.js';
import { keyFromRedis, keyToRedis, showKeyBytes } from './key-bytes.js';
import { namespaceKeys, type NamespaceKeys } from './namespace.js';
import { PUT_SCRIPT, STREAM_STATE_SCRIPT } from './put-script.js';

/** A stream entry id, "ms-seq"; "0-0" is before every entry. */
export type StreamId = string;
export const STREAM_START: StreamId = '0-0';

/** Negative, zero or positive as stream id `a` is before, equal to or after `b`. */
export function compareStreamIds(a: StreamId, b: StreamId): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  return Number(am) - Number(bm) || Number(as) - Number(bs);
}

/** Something read from Redis that is not a change a bridge can apply, and why. */
export interface BadRecord {
  readonly why: string;
}

/** A change read from Redis (or what is wrong with it), and where it was, for messages. */
export interface Read {
  readonly change: Change | BadRecord;
  readonly where: string;
}

export type PutResult =
  /** Redis took the record as the key's current one, in the stream entry `id`. */
  | { readonly accepted: true; readonly id: StreamId }
  /** Refused: the winning record Redis holds (or, should it not be one, what is wrong with it). */
  | { readonly accepted: false; readonly current: Read };

export interface StreamEntry extends Read {
  readonly id: StreamId;
}

/** Hash fields read per HSCAN step: the snapshot holds at most this many unchecked records at once. */
const SCAN_COUNT = 500;

type XreadReply = Array<[Buffer, Array<[Buffer, Buffer[]]>]> | null;

/** The stream's state as STREAM_STATE_SCRIPT returns it: [length, entries added or -1, first id or '', max deleted id or '']. */
type StreamState = [number, number, string, string];

/**
 * Whether the stream still holds every entry after `lastId`. Trimming removes the oldest entries,
 * and never the newest one, so while our entry is the oldest or still held nothing after it is
 * lost; when it is gone we may be missing some (a reader that far behind is resynchronised, which
 * is right either way). Entries deleted one by one (XDEL) past us count too.
 */
function holds([length, added, firstId, maxDeleted]: StreamState, lastId: StreamId): boolean {
  if (maxDeleted !== '' && compareStreamIds(maxDeleted, lastId) > 0) return false; // Redis ≥ 7
  if (lastId === STREAM_START) return added < 0 || added <= length; // older servers cannot tell: trusted
  return firstId === '' || compareStreamIds(firstId, lastId) <= 0;
}

/** The change that a key's bytes and a record's bytes hold, or what is wrong with them. */
function changeOf(keyBytes: Buffer, record: Buffer, prefix: Buffer): Change | BadRecord {
  const key = keyFromRedis(keyBytes, prefix);
  if ('why' in key) return { why: key.why };
  const change = decodeRecord(key.key, record);
  return typeof change === 'string' ? { why: change } : change;
}

export function isBadRecord(change: Change | BadRecord): change is BadRecord {
  return 'why' in change;
}

function entriesOf(reply: XreadReply, stream: string, prefix: Buffer): StreamEntry[] {
  const entries: StreamEntry[] = [];
  const list: unknown = reply?.[0]?.[1];
  if (!Array.isArray(list)) return entries;
  for (const [idBytes, fields] of list as Array<[Buffer, Buffer[]]>) {
    const id = idBytes.toString('latin1');
    let key: Buffer | undefined;
    let record: Buffer | undefined;
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = fields[i]!.toString('latin1');
      if (name === 'k') key = fields[i + 1];
      else if (name === 'r') record = fields[i + 1];
    }
    const where = `stream entry ${id} of ${stream}${key === undefined ? '' : ` (key ${showKeyBytes(key)})`}`;
    const change = key === undefined || record === undefined ? { why: 'an entry has a field k (the key) and a field r (the record)' } : changeOf(key, record, prefix);
    entries.push({ id, change, where });
  }
  return entries;
}

interface BridgeCommands {
  splinterBridgePutBuffer(values: string, stream: string, key: Buffer, record: Buffer, maxLength: number): Promise<[number, Buffer]>;
  splinterBridgeStreamState(stream: string): Promise<StreamState>;
}

type RedisConstructor = new (url: string, options: RedisOptions) => RedisClient;

async function loadIoredis(): Promise<RedisConstructor> {
  try {
    const mod = (await import('ioredis')) as unknown as { Redis?: RedisConstructor; default?: RedisConstructor };
    const Redis = mod.Redis ?? mod.default;
    if (Redis === undefined) throw new Error('the module has no Redis export');
    return Redis;
  } catch (error) {
    throw new SplinterError('ENOTSUP', `the Redis bridge needs the package ioredis (an optional peer dependency): run npm install ioredis (loading it failed: ${(error as Error).message})`, { cause: error });
  }
}

export interface RedisSideOptions {
  readonly url: string;
  readonly prefix: string;
  readonly streamMaxLength: number;
  readonly connectTimeoutMs: number;
  /** Names the connections (CLIENT LIST shows which bridge is which). */
  readonly hostId: string;
}

export class RedisSide {
  readonly keys: NamespaceKeys;
  private readonly prefixBytes: Buffer;
  private everReady = false;
  private closing = false;

  private constructor(
    private readonly main: RedisClient,
    private readonly reader: RedisClient,
    private readonly options: RedisSideOptions,
  ) {
    this.keys = namespaceKeys(options.prefix);
    this.prefixBytes = keyToRedis(options.prefix);
    main.defineCommand('splinterBridgePut', { numberOfKeys: 2, lua: PUT_SCRIPT });
    main.defineCommand('splinterBridgeStreamState', { numberOfKeys: 1, lua: STREAM_STATE_SCRIPT });
    reader.defineCommand('splinterBridgeStreamState', { numberOfKeys: 1, lua: STREAM_STATE_SCRIPT });
  }

  /** Connects both connections; rejects with a SplinterError naming the URL when Redis cannot be reached. */
  static async connect(options: RedisSideOptions): Promise<RedisSide> {
    const Redis = await loadIoredis();
    let side: RedisSide | undefined;
    const clientOptions: RedisOptions = {
      lazyConnect: true,
      // The bridge keeps its own outbox (the store is the source): commands fail fast while Redis is away.
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      connectTimeout: options.connectTimeoutMs,
      // Before the first connection, a failure is an answer (a wrong URL); after it, a reason to retry.
      retryStrategy: (times) => (side?.everReady === true && side.closing === false ? Math.min(times * 50, 500) : null),
    };
    const main = new Redis(options.url, { ...clientOptions, connectionName: `splinter-bridge:${options.hostId}` });
    const reader = new Redis(options.url, { ...clientOptions, connectionName: `splinter-bridge-reader:${options.hostId}` });
    side = new RedisSide(main, reader, options);
    // Connection errors are reported through watchConnection; the last one explains a failed connect.
    let lastError: Error | undefined;
    const remember = (error: Error): void => void (lastError = error);
    main.on('error', remember);
    reader.on('error', remember);
    try {
      await Promise.all([main.connect(), reader.connect()]);
      await main.ping();
      // ioredis selects the URL's database quietly; a number the server does not have must fail here.
      const db = new URL(options.url).pathname.slice(1);
      if (db !== '') await Promise.all([main.select(Number(db)), reader.select(Number(db))]);
    } catch (error) {
      main.disconnect();
      reader.disconnect();
      const where = options.url.replace(/\/\/[^@/]*@/, '//…@'); // never print a password
      const why = lastError?.message ?? (error as Error).message;
      throw new SplinterError('ECONNREFUSED', `bridge: cannot use Redis at ${where}: ${why}`, { cause: lastError ?? error });
    }
    side.everReady = true;
    return side;
  }

  /** Calls `ready` on each (re)connection of the command connection and `lost` when it drops. */
  watchConnection(ready: () => void, lost: (why: string) => void): void {
    this.main.on('ready', ready);
    this.main.on('close', () => {
      if (!this.closing) lost('the connection to Redis closed');
    });
  }

  get connected(): boolean {
    return this.main.status === 'ready';
  }

  /** The stream reader's connection is up (it reconnects on its own after a drop). */
  get readerConnected(): boolean {
    return this.reader.status === 'ready';
  }

  /** The namespace's generation, made now if Redis has none (new namespace, or Redis lost its data). */
  async generation(): Promise<string> {
    await this.main.set(this.keys.generation, randomUUID(), 'NX');
    const generation = await this.main.get(this.keys.generation);
    if (generation === null) throw new Error('the namespace generation vanished as it was read');
    return generation;
  }

  /** Redis's clock (TIME), in ms since the epoch. */
  async time(): Promise<number> {
    const [seconds, micros] = await this.main.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  /** Offers a change; Redis keeps it only if it wins over the current record. */
  async put(change: Change): Promise<PutResult> {
    const client = this.main as unknown as BridgeCommands;
    const key = keyToRedis(change.key);
    const [taken, reply] = await client.splinterBridgePutBuffer(this.keys.values, this.keys.stream, key, encodeRecord(change), this.options.streamMaxLength);
    if (taken === 1) return { accepted: true, id: reply.toString('latin1') };
    const where = `the current record of ${showKeyBytes(key)} in ${this.keys.values}`;
    return { accepted: false, current: { where, change: Buffer.isBuffer(reply) ? changeOf(key, reply, this.prefixBytes) : { why: 'the put script answered without one' } } };
  }

  /**
   * The stream's last id, then every current record (read in HSCAN steps: a field changed
   * meanwhile is in the stream after that id): replaying the stream after that id misses nothing.
   * Fields that are not a key and a record come back as bad records, with where they are.
   */
  async snapshot(): Promise<{ lastId: StreamId; records: Read[] }> {
    const last = (await this.main.xrevrange(this.keys.stream, '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
    const lastId = last[0]?.[0] ?? STREAM_START;
    const records: Read[] = [];
    let cursor = '0';
    do {
      const [next, fields] = await this.main.hscanBuffer(this.keys.values, cursor, 'COUNT', SCAN_COUNT);
      cursor = next.toString('latin1');
      for (let i = 0; i + 1 < fields.length; i += 2) {
        const where = `hash field ${showKeyBytes(fields[i]!)} of ${this.keys.values}`;
        records.push({ change: changeOf(fields[i]!, fields[i + 1]!, this.prefixBytes), where });
      }
    } while (cursor !== '0');
    return { lastId, records };
  }

  /** True when the stream still holds every entry after `lastId` (none was trimmed away unread). */
  async holdsAfter(lastId: StreamId): Promise<boolean> {
    return holds(await (this.main as unknown as BridgeCommands).splinterBridgeStreamState(this.keys.stream), lastId);
  }

  /**
   * Entries after `lastId` without waiting, and whether the stream still held all of them: the
   * stream's state and the read are one MULTI, so a trim cannot slip between them.
   */
  async readNow(lastId: StreamId, count: number): Promise<{ entries: StreamEntry[]; gap: boolean }> {
    const transaction = this.reader.multi() as unknown as { splinterBridgeStreamState(stream: string): unknown } & ReturnType<RedisClient['multi']>;
    transaction.splinterBridgeStreamState(this.keys.stream);
    const replies = await transaction.xreadBuffer('COUNT', count, 'STREAMS', this.keys.stream, lastId).exec();
    if (replies === null) throw new Error('the stream read was aborted');
    const [stateError, state] = replies[0]!;
    const [readError, read] = replies[1]!;
    if (stateError) throw stateError;
    if (readError) throw readError;
    return { entries: entriesOf(read as XreadReply, this.keys.stream, this.prefixBytes), gap: !holds(state as StreamState, lastId) };
  }

  /**
   * Waits up to `blockMs` for entries after `lastId`. Redis may answer only after a burst of
   * pipelined additions that trimmed past `lastId`: the caller checks with `holdsAfter` afterwards.
   */
  async waitForEntries(lastId: StreamId, blockMs: number, count: number): Promise<StreamEntry[]> {
    return entriesOf((await this.reader.xreadBuffer('COUNT', count, 'BLOCK', blockMs, 'STREAMS', this.keys.stream, lastId)) as XreadReply, this.keys.stream, this.prefixBytes);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.reader.disconnect(); // interrupts a blocked XREAD
    try {
      await Promise.race([this.main.quit(), new Promise((resolve) => setTimeout(resolve, 500).unref())]);
    } catch {
      // already gone
    }
    this.main.disconnect();
  }
}
