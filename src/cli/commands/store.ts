/** The store group: create a store, select it, show or set its header, and what this build can do. */
import { SPL_SYS_AUTO_SCRUB, SPL_SYS_HYBRID_SCRUB, SPLINTER_EMBED_DIM, SPLINTER_MAX_GROUPS } from '../../layout/constants.js';
import { storeSize } from '../../layout/geometry.js';
import { nativeMmapAvailable, resolveTarget } from '../../facade/inspect.js';
import { Store } from '../../facade/store.js';
import { UsageError } from '../usage-error.js';
import { counted, grouped, table } from '../values.js';
import { packageVersion } from '../version.js';
import type { Handler } from './handler.js';

const DEFAULT_SLOTS = 1024;
const DEFAULT_MAX_VALUE = 4096;

const MOP_NAMES = ['off', 'hybrid', 'full'] as const;

function mopName(mode: number): string {
  return `${mode} (${MOP_NAMES[mode] ?? '?'})`;
}

export const init: Handler = (ctx) => {
  const target = ctx.inv.args[0] ?? ctx.target();
  const slots = (ctx.option('slots') as number | undefined) ?? DEFAULT_SLOTS;
  const maxValueSize = (ctx.option('max-value') as number | undefined) ?? DEFAULT_MAX_VALUE;
  const embeddings = ctx.flag('embeddings');
  const store = Store.create(target, { slots, maxValueSize, embeddings });
  store.close();
  const size = storeSize(slots, maxValueSize, embeddings);
  const path = resolveTarget(target).path;
  if (ctx.json) {
    ctx.jsonOut({ target, path, slots, maxValueSize, embeddings, size });
    return;
  }
  ctx.line(
    `created ${target}: ${counted(slots, 'slot')}, values up to ${counted(maxValueSize, 'byte')}${embeddings ? ', with embeddings' : ''} ` +
      `(${grouped(size)} bytes in ${path})`,
  );
  if (ctx.session.interactive && ctx.session.current === undefined && ctx.inv.globals.store === undefined) ctx.session.current = target;
};

export const use: Handler = (ctx) => {
  const target = ctx.arg(0);
  const store = ctx.session.store(target, ctx.trustShared);
  if (ctx.session.interactive) ctx.session.current = target;
  if (ctx.json) {
    ctx.jsonOut({ target, slots: store.slots, maxValueSize: store.maxValueSize, embeddings: store.embeddings });
    return;
  }
  ctx.line(`using ${target}: ${counted(store.slots, 'slot')}, values up to ${counted(store.maxValueSize, 'byte')}`);
  if (!ctx.session.interactive) ctx.line(`(a one-shot call remembers nothing: pass --use ${target}, or export SPLINTER_STORE=${target})`);
};

export const config: Handler = (ctx) => {
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
  const bindings = h.labelGroups.flatMap((group, bit) => (group < SPLINTER_MAX_GROUPS ? [`bit ${bit} → group ${group}`] : []));
  if (ctx.json) {
    ctx.jsonOut({
      target,
      path: resolveTarget(target).path,
      ...h,
      embeddings: store.embeddings,
      size,
      mop: store.getMop(),
      labelGroups: Object.fromEntries(h.labelGroups.flatMap((group, bit) => (group < SPLINTER_MAX_GROUPS ? [[bit, group]] : []))),
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

export const caps: Handler = (ctx) => {
  const yes = (b: boolean): string => (b ? 'yes' : 'no');
  const caps: Record<string, string> = {
    version: packageVersion(),
    build: `splinter-ts (node ${process.version}, ${process.platform} ${process.arch})`,
    format: '4',
    embeddings: 'yes',
    persistent: 'yes',
    mmap: yes(nativeMmapAvailable()),
    bus: 'yes',
    shards: 'yes',
    lua: 'no',
    wasm: 'no',
    llama: 'no',
    numa: 'no',
  };
  if (ctx.json) ctx.jsonOut(caps);
  else for (const [k, v] of Object.entries(caps)) ctx.line(`${k}=${v}`);
};
