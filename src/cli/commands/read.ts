/** The read group: a key's value, its slot, the list of keys, the whole store as JSON, a key's type. */
import { SlotType, SPLINTER_MAX_GROUPS } from '../../layout/constants.js';
import { type Key, keyIdentity, type SlotSnapshot } from '../../facade/inspect.js';
import type { Store } from '../../facade/store.js';
import type { Context } from '../context.js';
import { homeOf, probeDistance } from '../internal.js';
import { UsageError } from '../usage-error.js';
import { encodeValue, counted, grouped, hex64, hexDump, keyJson, keyMatcher, parseType, printableText, showKey, table, typeName } from '../values.js';
import { packageVersion } from '../version.js';
import type { Handler } from './handler.js';
import { notFound, readEntry } from './key.js';

function entryJson(ctx: Context, store: Store, key: Key, snapshot: SlotSnapshot, value: Uint8Array): Record<string, unknown> {
  const entry: Record<string, unknown> = {
    ...keyJson(ctx.shown(key)),
    type: typeName(snapshot.typeFlag),
    typeFlag: snapshot.typeFlag,
    length: snapshot.valueLength,
    epoch: snapshot.epoch,
    ...encodeValue(value),
  };
  if (snapshot.typeFlag & SlotType.BIGUINT) entry['number'] = store.getBigUint(key) ?? null;
  return entry;
}

function renderValue(store: Store, key: Key, typeFlag: number, value: Uint8Array): string {
  if (typeFlag & SlotType.BIGUINT) return (store.getBigUint(key) ?? 0n).toString();
  if (typeFlag & SlotType.BIGINT && value.length === 8) return Buffer.from(value).readBigInt64LE(0).toString();
  const text = printableText(value);
  if (typeFlag & SlotType.JSON && text !== undefined) {
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      return text;
    }
  }
  if (typeFlag & (SlotType.BINARY | SlotType.IMGDATA | SlotType.AUDIO) || text === undefined) return hexDump(value);
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

export const get: Handler = (ctx) => {
  const key = ctx.key(0);
  const store = ctx.store();
  const entry = readEntry(ctx, store, key);
  if (entry === undefined) throw notFound(ctx, key);
  if (ctx.flag('raw')) {
    ctx.io.bytes(entry.value);
    return;
  }
  if (ctx.json) {
    ctx.jsonOut(entryJson(ctx, store, key, entry.snapshot, entry.value));
    return;
  }
  ctx.line(renderValue(store, key, entry.snapshot.typeFlag, entry.value));
};

export const head: Handler = (ctx) => {
  const key = ctx.key(0);
  const store = ctx.store();
  const s = store.slotSnapshot(key);
  if (s === undefined) throw notFound(ctx, key);
  const home = homeOf(s.hash, store.slots);
  const distance = probeDistance(s.hash, s.index, store.slots);
  if (ctx.json) {
    ctx.jsonOut({ ...s, ...keyJson(ctx.shown(key)), type: typeName(s.typeFlag), home, probeDistance: distance });
    return;
  }
  const ownRegion = s.valueOffset === s.index * store.maxValueSize;
  const rows: Array<[string, string]> = [
    ['key', showKey(ctx.shown(key))],
    ['slot', `${s.index} (home ${home}, probe distance ${distance})`],
    ['epoch', s.epoch.toString()],
    ['type', `${typeName(s.typeFlag)} (${s.typeFlag})`],
    ['length', `${grouped(s.valueLength)} of ${counted(store.maxValueSize, 'byte')}`],
    ['offset', `${grouped(s.valueOffset)}${ownRegion ? ' (its own region)' : ` (slot ${Math.floor(s.valueOffset / store.maxValueSize)}'s region)`}`],
    ['labels', hex64(s.bloom)],
    ['watchers', hex64(s.watcherMask)],
    ['user_flag', `0x${s.userFlag.toString(16).padStart(2, '0')}`],
    ['ctime', s.ctime.toString()],
    ['atime', s.atime.toString()],
    ['hash', `0x${s.hash.toString(16).padStart(16, '0')}`],
  ];
  ctx.line(table(['field', 'value'], rows).split('\n').slice(1).join('\n'));
};

interface Listed {
  key: Key;
  snapshot: SlotSnapshot;
}

function listed(ctx: Context, store: Store, pattern: string | undefined): Listed[] {
  const matches = keyMatcher(pattern);
  const seen = new Set<string>();
  const out: Listed[] = [];
  for (const key of store.keys()) {
    const identity = keyIdentity(key);
    if (seen.has(identity) || !ctx.inNamespace(key)) continue;
    seen.add(identity);
    if (!matches(ctx.shown(key))) continue;
    const snapshot = store.slotSnapshot(key);
    if (snapshot !== undefined) out.push({ key, snapshot });
  }
  return out;
}

export const list: Handler = (ctx) => {
  const store = ctx.store();
  const entries = listed(ctx, store, ctx.inv.args[0]);
  const byKey = (a: Listed, b: Listed): number => {
    const x = keyIdentity(a.key);
    const y = keyIdentity(b.key);
    return x < y ? -1 : x > y ? 1 : 0;
  };
  entries.sort((a, b) => (a.snapshot.epoch === b.snapshot.epoch ? byKey(a, b) : a.snapshot.epoch > b.snapshot.epoch ? -1 : 1));
  const limit = ctx.option('limit') as number | undefined;
  const shown = limit === undefined ? entries : entries.slice(0, limit);
  if (ctx.json) {
    ctx.jsonOut(
      shown.map(({ key, snapshot: s }) => ({ ...keyJson(ctx.shown(key)), epoch: s.epoch, length: s.valueLength, type: typeName(s.typeFlag), slot: s.index })),
    );
    return;
  }
  if (shown.length === 0) return;
  const rows = shown.map(({ key, snapshot: s }) => [showKey(ctx.shown(key)), s.epoch.toString(), String(s.valueLength), typeName(s.typeFlag)]);
  ctx.line(table(['NAME', 'EPOCH', 'LEN', 'TYPE'], rows, new Set([1, 2])));
};

export const exportStore: Handler = (ctx) => {
  const format = ctx.inv.args[0] ?? 'json';
  if (format !== 'json') throw new UsageError(`export writes json only, received ${JSON.stringify(format)}`, 'export');
  const store = ctx.store();
  const h = store.headerSnapshot();
  const keys: Record<string, unknown>[] = [];
  for (const { key } of listed(ctx, store, undefined)) {
    const entry = readEntry(ctx, store, key);
    if (entry === undefined) continue;
    const s = entry.snapshot;
    const item: Record<string, unknown> = {
      ...entryJson(ctx, store, key, s, entry.value),
      slot: s.index,
      userFlag: s.userFlag,
      labels: hex64(s.bloom),
      watchers: hex64(s.watcherMask),
      ctime: s.ctime,
      atime: s.atime,
    };
    if (store.embeddings) {
      const vector = store.getEmbedding(key);
      if (vector !== undefined && vector.some((x) => x !== 0)) {
        item['embedding'] = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
      }
    }
    keys.push(item);
  }
  const signalGroups: Record<string, bigint> = {};
  for (let g = 0; g < SPLINTER_MAX_GROUPS; g++) {
    const count = store.getSignalCount(g);
    if (count !== 0n) signalGroups[g] = count;
  }
  ctx.jsonOut(
    {
      format: 'splinter-export',
      formatVersion: 1,
      exportedBy: `splinter-ts ${packageVersion()}`,
      store: {
        target: ctx.target(),
        slots: store.slots,
        maxValueSize: store.maxValueSize,
        embeddings: store.embeddings,
        epoch: h.epoch,
        mop: store.getMop(),
        coreFlags: h.coreFlags,
        userFlags: h.userFlags,
      },
      ...(ctx.prefix === '' ? {} : { prefix: ctx.prefix }),
      labelGroups: Object.fromEntries(h.labelGroups.flatMap((group, bit) => (group < SPLINTER_MAX_GROUPS ? [[bit, group]] : []))),
      signalGroups,
      keys,
    },
    !ctx.flag('compact'),
  );
};

export const type: Handler = (ctx) => {
  const key = ctx.key(0);
  const wanted = ctx.inv.args[1];
  const mask = wanted === undefined ? undefined : parseType(wanted, 'type');
  const store = ctx.store();
  if (mask !== undefined) {
    if (!store.has(key)) throw notFound(ctx, key);
    store.setNamedType(key, mask);
    if (ctx.json) ctx.jsonOut({ ...keyJson(ctx.shown(key)), type: typeName(mask), typeFlag: mask });
    return;
  }
  const s = store.slotSnapshot(key);
  if (s === undefined) throw notFound(ctx, key);
  if (ctx.json) ctx.jsonOut({ ...keyJson(ctx.shown(key)), type: typeName(s.typeFlag), typeFlag: s.typeFlag });
  else ctx.line(typeName(s.typeFlag));
};
