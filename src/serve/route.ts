/** A route: method, path template, handler, and what the OpenAPI document says of it. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Store } from '../facade/store.js';
import type { EventClients, StreamHeads } from './events.js';
import type { ChangeFeed } from './feed.js';

export interface Gateway {
  store: Store;
  readOnly: boolean;
  feed: ChangeFeed;
  clients: EventClients;
  heads: StreamHeads;
  doctor: ((store: Store) => Promise<unknown>) | undefined;
}

export interface Request {
  req: IncomingMessage;
  res: ServerResponse;
  /** Path parameters, still percent-encoded. */
  params: Readonly<Record<string, string>>;
  /** Query parameters, still percent-encoded ('+' already a space); the first of each name. */
  query: ReadonlyMap<string, string>;
  gateway: Gateway;
}

export interface ParameterDoc {
  name: string;
  in: 'path' | 'query' | 'header';
  description: string;
  required?: boolean;
  schema: Record<string, unknown>;
}

export interface RouteDoc {
  summary: string;
  description?: string;
  parameters?: readonly ParameterDoc[];
  requestBody?: { description: string; content: Record<string, { schema: Record<string, unknown> }> };
  /** Status → description and content (JSON answers name a schema of the components). */
  responses: Readonly<Record<string, { description: string; content?: Record<string, { schema: Record<string, unknown> }> }>>;
}

export interface Route {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** The OpenAPI path template, e.g. /v1/keys/{key}. */
  path: string;
  handler: (request: Request) => Promise<void> | void;
  doc: RouteDoc;
}

/** The template's parameters from a request path, or undefined when it does not match. */
export function matchPath(template: string, path: string): Record<string, string> | undefined {
  return matchParts(template.split('/'), path.split('/'));
}

/** matchPath on templates and paths split once (the server splits each request's path once for every route). */
export function matchParts(want: readonly string[], got: readonly string[]): Record<string, string> | undefined {
  if (want.length !== got.length) return undefined;
  let params: Record<string, string> | undefined;
  for (let i = 0; i < want.length; i++) {
    const part = want[i]!;
    if (part.charCodeAt(0) === 0x7b /* { */) {
      if (got[i] === '') return undefined;
      (params ??= {})[part.slice(1, -1)] = got[i]!;
    } else if (part !== got[i]) {
      return undefined;
    }
  }
  return params ?? {};
}

/** The query of a request target, each value still percent-encoded; '+' is a space, as forms send it. */
export function parseQuery(search: string): Map<string, string> {
  const query = new Map<string, string>();
  for (const pair of search.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = (eq < 0 ? pair : pair.slice(0, eq)).replace(/\+/g, '%20');
    const value = eq < 0 ? '' : pair.slice(eq + 1).replace(/\+/g, '%20');
    if (!query.has(name)) query.set(name, value);
  }
  return query;
}
