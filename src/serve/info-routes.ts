/** The store's other views: header and fill, signal groups, the shard table, doctor findings, streams; events and the OpenAPI document are in routes.ts. */
import { isSplinterError } from '../errors.js';
import type { Store } from '../facade/store.js';
import { HttpError, sendJson } from './answer.js';
import type { Request, Route } from './route.js';

const SIGNAL_GROUPS = 64;
/** The stream convention's meta key ends so (docs/streams.md). */
const STREAM_META_SUFFIX = '#s';

function storeInfo(request: Request): void {
  const { store, readOnly, clients, feed } = request.gateway;
  const header = store.headerSnapshot();
  const keys = store.count();
  sendJson(request.res, 200, {
    target: store.target ?? null,
    geometry: { slots: store.slots, maxValueSize: store.maxValueSize, embeddings: store.embeddings },
    keys,
    fill: keys / store.slots,
    epoch: header.epoch,
    header,
    gateway: { readOnly, eventClients: clients.open.size, watching: feed.running },
  });
}

function signals(request: Request): void {
  const { store } = request.gateway;
  const groups = Array.from({ length: SIGNAL_GROUPS }, (_, group) => ({ group, count: store.getSignalCount(group) }));
  sendJson(request.res, 200, { groups });
}

function shards(request: Request): void {
  const table = request.gateway.store.shards.table();
  sendJson(request.res, 200, { records: table, sovereign: table.find((r) => r.sovereign)?.shardId ?? null });
}

async function doctor(request: Request): Promise<void> {
  const { store, doctor: diagnose } = request.gateway;
  if (diagnose === undefined) throw new HttpError(501, 'ENOTSUP', 'this server was started without the doctor (serve from the splinter-ts package or the CLI has it)');
  sendJson(request.res, 200, await diagnose(store));
}

function streamNames(store: Store): string[] {
  const names = new Set<string>();
  for (const key of store.keys()) {
    if (typeof key === 'string' && key.endsWith(STREAM_META_SUFFIX) && key.length > STREAM_META_SUFFIX.length) names.add(key.slice(0, -STREAM_META_SUFFIX.length));
  }
  return [...names].sort();
}

function streamInfo(store: Store, name: string): Record<string, unknown> | undefined {
  try {
    const stream = store.stream(name, { create: false });
    return { name, capacity: stream.capacity, head: stream.head(), oldest: stream.oldest() };
  } catch (error) {
    if (isSplinterError(error, 'ENOENT') || isSplinterError(error, 'EINVAL') || isSplinterError(error, 'ECORRUPT')) return undefined;
    throw error;
  }
}

function streams(request: Request): void {
  const { store } = request.gateway;
  const list = streamNames(store).flatMap((name) => streamInfo(store, name) ?? []);
  sendJson(request.res, 200, { streams: list });
}

function oneStream(request: Request): void {
  const raw = request.params.name!;
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, 'EINVAL', 'a stream name is percent-encoded UTF-8 text');
  }
  const info = streamInfo(request.gateway.store, name);
  if (info === undefined) throw new HttpError(404, 'ENOENT', `no such stream: ${JSON.stringify(name)}`);
  sendJson(request.res, 200, info);
}

const json = (ref: string): Record<string, { schema: Record<string, unknown> }> => ({ 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } });
const ok = (description: string): { description: string; content: Record<string, { schema: Record<string, unknown> }> } => ({ description, content: json('Object') });
const error = (description: string): { description: string; content: Record<string, { schema: Record<string, unknown> }> } => ({ description, content: json('Error') });

export const INFO_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/v1/store',
    handler: storeInfo,
    doc: { summary: 'the header, geometry, fill, global epoch and the gateway\'s own state', responses: { '200': ok('the store') } },
  },
  {
    method: 'GET',
    path: '/v1/signals',
    handler: signals,
    doc: { summary: 'the 64 signal groups and their counts', responses: { '200': ok('{ groups: [{ group, count }] }') } },
  },
  {
    method: 'GET',
    path: '/v1/shards',
    handler: shards,
    doc: { summary: 'the Logic Shard bid table, judged now; the sovereign marked', responses: { '200': ok('{ records, sovereign }') } },
  },
  {
    method: 'GET',
    path: '/v1/doctor',
    handler: doctor,
    doc: {
      summary: 'doctor findings, as `splinter doctor --json` gives them (read-only: no repair)',
      responses: { '200': ok('the diagnosis'), '501': error('no doctor in this server (ENOTSUP)') },
    },
  },
  {
    method: 'GET',
    path: '/v1/streams',
    handler: streams,
    doc: { summary: 'the streams in the store: name, capacity, head, oldest', responses: { '200': ok('{ streams }') } },
  },
  {
    method: 'GET',
    path: '/v1/streams/{name}',
    handler: oneStream,
    doc: {
      summary: "one stream's capacity, head and oldest seq",
      parameters: [{ name: 'name', in: 'path', required: true, description: 'the stream name, percent-encoded UTF-8', schema: { type: 'string' } }],
      responses: { '200': ok('the stream'), '400': error('a bad name (EINVAL)'), '404': error('no such stream (ENOENT)') },
    },
  },
];
