/**
 * GET /v1/index: every key with its metadata in one compact answer (rows of values, no field
 * names), for a client that keeps the whole key set, as the web inspector does: one pass over
 * the slots, no sort (the client orders the keys), where /v1/keys pages in byte order.
 */
import { isSplinterError } from '../errors.js';
import type { Store } from '../facade/store.js';
import { HttpError, sendJson } from './answer.js';
import { keyBytesOf, keyJson, percentBytes, startsWith } from './keys.js';
import type { Request, Route } from './route.js';
import { typeName } from './types.js';

export const INDEX_COLUMNS = ['key', 'keyHex', 'epoch', 'type', 'length', 'labels'] as const;

type Row = [string, string | null, string, string, number, string];

function rowsOf(store: Store, prefix: Uint8Array): { rows: Row[]; busy: number } {
  const rows: Row[] = [];
  const seen = new Set<string>();
  let busy = 0;
  for (const key of store.keys()) {
    const bytes = keyBytesOf(key);
    if (!startsWith(bytes, prefix)) continue;
    const shown = keyJson(key);
    const id = shown.keyHex ?? shown.key;
    if (seen.has(id)) continue; // a copy C left of a key is one key
    seen.add(id);
    let snapshot;
    try {
      snapshot = store.slotSnapshot(key);
    } catch (error) {
      if (!isSplinterError(error, 'EAGAIN')) throw error;
      busy++; // a slot held by a writer past the read budget: counted in the answer, and its change event follows
      continue;
    }
    if (snapshot === undefined) continue; // removed since the listing
    rows.push([shown.key, shown.keyHex ?? null, snapshot.epoch.toString(), typeName(snapshot.typeFlag), snapshot.valueLength, `0x${snapshot.bloom.toString(16)}`]);
  }
  return { rows, busy };
}

function keyIndex(request: Request): void {
  const { store } = request.gateway;
  const prefixText = request.query.get('prefix');
  const prefix = prefixText === undefined ? new Uint8Array(0) : percentBytes(prefixText, 'prefix');
  if (store.closed) throw new HttpError(503, 'ECLOSED', 'the store is closed');
  const epoch = store.epoch; // before the pass: a change during it has an event after this epoch
  const { rows, busy } = rowsOf(store, prefix);
  sendJson(request.res, 200, { epoch, columns: INDEX_COLUMNS, rows, busy });
}

export const INDEX_ROUTE: Route = {
  method: 'GET',
  path: '/v1/index',
  handler: keyIndex,
  doc: {
    summary: 'every key with its metadata in one answer, as rows of values (for clients that keep the whole key set)',
    description:
      '{ epoch, columns, rows, busy }: `columns` names the values of each row (key, keyHex or null, epoch, type, length, labels as 0x-hex); rows in slot order. ' +
      '`epoch` is the global epoch before the pass; `busy` counts keys whose slot a writer held past the read budget (left out; their change events follow). ' +
      'Open /v1/events first, then read this: no change is missed.',
    parameters: [{ name: 'prefix', in: 'query', description: 'only keys starting with these bytes (percent-encoded)', schema: { type: 'string' } }],
    responses: {
      '200': { description: 'the key set', content: { 'application/json': { schema: { $ref: '#/components/schemas/Object' } } } },
      '400': { description: 'a bad prefix (EINVAL)', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
    },
  },
};
