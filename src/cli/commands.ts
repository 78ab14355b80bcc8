/** The commands: each reads its Context, does one thing to the store, and prints the result. */
import { randomUUID } from 'node:crypto';
import { bridge } from '../bridge/index.js';
import { isSplinterError } from '../errors.js';
import { IntOp, Intent, SlotType, SPL_SYS_AUTO_SCRUB, SPL_SYS_HYBRID_SCRUB, SPLINTER_EMBED_DIM } from '../layout/constants.js';
import { storeSize } from '../layout/geometry.js';
import { nativeMmapAvailable } from '../store/native-mmap.js';
import type { SlotSnapshot } from '../store/snapshot.js';
import { Store } from '../store/store.js';
import { resolveTarget } from '../store/target.js';
import { CLI_CONTENTION_BUDGET_MS, type Context } from './context.js';
import { drop } from './drop.js';
import { diagnose, repair, type Diagnosis, type Finding, type Repair, type RepairOutcome } from './doctor.js';
import { homeOf, probeDistance } from './internal.js';
import { collectStats, renderStats } from './stats.js';
import { CliFailure, UsageError } from './usage-error.js';
import {
  encodeValue,
  grouped,
  hex64,
  hexDump,
  keyMatcher,
  parseGroup,
  parseMask,
  parseType,
  parseU64,
  preview,
  printableText,
  showKey,
  table,
  typeName,
} from './values.js';
import { packageVersion } from './version.js';

export type Handler = (ctx: Context) => Promise<number | void> | number | void;

const DEFAULT_SLOTS = 1024;
const DEFAULT_MAX_VALUE = 4096;
const DEFAULT_DOCTOR_WAIT_MS = 100;

const MOP_NAMES = ['off', 'hybrid', 'full'] as const;

function notFound(ctx: Context, key: string): CliFailure {
  return new CliFailure('ENOENT', `${ctx.command} ${JSON.stringify(ctx.shown(key))}: no such key${ctx.namespaceNote()}`);
}

/** EAGAIN from the library, said in the command's words. */
function busy(command: string, key: string, error: unknown): unknown {
  if (!isSplinterError(error, 'EAGAIN')) return error;
  return new CliFailure(
    'EAGAIN',
    `${command} ${JSON.stringify(key)}: the slot stayed locked (odd epoch) for ${CLI_CONTENTION_BUDGET_MS} ms: ` +
      'a writer is inside it, or died there (splinter doctor finds stuck slots)',
  );
}

/** A slot snapshot and the value read under the same slot epoch (retried a few times under contention). */
function readEntry(ctx: Context, store: Store, key: string): { snapshot: SlotSnapshot; value: Uint8Array } | undefined {
  let last: { snapshot: SlotSnapshot; value: Uint8Array } | undefined;
  try {
    for (let attempt = 0; attempt < 20; attempt++) {
      const before = store.slotSnapshot(key);
      if (before === undefined) return undefined;
      const value = store.get(key);
      const after = store.slotSnapshot(key);
      if (value === undefined || after === undefined) return undefined;
      last = { snapshot: after, value };
      if (after.epoch === before.epoch && after.index === before.index) return last;
    }
  } catch (error) {
    throw busy(ctx.command, ctx.shown(key), error);
  }
  return last;
}

function whereOf(target: string): string {
  const resolved = resolveTarget(target);
  return resolved.kind === 'shm' ? `shared-memory store ${JSON.stringify(target)}` : `store file ${target}`;
}

function mopName(mode: number): string {
  return `${mode} (${MOP_NAMES[mode] ?? '?'})`;
}

// ── Store ────────────────────────────────────────────────────────────────────

const init: Handler = (ctx) => {
  const target = ctx.inv.args[0] ?? ctx.target();
  const slots = (ctx.option('slots') as number | undefined) ?? DEFAULT_SLOTS;
  const maxValueSize = (ctx.option('max-value') as number | undefined) ?? DEFAULT_MAX_VALUE;
  const embeddings = ctx.flag('embeddings');
  if (slots < 1) throw new UsageError('--slots must be at least 1', 'init');
  if (maxValueSize < 1) throw new UsageError('--max-value must be at least 1', 'init');
  const store = Store.create(target, { slots, maxValueSize, embeddings });
  store.close();
  const size = storeSize(slots, maxValueSize, embeddings);
  const path = resolveTarget(target).path;
  if (ctx.json) {
    ctx.jsonOut({ target, path, slots, maxValueSize, embeddings, size });
    return;
  }
  ctx.line(
    `created ${target}: ${grouped(slots)} slots, values up to ${grouped(maxValueSize)} bytes${embeddings ? ', with embeddings' : ''} ` +
      `(${grouped(size)} bytes in ${path})`,
  );
  if (ctx.session.interactive && ctx.session.current === undefined && ctx.inv.globals.store === undefined) ctx.session.current = target;
};

const use: Handler = (ctx) => {
  const target = ctx.arg(0);
  const store = ctx.session.store(target);
  if (ctx.session.interactive) ctx.session.current = target;
  if (ctx.json) {
    ctx.jsonOut({ target, slots: store.slots, maxValueSize: store.maxValueSize, embeddings: store.embeddings });
    return;
  }
  ctx.line(`using ${target}: ${grouped(store.slots)} slots, values up to ${grouped(store.maxValueSize)} bytes`);
  if (!ctx.session.interactive) ctx.line(`(a one-shot call remembers nothing: pass --use ${target}, or export SPLINTER_STORE=${target})`);
};

const config: Handler = (ctx) => {
  const store = ctx.store();
  const [what, value] = ctx.inv.args;
  if (what !== undefined) {
    if (what !== 'mop') throw new UsageError(`config sets only mop, received ${JSON.stringify(what)}`, 'config');
    if (value === undefined) {
      ctx.line(mopName(store.getMop()));
      return;
    }
    const index = MOP_NAMES.indexOf(value as (typeof MOP_NAMES)[number]);
    const mode = index >= 0 ? index : /^[012]$/.test(value) ? Number(value) : -1;
    if (mode < 0) throw new UsageError(`a mop mode is 0 (off), 1 (hybrid) or 2 (full), received ${JSON.stringify(value)}`, 'config');
    store.setMop(mode as 0 | 1 | 2);
    const now = store.getMop();
    if (ctx.json) ctx.jsonOut({ mop: now, asked: mode });
    else if (now !== mode) ctx.line(`mop is ${mopName(now)}: setting 2 leaves hybrid on, as the C library does; set 0 first for full`);
    else ctx.line(`mop ${mopName(now)}`);
    return;
  }
  const h = store.headerSnapshot();
  const target = ctx.target();
  const size = storeSize(h.slots, h.maxValueSize, store.embeddings);
  const bindings = h.labelGroups.flatMap((group, bit) => (group < 64 ? [`bit ${bit} → group ${group}`] : []));
  if (ctx.json) {
    ctx.jsonOut({
      target,
      path: resolveTarget(target).path,
      ...h,
      embeddings: store.embeddings,
      size,
      mop: store.getMop(),
      labelGroups: Object.fromEntries(h.labelGroups.flatMap((group, bit) => (group < 64 ? [[bit, group]] : []))),
    });
    return;
  }
  const flags = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;
  const rows: Array<[string, string]> = [
    ['store', `${target} (${resolveTarget(target).path})`],
    ['magic', `0x${h.magic.toString(16).toUpperCase()}`],
    ['version', String(h.version)],
    ['slots', grouped(h.slots)],
    ['max_val_sz', grouped(h.maxValueSize)],
    ['embeddings', store.embeddings ? `yes (${SPLINTER_EMBED_DIM} float32 per slot)` : 'no'],
    ['size', `${grouped(size)} bytes`],
    ['epoch', h.epoch.toString()],
    ['mop', mopName(store.getMop())],
    [
      'core_flags',
      `${flags(h.coreFlags)}${h.coreFlags & SPL_SYS_AUTO_SCRUB ? ' auto_scrub' : ''}${h.coreFlags & SPL_SYS_HYBRID_SCRUB ? ' hybrid_scrub' : ''}`,
    ],
    ['user_flags', flags(h.userFlags)],
    ['val_brk', String(h.valBrk)],
    ['parse_failures', h.parseFailures.toString()],
    ['event bus', h.ownerPid === 0 ? 'not armed' : `armed by pid ${h.ownerPid} (fd ${h.ownerFd})`],
    ['label groups', bindings.length === 0 ? 'none' : bindings.join(', ')],
  ];
  ctx.line(table(['field', 'value'], rows).split('\n').slice(1).join('\n'));
};

const caps: Handler = (ctx) => {
  let bus = false;
  let shards = false;
  try {
    const probe = Store.createShared({ slots: 1, maxValueSize: 1 }) as unknown as Record<string, unknown>;
    bus = typeof probe['watch'] === 'function' && typeof probe['signals'] === 'function';
    const s = probe['shards'] as Record<string, unknown> | undefined;
    shards = typeof s?.['table'] === 'function' && typeof s['election'] === 'function';
    (probe as unknown as Store).close();
  } catch {
    // a build without the bus or shards
  }
  const yes = (b: boolean): string => (b ? 'yes' : 'no');
  const caps: Record<string, string> = {
    version: packageVersion(),
    build: `splinter-ts (node ${process.version}, ${process.platform} ${process.arch})`,
    format: '4',
    embeddings: 'yes',
    persistent: 'yes',
    mmap: yes(nativeMmapAvailable()),
    bus: yes(bus),
    shards: yes(shards),
    lua: 'no',
    wasm: 'no',
    llama: 'no',
    numa: 'no',
  };
  if (ctx.json) ctx.jsonOut(caps);
  else for (const [k, v] of Object.entries(caps)) ctx.line(`${k}=${v}`);
};

// ── Reading ──────────────────────────────────────────────────────────────────

function entryJson(ctx: Context, store: Store, key: string, snapshot: SlotSnapshot, value: Uint8Array): Record<string, unknown> {
  const entry: Record<string, unknown> = {
    key: ctx.shown(key),
    type: typeName(snapshot.typeFlag),
    typeFlag: snapshot.typeFlag,
    length: snapshot.valueLength,
    epoch: snapshot.epoch,
    ...encodeValue(value),
  };
  if (snapshot.typeFlag & SlotType.BIGUINT) entry['number'] = store.getBigUint(key) ?? null;
  return entry;
}

function renderValue(store: Store, key: string, typeFlag: number, value: Uint8Array): string {
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

const get: Handler = (ctx) => {
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

const head: Handler = (ctx) => {
  const key = ctx.key(0);
  const store = ctx.store();
  const s = store.slotSnapshot(key);
  if (s === undefined) throw notFound(ctx, key);
  const home = homeOf(s.hash, store.slots);
  const distance = probeDistance(s.hash, s.index, store.slots);
  if (ctx.json) {
    ctx.jsonOut({ ...s, key: ctx.shown(key), type: typeName(s.typeFlag), home, probeDistance: distance });
    return;
  }
  const ownRegion = s.valueOffset === s.index * store.maxValueSize;
  const rows: Array<[string, string]> = [
    ['key', showKey(ctx.shown(key))],
    ['slot', `${s.index} (home ${home}, probe distance ${distance})`],
    ['epoch', s.epoch.toString()],
    ['type', `${typeName(s.typeFlag)} (${s.typeFlag})`],
    ['length', `${grouped(s.valueLength)} of ${grouped(store.maxValueSize)} bytes`],
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
  key: string;
  snapshot: SlotSnapshot;
}

function listed(ctx: Context, store: Store, pattern: string | undefined): Listed[] {
  const matches = keyMatcher(pattern);
  const seen = new Set<string>();
  const out: Listed[] = [];
  for (const key of store.keys()) {
    if (seen.has(key) || !ctx.inNamespace(key)) continue;
    seen.add(key);
    if (!matches(ctx.shown(key))) continue;
    const snapshot = store.slotSnapshot(key);
    if (snapshot !== undefined) out.push({ key, snapshot });
  }
  return out;
}

const list: Handler = (ctx) => {
  const store = ctx.store();
  const entries = listed(ctx, store, ctx.inv.args[0]);
  entries.sort((a, b) => (a.snapshot.epoch === b.snapshot.epoch ? (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) : a.snapshot.epoch > b.snapshot.epoch ? -1 : 1));
  const limit = ctx.option('limit') as number | undefined;
  const shown = limit === undefined ? entries : entries.slice(0, limit);
  if (ctx.json) {
    ctx.jsonOut(
      shown.map(({ key, snapshot: s }) => ({ key: ctx.shown(key), epoch: s.epoch, length: s.valueLength, type: typeName(s.typeFlag), slot: s.index })),
    );
    return;
  }
  if (shown.length === 0) return;
  const rows = shown.map(({ key, snapshot: s }) => [showKey(ctx.shown(key)), s.epoch.toString(), String(s.valueLength), typeName(s.typeFlag)]);
  ctx.line(table(['NAME', 'EPOCH', 'LEN', 'TYPE'], rows, new Set([1, 2])));
};

const exportStore: Handler = (ctx) => {
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
  for (let g = 0; g < 64; g++) {
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
      labelGroups: Object.fromEntries(h.labelGroups.flatMap((group, bit) => (group < 64 ? [[bit, group]] : []))),
      signalGroups,
      keys,
    },
    !ctx.flag('compact'),
  );
};

const type: Handler = (ctx) => {
  const key = ctx.key(0);
  const wanted = ctx.inv.args[1];
  const mask = wanted === undefined ? undefined : parseType(wanted, 'type');
  const store = ctx.store();
  if (mask !== undefined) {
    if (!store.has(key)) throw notFound(ctx, key);
    store.setNamedType(key, mask);
    if (ctx.json) ctx.jsonOut({ key: ctx.shown(key), type: typeName(mask), typeFlag: mask });
    return;
  }
  const s = store.slotSnapshot(key);
  if (s === undefined) throw notFound(ctx, key);
  if (ctx.json) ctx.jsonOut({ key: ctx.shown(key), type: typeName(s.typeFlag), typeFlag: s.typeFlag });
  else ctx.line(typeName(s.typeFlag));
};

// ── Writing ──────────────────────────────────────────────────────────────────

const set: Handler = async (ctx) => {
  const key = ctx.key(0);
  const typeText = ctx.option('type');
  const mask = typeof typeText === 'string' ? parseType(typeText, 'set') : undefined;
  const value = await ctx.valueBytes(1);
  const store = ctx.store();
  store.set(key, value);
  if (mask !== undefined) store.setNamedType(key, mask);
  if (ctx.json) ctx.jsonOut({ key: ctx.shown(key), length: typeof value === 'string' ? Buffer.byteLength(value) : value.length, epoch: store.getEpoch(key) });
};

const append: Handler = async (ctx) => {
  const key = ctx.key(0);
  const data = await ctx.valueBytes(1);
  const store = ctx.store();
  if (!store.has(key)) throw notFound(ctx, key);
  const length = store.append(key, data);
  if (ctx.json) ctx.jsonOut({ key: ctx.shown(key), length });
};

const unset: Handler = (ctx) => {
  const key = ctx.key(0);
  const store = ctx.store();
  if (!store.has(key)) throw notFound(ctx, key);
  let bytes = 0;
  const removed: string[] = [];
  if (ctx.flag('recursive')) {
    for (let order = 1; ; order++) {
      const orderKey = `${key}.${order}`;
      if (Buffer.byteLength(orderKey) > 63) break;
      const length = store.unset(orderKey);
      if (length === undefined) break;
      bytes += length;
      removed.push(orderKey);
    }
  }
  const length = store.unset(key);
  if (length === undefined) throw notFound(ctx, key);
  bytes += length;
  removed.unshift(key);
  if (ctx.json) {
    ctx.jsonOut({ deleted: removed.map((k) => ctx.shown(k)), bytes });
    return;
  }
  const what = removed.length === 1 ? showKey(ctx.shown(key)) : `${showKey(ctx.shown(key))} and ${removed.length - 1} order${removed.length === 2 ? '' : 's'}`;
  ctx.line(`deleted ${what} (${grouped(bytes)} bytes)`);
};

const MATH_OPS: Record<string, IntOp> = {
  inc: IntOp.INC,
  incr: IntOp.INC,
  add: IntOp.INC,
  dec: IntOp.DEC,
  decr: IntOp.DEC,
  sub: IntOp.DEC,
  and: IntOp.AND,
  or: IntOp.OR,
  xor: IntOp.XOR,
  not: IntOp.NOT,
};
export const MATH_OP_NAMES = ['inc', 'dec', 'and', 'or', 'xor', 'not'];

const math: Handler = (ctx) => {
  const key = ctx.key(0);
  const opName = ctx.arg(1).toLowerCase();
  const op = MATH_OPS[opName];
  if (op === undefined) throw new UsageError(`unknown math operation ${JSON.stringify(ctx.arg(1))}; one of ${MATH_OP_NAMES.join(', ')}`, 'math');
  const valueText = ctx.inv.args[2];
  let operand = 0n;
  if (op === IntOp.NOT) {
    if (valueText !== undefined) throw new UsageError('math not takes no value', 'math');
  } else if (valueText === undefined) {
    if (op !== IntOp.INC && op !== IntOp.DEC) throw new UsageError(`math ${opName} needs a VALUE`, 'math');
    operand = 1n;
  } else {
    operand = parseU64(valueText, 'the math VALUE', 'math');
  }
  const store = ctx.store();
  const s = store.slotSnapshot(key);
  if (s === undefined) throw notFound(ctx, key);
  if ((s.typeFlag & SlotType.BIGUINT) === 0) {
    throw new CliFailure('EPROTOTYPE', `math ${JSON.stringify(ctx.shown(key))}: the key is ${typeName(s.typeFlag)}, not biguint (convert it with: splinter type ${ctx.arg(0)} biguint)`);
  }
  store.integerOp(key, op, operand);
  const now = store.getBigUint(key) ?? 0n;
  if (ctx.json) ctx.jsonOut({ key: ctx.shown(key), value: now });
  else ctx.line(now.toString());
};

function labelHandler(on: boolean): Handler {
  return (ctx) => {
    const key = ctx.key(0);
    const mask = parseMask(ctx.arg(1), ctx.command);
    const store = ctx.store();
    if (!store.has(key)) throw notFound(ctx, key);
    if (on) store.setLabel(key, mask);
    else store.unsetLabel(key, mask);
    const labels = store.slotSnapshot(key)?.bloom ?? 0n;
    if (ctx.json) ctx.jsonOut({ key: ctx.shown(key), labels: hex64(labels) });
  };
}

const bind: Handler = (ctx) => {
  const mask = parseMask(ctx.arg(0), 'bind');
  const groupText = ctx.arg(1);
  const group = /^(none|off|-)$/i.test(groupText) ? undefined : parseGroup(groupText, 'bind');
  const store = ctx.store();
  if (group === undefined) store.watchLabelUnregister(mask);
  else store.watchLabelRegister(mask, group);
  if (ctx.json) {
    const groups = store.headerSnapshot().labelGroups;
    ctx.jsonOut(Object.fromEntries(groups.flatMap((group, bit) => (group < 64 ? [[bit, group]] : []))));
  }
};

function keyed(action: (store: Store, key: string) => void): Handler {
  return (ctx) => {
    const key = ctx.key(0);
    const store = ctx.store();
    if (!store.has(key)) throw notFound(ctx, key);
    action(store, key);
    if (ctx.json) ctx.jsonOut({ key: ctx.shown(key), epoch: store.getEpoch(key) });
  };
}

const orders: Handler = (ctx) => {
  const [first, second] = ctx.inv.args;
  const modes = ['show', 'set', 'unset'];
  const mode = modes.includes(first!) && second !== undefined ? first! : 'show';
  const base = mode === first ? 1 : 0;
  if (mode === 'show' && ctx.inv.args.length > base + 1) {
    throw new UsageError(`orders takes show, set or unset first, received ${JSON.stringify(first)}`, 'orders');
  }
  const key = ctx.key(base);
  const rest = ctx.inv.args.slice(base + 1);
  if (mode === 'set') {
    if (rest.length === 0) throw new UsageError('orders set needs KEY and at least one VALUE (VALUE0 is the base key)', 'orders');
    if (rest.length > 255) throw new UsageError(`orders set takes at most 255 values, received ${rest.length}`, 'orders');
    const store = ctx.store();
    store.setTandem(key, rest);
    if (ctx.json) ctx.jsonOut({ key: ctx.shown(key), orders: rest.length });
    else ctx.line(`set ${showKey(ctx.shown(key))} and ${rest.length - 1} order${rest.length === 2 ? '' : 's'}`);
    return;
  }
  if (mode === 'unset') {
    if (rest.length !== 1) throw new UsageError('orders unset needs KEY and COUNT', 'orders');
    const count = Number(parseU64(rest[0]!, 'COUNT', 'orders'));
    if (count < 1 || count > 255) throw new UsageError(`COUNT is 1..255 (the base key is order 0), received ${rest[0]}`, 'orders');
    ctx.store().unsetTandem(key, count);
    if (ctx.json) ctx.jsonOut({ key: ctx.shown(key), orders: count });
    return;
  }
  const store = ctx.store();
  const found: Array<{ order: number; key: string; length: number; preview: string }> = [];
  for (let order = 0; order < 256; order++) {
    const orderKey = order === 0 ? key : `${key}.${order}`;
    if (Buffer.byteLength(orderKey) > 63) break;
    const value = store.get(orderKey);
    if (value === undefined) break;
    found.push({ order, key: ctx.shown(orderKey), length: value.length, preview: preview(value) });
  }
  if (found.length === 0) throw notFound(ctx, key);
  if (ctx.json) ctx.jsonOut(found.map(({ preview: _p, ...rest }) => rest));
  else ctx.line(table(['ORDER', 'KEY', 'LEN', 'VALUE'], found.map((f) => [String(f.order), showKey(f.key), String(f.length), f.preview]), new Set([0, 2])));
};

// ── Bus ──────────────────────────────────────────────────────────────────────

interface BusApi {
  watch(keys: string[], options: { signal: AbortSignal }): AsyncIterable<{ key: string; epoch: bigint }>;
  signals(group: number, options: { signal: AbortSignal }): AsyncIterable<bigint>;
}

function clock(): string {
  const d = new Date();
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

const watch: Handler = async (ctx) => {
  const group = ctx.option('group') as number | undefined;
  const keys = ctx.inv.args.map((_, i) => ctx.key(i));
  if (group === undefined && keys.length === 0) throw new UsageError('watch needs KEY… or --group G', 'watch');
  if (group !== undefined && keys.length > 0) throw new UsageError('watch takes KEY… or --group G, not both', 'watch');
  if (group !== undefined) parseGroup(group, 'watch');
  const store = ctx.store();
  const bus = store as unknown as Partial<BusApi>;
  const needed = group === undefined ? 'watch' : 'signals';
  if (typeof bus[needed] !== 'function') {
    throw new CliFailure('ENOTSUP', `watch needs the bus (store.${needed}), which this build of splinter-ts does not have yet`);
  }
  const oneshot = ctx.flag('oneshot');
  const timeout = ctx.option('timeout') as number | undefined;
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  ctx.signal.addEventListener('abort', stop, { once: true });
  let timedOut = false;
  const timer = timeout === undefined ? undefined : setTimeout(() => ((timedOut = true), controller.abort()), timeout);
  let events = 0;
  try {
    if (group !== undefined) {
      for await (const count of bus.signals!(group, { signal: controller.signal })) {
        events++;
        if (ctx.json) ctx.jsonOut({ time: new Date().toISOString(), group, count }, false);
        else ctx.line(`${clock()}  group ${group}  count ${count}`);
        if (oneshot) break;
      }
    } else {
      for await (const change of bus.watch!(keys, { signal: controller.signal })) {
        events++;
        const entry = readEntry(ctx, store, change.key);
        const number = entry !== undefined && entry.snapshot.typeFlag & SlotType.BIGUINT ? store.getBigUint(change.key) : undefined;
        if (ctx.json) {
          const value = entry === undefined ? { unset: true } : { ...encodeValue(entry.value), ...(number === undefined ? {} : { number }) };
          ctx.jsonOut({ time: new Date().toISOString(), key: ctx.shown(change.key), epoch: change.epoch, ...value }, false);
        } else {
          const shown = entry === undefined ? '(unset)' : number !== undefined ? number.toString() : preview(entry.value);
          ctx.line(`${clock()}  ${showKey(ctx.shown(change.key))}  epoch ${change.epoch}  ${shown}`);
        }
        if (oneshot) break;
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    ctx.signal.removeEventListener('abort', stop);
  }
  if (timedOut && events === 0) throw new CliFailure('ETIMEDOUT', `watch: no change within ${timeout} ms`);
};

const bridgeCommand: Handler = async (ctx) => {
  const url = ctx.option('redis');
  if (typeof url !== 'string') throw new UsageError('bridge needs --redis URL', 'bridge');
  const target = ctx.target();
  const hostId = ctx.option('host-id') as string | undefined;
  const streamMaxLength = ctx.option('stream-max') as number | undefined;
  const running = await bridge({ store: target, redis: url, prefix: ctx.prefix, hostId, streamMaxLength, onEvent: (event) => ctx.io.err(`splinter bridge: ${event.message}`) });
  ctx.line(`bridging ${target}${ctx.namespaceNote()} as ${running.hostId}; Ctrl-C stops`);
  if (!ctx.signal.aborted) await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
  await running.close();
};

const INTENTS = Object.fromEntries(Object.entries(Intent).map(([name, value]) => [value, name.toLowerCase()])) as Record<number, string>;

interface ShardsApi {
  table(): Array<{ index?: number; shardId: number; pid: number; intent: number; priority: number; duration: bigint; claimedAt: bigint; expired: boolean; sovereign: boolean }>;
  election(): { id: number; intent: number } | undefined;
}

const shard: Handler = (ctx) => {
  const view = ctx.inv.args[0] ?? 'table';
  if (view !== 'table' && view !== 'who') throw new UsageError(`shard shows table or who, received ${JSON.stringify(view)}`, 'shard');
  const store = ctx.store();
  let shards: Partial<ShardsApi> | undefined;
  try {
    shards = (store as unknown as { shards?: Partial<ShardsApi> }).shards;
  } catch (error) {
    if (!isSplinterError(error)) throw error;
  }
  if (typeof shards?.table !== 'function' || typeof shards.election !== 'function') {
    throw new CliFailure('ENOTSUP', 'shard needs the Logic Shards (store.shards), which this build of splinter-ts does not have yet');
  }
  const bids = shards.table().map((b, i) => ({ ...b, index: b.index ?? i }));
  const sovereign = shards.election();
  const who = sovereign === undefined ? undefined : { id: sovereign.id, intent: INTENTS[sovereign.intent] ?? String(sovereign.intent) };
  if (ctx.json) {
    ctx.jsonOut(view === 'who' ? { sovereign: who ?? null } : { sovereign: who ?? null, bids: ctx.flag('all') ? bids : bids.filter((b) => b.shardId !== 0) });
    return;
  }
  const whoLine = who === undefined ? 'sovereign: none (no live bid)' : `sovereign: 0x${who.id.toString(16)} (${who.intent})`;
  if (view === 'who') {
    ctx.line(whoLine);
    return;
  }
  const shown = ctx.flag('all') ? bids : bids.filter((b) => b.shardId !== 0);
  if (shown.length === 0) {
    ctx.line('no bids');
  } else {
    const rows = shown.map((b) => [
      String(b.index),
      b.shardId === 0 ? '-' : `0x${b.shardId.toString(16)}`,
      String(b.pid),
      INTENTS[b.intent] ?? String(b.intent),
      String(b.priority),
      b.duration.toString(),
      b.claimedAt.toString(),
      b.shardId === 0 ? 'free' : b.sovereign ? 'sovereign' : b.expired ? 'expired' : 'live',
    ]);
    ctx.line(table(['RECORD', 'SHARD', 'PID', 'INTENT', 'PRIO', 'DURATION', 'CLAIMED_AT', 'STATE'], rows, new Set([0, 2, 4, 5, 6])));
  }
  ctx.line(whoLine);
};

// ── Health ───────────────────────────────────────────────────────────────────

const REPAIR_TEXT: Record<Repair, string> = { drop: 'clear the slot, dropping the key', clear: 'clear the slot', 'remove-duplicate': 'remove the stale copy' };

function findingLine(f: Finding): string {
  const fix = f.repair === undefined ? '' : `  [--repair: ${REPAIR_TEXT[f.repair]}]`;
  return `  ${f.severity === 'damage' ? 'DAMAGE' : 'note  '}  ${f.kind.padEnd(18)}  ${f.message}${fix}`;
}

function summarise(d: Diagnosis, verbose: boolean): { damage: Finding[]; lines: string[] } {
  const damage = d.findings.filter((f) => f.severity === 'damage');
  const lines = d.findings.filter((f) => verbose || f.severity === 'damage').map(findingLine);
  return { damage, lines };
}

const doctor: Handler = async (ctx) => {
  const target = ctx.inv.args[0] ?? ctx.target();
  const resolved = resolveTarget(target);
  const where = whereOf(target);
  const waitMs = (ctx.option('wait') as number | undefined) ?? DEFAULT_DOCTOR_WAIT_MS;
  const verbose = ctx.flag('verbose');
  const run = async (): Promise<Diagnosis> => {
    try {
      return await diagnose(resolved.path, where, waitMs);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new CliFailure('ENOENT', `doctor: ${where} does not exist (${resolved.path})`);
      if (code === 'EACCES' || code === 'EPERM') throw new CliFailure('EACCES', `doctor: cannot read ${resolved.path}: permission denied`);
      if (code === 'ENOTFILE' || code === 'EISDIR') throw new CliFailure('EINVAL', `doctor: ${resolved.path} is not a regular file`);
      throw error;
    }
  };
  const first = await run();
  const report = summarise(first, verbose);
  const geometry =
    first.slots === undefined ? '' : `: ${grouped(first.slots)} slots × ${grouped(first.maxValueSize!)} bytes${first.embeddings ? ' with embeddings' : ''}, ${grouped(first.liveKeys)} keys`;
  let repairs: RepairOutcome[] = [];
  let after: Diagnosis | undefined;
  if (ctx.flag('repair') && report.damage.some((f) => f.repair !== undefined)) {
    ctx.session.forget(target);
    const store = Store.open(target, { contentionBudgetMs: CLI_CONTENTION_BUDGET_MS });
    try {
      repairs = repair(store, report.damage);
    } finally {
      store.close();
    }
    after = await run();
  }
  const dropped = repairs.flatMap((r) => (r.dropped === undefined ? [] : [{ slot: r.finding.slot!, key: r.dropped }]));
  const final = after ?? first;
  const remaining = final.findings.filter((f) => f.severity === 'damage');
  if (ctx.json) {
    ctx.jsonOut({
      target,
      ...first,
      ok: remaining.length === 0,
      ...(after === undefined ? {} : { repairs: repairs.map((r) => ({ kind: r.finding.kind, slot: r.finding.slot, done: r.done, action: r.action })), dropped, after }),
    });
    return remaining.length === 0 ? 0 : 1;
  }
  ctx.line(`doctor: ${where}${geometry}`);
  for (const line of report.lines) ctx.line(line);
  if (report.damage.length === 0) {
    ctx.line(first.waitedMs === 0 ? 'ok: no damage found' : `ok: no damage found (what looked wrong was sampled again after ${first.waitedMs} ms)`);
    return 0;
  }
  if (after === undefined) {
    const repairable = report.damage.filter((f) => f.repair !== undefined).length;
    const hint = repairable > 0 && !ctx.flag('repair') ? `; ${repairable} can be repaired with --repair` : '';
    ctx.line(`${report.damage.length} problem${report.damage.length === 1 ? '' : 's'} found${hint}`);
    return 1;
  }
  for (const r of repairs) ctx.line(`  ${r.done ? 'repaired' : 'FAILED  '}  ${r.action}`);
  if (dropped.length > 0) ctx.line(`dropped ${dropped.length} key${dropped.length === 1 ? '' : 's'} whose value a dead writer left partial: ${dropped.map((d) => JSON.stringify(d.key)).join(', ')}`);
  if (remaining.length === 0) {
    ctx.line('ok: no damage left');
    return 0;
  }
  ctx.line(`${remaining.length} problem${remaining.length === 1 ? '' : 's'} left:`);
  for (const f of remaining) ctx.line(findingLine(f));
  return 1;
};

const stats: Handler = (ctx) => {
  const target = ctx.target();
  const store = ctx.store();
  const s = collectStats(store, resolveTarget(target).path);
  if (ctx.json) ctx.jsonOut(s);
  else ctx.line(renderStats(s));
};

const uuid: Handler = (ctx) => {
  ctx.line(randomUUID());
};

export const HANDLERS: Record<string, Handler> = {
  init,
  drop,
  use,
  config,
  caps,
  get,
  head,
  list,
  export: exportStore,
  type,
  set,
  append,
  unset,
  math,
  label: labelHandler(true),
  unlabel: labelHandler(false),
  bind,
  bump: keyed((store, key) => store.bumpSlot(key)),
  retrain: keyed((store, key) => store.retrainSlot(key)),
  orders,
  watch,
  bridge: bridgeCommand,
  shard,
  doctor,
  stats,
  uuid,
};
