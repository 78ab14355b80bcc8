/**
 * GET /v1/events: Server-Sent Events of key changes. A client that reads slower than keys change
 * gets the latest state of each key (changes waiting for its socket are merged by key), so its
 * memory here is bounded by the keys it watches, and it always ends with every key's last state.
 * A stream's append writes one of its cells: the client then hears `event: stream` with the head.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isSplinterError } from '../errors.js';
import type { Store } from '../facade/store.js';
import type { Key } from '../store/keys/key-text.js';
import type { Stream } from '../stream/stream.js';
import { BASE_HEADERS, HttpError, jsonText } from './answer.js';
import type { Change, ChangeFeed } from './feed.js';
import { keyBytesOf, keyFromUrl, keyJson, percentBytes, startsWith } from './keys.js';

export const HEARTBEAT_MS = 15_000;

/** Which keys a client asked for: `keys` (comma-separated, each percent-encoded) and/or `prefix`; neither: all. */
export interface EventFilter {
  keys: Set<string> | undefined;
  prefix: Uint8Array | undefined;
}

const hexOf = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

export function eventFilter(query: ReadonlyMap<string, string>): EventFilter {
  const keysText = query.get('keys');
  const prefixText = query.get('prefix');
  const keys = keysText === undefined || keysText === '' ? undefined : new Set(keysText.split(',').map((k) => hexOf(keyBytesOf(keyFromUrl(k)))));
  const prefix = prefixText === undefined || prefixText === '' ? undefined : percentBytes(prefixText, 'prefix');
  return { keys, prefix };
}

function matches(filter: EventFilter, bytes: Uint8Array): boolean {
  if (filter.keys === undefined && filter.prefix === undefined) return true;
  return (filter.keys?.has(hexOf(bytes)) ?? false) || (filter.prefix !== undefined && startsWith(bytes, filter.prefix));
}

/** The open event streams of one server: their count, and the heartbeat they share. */
export class EventClients {
  readonly open = new Set<ServerResponse>();
  private heartbeat: NodeJS.Timeout | undefined;

  add(res: ServerResponse): void {
    this.open.add(res);
    this.heartbeat ??= setInterval(() => {
      // A comment line: keeps proxies and the client's own timeout from closing an idle stream.
      for (const client of this.open) if (!client.writableNeedDrain) client.write(': heartbeat\n\n');
    }, HEARTBEAT_MS);
  }

  remove(res: ServerResponse): void {
    this.open.delete(res);
    if (this.open.size === 0) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
  }

  closeAll(): void {
    for (const client of [...this.open]) {
      client.destroy();
      this.remove(client);
    }
  }
}

/** A stream's cell key (docs/streams.md: NAME#<index>) names its stream; any other key names none. */
function streamOfCell(key: Key): string | undefined {
  if (typeof key !== 'string') return undefined;
  return /^([^#]+)#[0-9]+$/.exec(key)?.[1];
}

/** Stream heads by name, with the Stream handles kept (a few: one per stream that appended); a name without a stream is none. */
export class StreamHeads {
  private readonly streams = new Map<string, Stream>();
  constructor(private readonly store: Store) {}

  of(name: string): bigint | undefined {
    try {
      let stream = this.streams.get(name);
      if (stream === undefined) {
        stream = this.store.stream(name, { create: false });
        if (this.streams.size >= MAX_STREAM_HANDLES) this.streams.clear();
        this.streams.set(name, stream);
      }
      return stream.head();
    } catch (error) {
      if (!isSplinterError(error)) throw error;
      this.streams.delete(name); // no meta (a key that only looks like a cell), or dropped: no stream event
      return undefined;
    }
  }
}

const MAX_STREAM_HANDLES = 256;

export function serveEvents(req: IncomingMessage, res: ServerResponse, query: ReadonlyMap<string, string>, store: Store, feed: ChangeFeed, clients: EventClients, heads: StreamHeads): void {
  const filter = eventFilter(query);
  if (store.closed) throw new HttpError(503, 'ECLOSED', 'the store is closed');
  res.writeHead(200, { ...BASE_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
  let id = 0;
  const waiting = new Map<string, Change>();
  const write = (change: Change): boolean => {
    const data = { ...keyJson(change.key), epoch: change.epoch, type: change.type, length: change.length, labels: `0x${change.labels.toString(16)}`, ...(change.deleted ? { deleted: true } : {}) };
    return res.write(`id: ${++id}\nevent: change\ndata: ${jsonText(data)}\n\n`);
  };
  const flush = (): void => {
    for (const [name, head] of waitingStreams) {
      waitingStreams.delete(name);
      if (!res.write(`id: ${++id}\nevent: stream\ndata: ${jsonText({ stream: name, head })}\n\n`)) return;
    }
    for (const [k, change] of waiting) {
      waiting.delete(k);
      if (!write(change)) return; // the rest waits for the next drain
    }
  };
  const writeStream = (name: string, head: bigint): void => {
    if (res.writableNeedDrain) {
      waitingStreams.set(name, head); // the newest head of each stream waits for the drain, as changes of keys do
      return;
    }
    res.write(`id: ${++id}\nevent: stream\ndata: ${jsonText({ stream: name, head })}\n\n`);
  };
  const waitingStreams = new Map<string, bigint>();
  const onChanges = (changes: readonly Change[]): void => {
    const streamsMoved = new Set<string>();
    for (const change of changes) {
      if (!matches(filter, change.bytes)) continue;
      const stream = streamOfCell(change.key);
      if (stream !== undefined) streamsMoved.add(stream);
      if (res.writableNeedDrain || waiting.size > 0) {
        const k = hexOf(change.bytes);
        waiting.delete(k); // re-inserted at the end: the newest state, in the order keys last changed
        waiting.set(k, change);
      } else {
        write(change);
      }
    }
    for (const name of streamsMoved) {
      const head = heads.of(name);
      if (head !== undefined) writeStream(name, head);
    }
  };
  res.on('drain', flush);
  res.write(`retry: 1000\nevent: ready\ndata: ${jsonText({ epoch: store.epoch })}\n\n`);
  const unsubscribe = feed.subscribe(onChanges);
  clients.add(res);
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    unsubscribe();
    clients.remove(res);
    waiting.clear();
    waitingStreams.clear();
  };
  res.once('close', end);
  req.once('close', end);
}
