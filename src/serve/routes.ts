/** The route table of /v1: what is served, and what the OpenAPI document describes (built from it). */
import { sendJson } from './answer.js';
import { serveEvents } from './events.js';
import { INFO_ROUTES } from './info-routes.js';
import { INDEX_ROUTE } from './key-index.js';
import { KV_ROUTES } from './kv-routes.js';
import { openApiDocument } from './openapi.js';
import type { Route } from './route.js';

const API_VERSION = '1.0.0';

const EVENTS: Route = {
  method: 'GET',
  path: '/v1/events',
  handler: ({ req, res, query, gateway }) => serveEvents(req, res, query, gateway.store, gateway.feed, gateway.clients, gateway.heads),
  doc: {
    summary: 'Server-Sent Events: `event: change` for each change of a matching key, from any process',
    description:
      'First `event: ready` with the global epoch, then `event: change` with data { key, keyHex?, epoch, type, length, labels, deleted? } (labels: the label bits of the slot, 0x-hex) and an id. ' +
      'A client that reads slowly gets the latest state of each key. A stream append (a change of one of its cells that the filter matches) ' +
      'also gives `event: stream` with data { stream, head }. A comment line every 15 s keeps the stream open.',
    parameters: [
      { name: 'keys', in: 'query', description: 'comma-separated keys, each percent-encoded (a comma inside a key is %2C)', schema: { type: 'string' } },
      { name: 'prefix', in: 'query', description: 'keys starting with these bytes; with `keys`, either matches; neither: every key', schema: { type: 'string' } },
    ],
    responses: {
      '200': { description: 'the event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
      '400': { description: 'a bad key or prefix (EINVAL)', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
    },
  },
};

const OPENAPI: Route = {
  method: 'GET',
  path: '/v1/openapi.json',
  handler: ({ res }) => sendJson(res, 200, DOCUMENT),
  doc: { summary: 'this document', responses: { '200': { description: 'the OpenAPI 3.1 document', content: { 'application/json': { schema: { type: 'object' } } } } } },
};

export const ROUTES: readonly Route[] = [...KV_ROUTES, INDEX_ROUTE, ...INFO_ROUTES, EVENTS, OPENAPI];

const DOCUMENT = openApiDocument(ROUTES, API_VERSION);

export function openApi(): Record<string, unknown> {
  return DOCUMENT;
}
