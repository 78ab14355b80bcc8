/** The key routes: list, get (raw or decoded), put (conditional), append, delete. */
import { SlotType } from '../layout/constants.js';
import type { Store } from '../facade/store.js';
import type { Key } from '../store/keys/key-text.js';
import type { SlotSnapshot } from '../store/values/snapshot.js';
import { HttpError, send, sendJson } from './answer.js';
import { readBody } from './body.js';
import { keyBytesOf, keyFromUrl, keyJson, percentBytes, startsWith } from './keys.js';
import type { Request, Route } from './route.js';
import { contentTypeOf, typeName } from './types.js';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function utf8(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function keyOf(request: Request): Key {
  return keyFromUrl(request.params.key!);
}

function metadata(snapshot: SlotSnapshot): Record<string, unknown> {
  return {
    epoch: snapshot.epoch,
    type: typeName(snapshot.typeFlag),
    typeFlag: snapshot.typeFlag,
    length: snapshot.valueLength,
    labels: `0x${snapshot.bloom.toString(16)}`,
    ctime: snapshot.ctime,
    atime: snapshot.atime,
  };
}

function queryInt(request: Request, name: string, fallback: number, max: number): number {
  const text = request.query.get(name);
  if (text === undefined || text === '') return fallback;
  if (!/^[0-9]{1,7}$/.test(text) || Number(text) < 1 || Number(text) > max) {
    throw new HttpError(400, 'EINVAL', `${name} is an integer 1..${max}, received ${JSON.stringify(text.slice(0, 20))}`);
  }
  return Number(text);
}

function queryMask(request: Request): bigint | undefined {
  const text = request.query.get('labels');
  if (text === undefined || text === '') return undefined;
  if (!/^(0x[0-9a-fA-F]{1,16}|[0-9]{1,20})$/.test(text) || BigInt(text) > 0xffff_ffff_ffff_ffffn) {
    throw new HttpError(400, 'EINVAL', `labels is a u64 mask, decimal or 0x-hex, received ${JSON.stringify(text.slice(0, 24))}`);
  }
  return BigInt(text);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** GET /v1/keys: keys in byte order after the cursor (the hex of the last key of the page before), with their metadata. */
function listKeys(request: Request): void {
  const { store } = request.gateway;
  const limit = queryInt(request, 'limit', DEFAULT_LIMIT, MAX_LIMIT);
  const prefixText = request.query.get('prefix');
  const prefix = prefixText === undefined ? new Uint8Array(0) : percentBytes(prefixText, 'prefix');
  const cursorText = request.query.get('cursor') ?? '';
  if (!/^([0-9a-f]{2}){0,63}$/.test(cursorText)) throw new HttpError(400, 'EINVAL', 'cursor is the `next` of a page before: lower-case hex of up to 63 bytes');
  const cursor = Buffer.from(cursorText, 'hex');
  const mask = queryMask(request);
  const labelled = mask === undefined ? undefined : new Set(store.enumerateMatches(mask).map((m) => Buffer.from(keyBytesOf(m.key)).toString('hex')));
  const seen = new Set<string>();
  const candidates: { key: Key; bytes: Uint8Array }[] = [];
  for (const key of store.keys()) {
    const bytes = keyBytesOf(key);
    if (!startsWith(bytes, prefix) || (cursor.length > 0 && compareBytes(bytes, cursor) <= 0)) continue;
    const hex = Buffer.from(bytes).toString('hex');
    if (seen.has(hex) || (labelled !== undefined && !labelled.has(hex))) continue; // a copy C left of a key is one key
    seen.add(hex);
    candidates.push({ key, bytes });
  }
  candidates.sort((a, b) => compareBytes(a.bytes, b.bytes));
  const items: Record<string, unknown>[] = [];
  let last: Uint8Array | undefined;
  let index = 0;
  for (; index < candidates.length && items.length < limit; index++) {
    const { key, bytes } = candidates[index]!;
    last = bytes;
    const snapshot = store.slotSnapshot(key);
    if (snapshot !== undefined) items.push({ ...keyJson(key), ...metadata(snapshot) });
  }
  const next = index < candidates.length && last !== undefined ? Buffer.from(last).toString('hex') : null;
  sendJson(request.res, 200, { keys: items, next });
}

/** The snapshot and value of one moment: read again while a write lands between them. */
function readConsistent(store: Store, key: Key): { snapshot: SlotSnapshot; value: Uint8Array } | undefined {
  for (let attempt = 0; attempt < 8; attempt++) {
    const snapshot = store.slotSnapshot(key);
    if (snapshot === undefined) return undefined;
    const value = store.get(key);
    if (value === undefined) return undefined;
    if (store.getEpoch(key) === snapshot.epoch) return { snapshot, value };
  }
  throw new HttpError(503, 'EAGAIN', `"${String(keyJson(key).key)}" changed on every read; try again`, { 'Retry-After': '1' });
}

function missing(key: Key): HttpError {
  return new HttpError(404, 'ENOENT', `no such key: ${JSON.stringify(keyJson(key).key)}`);
}

function decoded(store: Store, key: Key, flag: number, value: Uint8Array): Record<string, unknown> {
  const text = utf8(value);
  if ((flag & SlotType.BIGUINT) !== 0 && value.length === 8) return { encoding: 'decimal', value: Buffer.from(value).readBigUInt64LE(0).toString() };
  if ((flag & SlotType.JSON) !== 0 && text !== undefined) {
    try {
      return { encoding: 'json', value: JSON.parse(text) as unknown };
    } catch {
      return { encoding: 'text', value: text };
    }
  }
  const binary = (flag & (SlotType.BINARY | SlotType.IMGDATA | SlotType.AUDIO | SlotType.BIGINT)) !== 0;
  const embedding = store.embeddings ? store.getEmbedding(key) : undefined;
  const numbers = embedding !== undefined && embedding.some((x) => x !== 0) ? { embedding: Array.from(embedding) } : {};
  if (text !== undefined && !binary) return { encoding: 'text', value: text, ...numbers };
  return { encoding: 'hex', value: Buffer.from(value).toString('hex'), ...numbers };
}

/** GET /v1/keys/{key}: the raw value typed by its slot, or with ?decode=1 a JSON object. */
function getKey(request: Request): void {
  const { store } = request.gateway;
  const key = keyOf(request);
  const read = readConsistent(store, key);
  if (read === undefined) throw missing(key);
  const { snapshot, value } = read;
  const etag = { ETag: `"${snapshot.epoch}"` };
  const decode = request.query.get('decode');
  if (decode === '1' || decode === 'true') {
    sendJson(request.res, 200, { ...keyJson(key), epoch: snapshot.epoch, type: typeName(snapshot.typeFlag), length: value.length, ...decoded(store, key, snapshot.typeFlag, value) }, etag);
    return;
  }
  const isU64 = (snapshot.typeFlag & SlotType.BIGUINT) !== 0 && value.length === 8;
  const body = isU64 ? Buffer.from(Buffer.from(value).readBigUInt64LE(0).toString(), 'utf8') : value;
  send(request.res, 200, body, { 'Content-Type': contentTypeOf(snapshot.typeFlag), ...etag });
}

/** The slot type a PUT's Content-Type asks for; JSON must parse and text must be UTF-8. */
function typeOfBody(contentType: string | undefined, body: Buffer): number {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (media === 'application/json' || media.endsWith('+json')) {
    const text = utf8(body);
    try {
      if (text === undefined) throw new Error('not UTF-8');
      JSON.parse(text);
    } catch (error) {
      throw new HttpError(400, 'EINVAL', `a body sent as application/json must parse as JSON (${(error as Error).message.split('\n')[0]})`);
    }
    return SlotType.JSON;
  }
  if (media.startsWith('text/')) {
    if (utf8(body) === undefined) throw new HttpError(400, 'EINVAL', `a body sent as ${media} must be UTF-8 text; send bytes as application/octet-stream`);
    return SlotType.VARTEXT;
  }
  return SlotType.BINARY;
}

/** `"12"`, `12` or `W/"12"` → 12n; EINVAL for anything else. */
function epochOfTag(tag: string): bigint {
  const match = /^(?:W\/)?"?([0-9]{1,20})"?$/.exec(tag.trim());
  if (match === null) throw new HttpError(400, 'EINVAL', `If-Match takes one ETag this server gave ("<epoch>"), received ${JSON.stringify(tag.slice(0, 40))}`);
  return BigInt(match[1]!);
}

function refuseEncoded(request: Request): void {
  const encoding = request.req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    throw new HttpError(415, 'ENOTSUP', `bodies are taken as they are; Content-Encoding ${JSON.stringify(encoding.slice(0, 40))} is not supported`);
  }
}

async function body(request: Request): Promise<Buffer> {
  refuseEncoded(request);
  const bytes = await readBody(request.req, request.gateway.store.maxValueSize);
  if (bytes.length === 0) throw new HttpError(400, 'EINVAL', 'the body is empty; a value is 1 byte or more');
  return bytes;
}

function written(request: Request, key: Key, status: number): void {
  const snapshot = request.gateway.store.slotSnapshot(key);
  const fields = snapshot === undefined ? {} : { epoch: snapshot.epoch, type: typeName(snapshot.typeFlag), length: snapshot.valueLength };
  sendJson(request.res, status, { ...keyJson(key), ...fields }, snapshot === undefined ? {} : { ETag: `"${snapshot.epoch}"` });
}

/** PUT /v1/keys/{key}: the body as the value, typed by Content-Type; If-Match / If-None-Match make it conditional. */
async function putKey(request: Request): Promise<void> {
  const { store } = request.gateway;
  const key = keyOf(request);
  const ifMatch = request.req.headers['if-match'];
  const ifNoneMatch = request.req.headers['if-none-match'];
  if (ifMatch !== undefined && ifNoneMatch !== undefined) throw new HttpError(400, 'EINVAL', 'If-Match and If-None-Match exclude each other');
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') throw new HttpError(400, 'EINVAL', 'If-None-Match takes only "*" (write only when the key is absent)');
  const expected = ifMatch === undefined ? undefined : epochOfTag(ifMatch);
  const bytes = await body(request);
  const type = typeOfBody(request.req.headers['content-type'], bytes);
  const existed = store.has(key);
  const condition = expected !== undefined ? { ifEpoch: expected } : ifNoneMatch !== undefined ? { ifAbsent: true } : {};
  if (!store.set(key, bytes, { type, ...condition })) {
    const epoch = store.getEpoch(key);
    const why = expected !== undefined ? (epoch === 0n ? 'the key is absent' : `the key is at epoch ${epoch}`) : `the key exists (epoch ${epoch})`;
    throw new HttpError(412, expected !== undefined ? 'ESTALE' : 'EEXIST', `not written: ${why}`, epoch === 0n ? {} : { ETag: `"${epoch}"` }, { epoch });
  }
  written(request, key, existed ? 200 : 201);
}

/** POST /v1/keys/{key}/append: the body added at the end of the value. */
async function appendKey(request: Request): Promise<void> {
  const key = keyOf(request);
  const bytes = await body(request);
  request.gateway.store.append(key, bytes);
  written(request, key, 200);
}

/** DELETE /v1/keys/{key}: 404 when absent. */
function deleteKey(request: Request): void {
  const key = keyOf(request);
  const length = request.gateway.store.unset(key);
  if (length === undefined) throw missing(key);
  sendJson(request.res, 200, { ...keyJson(key), deleted: true, length });
}

const keyParam = { name: 'key', in: 'path', required: true, description: 'the key: its bytes percent-encoded (1..63 bytes, no NUL)', schema: { type: 'string' } } as const;
const json = (ref: string): Record<string, { schema: Record<string, unknown> }> => ({ 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } });
const error = (description: string): { description: string; content: Record<string, { schema: Record<string, unknown> }> } => ({ description, content: json('Error') });
const valueBody = {
  description: 'the value, 1..maxValueSize bytes',
  content: {
    'application/json': { schema: {} },
    'text/plain': { schema: { type: 'string' } },
    'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
  },
};

export const KV_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/v1/keys',
    handler: listKeys,
    doc: {
      summary: 'list keys with their metadata, in byte order, a page at a time',
      parameters: [
        { name: 'prefix', in: 'query', description: 'only keys starting with these bytes (percent-encoded)', schema: { type: 'string' } },
        { name: 'labels', in: 'query', description: 'only keys carrying every label bit of this u64 mask (decimal or 0x-hex)', schema: { type: 'string' } },
        { name: 'cursor', in: 'query', description: 'the `next` of the page before', schema: { type: 'string' } },
        { name: 'limit', in: 'query', description: `keys per page, 1..${MAX_LIMIT} (default ${DEFAULT_LIMIT})`, schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT } },
      ],
      responses: { '200': { description: 'a page of keys', content: json('KeyPage') }, '400': error('a bad parameter (EINVAL)') },
    },
  },
  {
    method: 'GET',
    path: '/v1/keys/{key}',
    handler: getKey,
    doc: {
      summary: "a key's value: raw bytes typed by the slot, or decoded as JSON with ?decode=1",
      description: 'JSON slots as application/json, VARTEXT as text/plain, BIGUINT as its decimal number in text/plain, others as application/octet-stream. ETag: "<epoch>".',
      parameters: [keyParam, { name: 'decode', in: 'query', description: '1: a JSON object with the value decoded by type', schema: { type: 'string', enum: ['1', 'true'] } }],
      responses: {
        '200': {
          description: 'the value',
          content: { ...json('DecodedValue'), 'text/plain': { schema: { type: 'string' } }, 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
        },
        '400': error('a bad key (EINVAL)'),
        '404': error('no such key (ENOENT)'),
        '503': error('the slot stayed busy (EAGAIN); Retry-After says when to try again'),
      },
    },
  },
  {
    method: 'PUT',
    path: '/v1/keys/{key}',
    handler: putKey,
    doc: {
      summary: 'write a value; Content-Type picks the slot type (application/json: JSON, text/*: VARTEXT, else BINARY)',
      parameters: [
        keyParam,
        { name: 'If-Match', in: 'header', description: 'write only while the key is at this epoch ("<epoch>", the ETag)', schema: { type: 'string' } },
        { name: 'If-None-Match', in: 'header', description: '"*": write only while the key is absent', schema: { type: 'string', enum: ['*'] } },
      ],
      requestBody: valueBody,
      responses: {
        '200': { description: 'written over a value', content: json('Written') },
        '201': { description: 'written as a new key', content: json('Written') },
        '400': error('a bad key, an empty body, JSON that does not parse, text that is not UTF-8 (EINVAL)'),
        '403': error('read-only, or a write from another origin (EPERM)'),
        '409': error('a BIGUINT slot and a value that is no u64 (EPROTOTYPE)'),
        '412': error('the condition failed: ESTALE for If-Match, EEXIST for If-None-Match; `epoch` is the current one'),
        '413': error('a body over maxValueSize (EMSGSIZE)'),
        '415': error('a Content-Encoding (ENOTSUP)'),
        '503': error('the slot stayed busy (EAGAIN)'),
        '507': error('no free slot (ENOSPC)'),
      },
    },
  },
  {
    method: 'POST',
    path: '/v1/keys/{key}/append',
    handler: appendKey,
    doc: {
      summary: 'append the body to the value',
      parameters: [keyParam],
      requestBody: valueBody,
      responses: {
        '200': { description: 'appended', content: json('Written') },
        '400': error('a bad key or an empty body (EINVAL)'),
        '403': error('read-only, or a write from another origin (EPERM)'),
        '404': error('no such key (ENOENT)'),
        '409': error('a BIGUINT slot (EPROTOTYPE)'),
        '413': error('the value would pass maxValueSize (EMSGSIZE)'),
      },
    },
  },
  {
    method: 'DELETE',
    path: '/v1/keys/{key}',
    handler: deleteKey,
    doc: {
      summary: 'remove a key',
      parameters: [keyParam],
      responses: {
        '200': { description: 'removed; `length` is the length it had', content: json('Deleted') },
        '400': error('a bad key (EINVAL)'),
        '403': error('read-only, or a write from another origin (EPERM)'),
        '404': error('no such key (ENOENT)'),
      },
    },
  },
];

