/** The OpenAPI 3.1 document, built from the route table itself: a route cannot be served undocumented, nor documented unserved. */
import type { Route } from './route.js';

/** Answers every route can give before its handler runs. */
const GUARD_RESPONSES = {
  '401': 'no token, or the wrong one (EACCES), when the server has a token',
  '403': 'a Host that is not loopback on a loopback bind (EPERM)',
  '414': 'a request target over 8192 bytes (EMSGSIZE)',
  '500': 'a fault of the gateway (EINTERNAL); the server goes on',
};

const errorRef = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };

const SCHEMAS = {
  Error: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { type: 'string', description: 'a SplinterError code (EINVAL, ENOENT, …) or EINTERNAL' },
          message: { type: 'string', description: 'what was expected and what was received' },
          epoch: { type: 'string', description: '412 only: the key\'s current epoch ("0" when absent)' },
        },
      },
    },
  },
  Key: {
    type: 'object',
    required: ['key'],
    properties: { key: { type: 'string', description: 'the key as text; escaped when not UTF-8' }, keyHex: { type: 'string', description: "the key's bytes in hex, when not UTF-8" } },
  },
  KeyInfo: {
    allOf: [
      { $ref: '#/components/schemas/Key' },
      {
        type: 'object',
        properties: {
          epoch: { type: 'string', description: 'u64 slot epoch, decimal' },
          type: { type: 'string' },
          typeFlag: { type: 'integer' },
          length: { type: 'integer' },
          labels: { type: 'string', description: 'the label mask, 0x-hex' },
          ctime: { type: 'string' },
          atime: { type: 'string' },
        },
      },
    ],
  },
  KeyPage: {
    type: 'object',
    properties: { keys: { type: 'array', items: { $ref: '#/components/schemas/KeyInfo' } }, next: { type: ['string', 'null'], description: 'the cursor of the next page; null at the end' } },
  },
  DecodedValue: {
    allOf: [
      { $ref: '#/components/schemas/Key' },
      {
        type: 'object',
        properties: {
          epoch: { type: 'string' },
          type: { type: 'string' },
          length: { type: 'integer' },
          encoding: { type: 'string', enum: ['json', 'text', 'decimal', 'hex'] },
          value: { description: 'parsed JSON, text, a decimal u64, or hex bytes, as `encoding` says' },
          embedding: { type: 'array', items: { type: 'number' }, description: "the slot's embedding, when the store has them and it is not all zeros" },
        },
      },
    ],
  },
  Written: {
    allOf: [{ $ref: '#/components/schemas/Key' }, { type: 'object', properties: { epoch: { type: 'string' }, type: { type: 'string' }, length: { type: 'integer' } } }],
  },
  Deleted: {
    allOf: [{ $ref: '#/components/schemas/Key' }, { type: 'object', properties: { deleted: { const: true }, length: { type: 'integer' } } }],
  },
  Object: { type: 'object' },
};

export function openApiDocument(routes: readonly Route[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const responses: Record<string, unknown> = {};
    for (const [status, description] of Object.entries(GUARD_RESPONSES)) responses[status] = { description, content: errorRef };
    Object.assign(responses, route.doc.responses);
    (paths[route.path] ??= {})[route.method.toLowerCase()] = {
      operationId: `${route.method.toLowerCase()}${route.path.replace(/[{}]/g, '').replace(/\/(\w)/g, (_m, c: string) => c.toUpperCase())}`,
      summary: route.doc.summary,
      ...(route.doc.description === undefined ? {} : { description: route.doc.description }),
      parameters: route.doc.parameters ?? [],
      ...(route.doc.requestBody === undefined ? {} : { requestBody: { required: true, ...route.doc.requestBody } }),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'splinter serve', version, description: 'The HTTP gateway of a Splinter store (docs/serve.md).' },
    components: { schemas: SCHEMAS, securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'needed when the server was given a token' } } },
    security: [{}, { bearer: [] }],
    paths,
  };
}
