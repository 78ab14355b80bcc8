/** The bus group: label bindings, bumps, watching keys and signal groups, the shard table (the bridge and serve have modules of their own: commands/bridge.ts, commands/serve.ts). */
import { longTimeout } from '../../abort.js';
import { Intent, SlotType, SPLINTER_MAX_GROUPS } from '../../layout/constants.js';
import { CliFailure, UsageError } from '../usage-error.js';
import { encodeValue, keyJson, parseGroup, parseMask, preview, showKey, table } from '../values.js';
import type { Handler } from './handler.js';
import { keyed, readEntry } from './key.js';

export const bind: Handler = (ctx) => {
  const mask = parseMask(ctx.arg(0), 'bind');
  const groupText = ctx.arg(1);
  const group = /^(none|off|-)$/i.test(groupText) ? undefined : parseGroup(groupText, 'bind');
  const store = ctx.store();
  if (group === undefined) store.watchLabelUnregister(mask);
  else store.watchLabelRegister(mask, group);
  if (ctx.json) {
    const groups = store.headerSnapshot().labelGroups;
    ctx.jsonOut(Object.fromEntries(groups.flatMap((group, bit) => (group < SPLINTER_MAX_GROUPS ? [[bit, group]] : []))));
  }
};

export const bump: Handler = keyed((store, key) => store.bumpSlot(key));

function clock(): string {
  const d = new Date();
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export const watch: Handler = async (ctx) => {
  const group = ctx.option('group') as number | undefined;
  const keys = ctx.inv.args.map((_, i) => ctx.key(i));
  if (group === undefined && keys.length === 0) throw new UsageError('watch needs KEY… or --group G', 'watch');
  if (group !== undefined && keys.length > 0) throw new UsageError('watch takes KEY… or --group G, not both', 'watch');
  if (group !== undefined) parseGroup(group, 'watch');
  const store = ctx.store();
  const oneshot = ctx.flag('oneshot');
  const timeout = ctx.option('timeout') as number | undefined;
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  ctx.signal.addEventListener('abort', stop, { once: true });
  let timedOut = false;
  // A chained timer: a single setTimeout past 2^31 − 1 ms would fire after 1 ms.
  const timer = timeout === undefined ? undefined : longTimeout(() => ((timedOut = true), controller.abort()), timeout);
  let events = 0;
  try {
    if (group !== undefined) {
      for await (const count of store.signals(group, { signal: controller.signal })) {
        events++;
        if (ctx.json) ctx.jsonOut({ time: new Date().toISOString(), group, count }, false);
        else ctx.line(`${clock()}  group ${group}  count ${count}`);
        if (oneshot) break;
      }
    } else {
      for await (const change of store.watch(keys, { signal: controller.signal })) {
        events++;
        const entry = readEntry(ctx, store, change.key);
        const number = entry !== undefined && entry.snapshot.typeFlag & SlotType.BIGUINT ? store.getBigUint(change.key) : undefined;
        if (ctx.json) {
          const value = entry === undefined ? { unset: true } : { ...encodeValue(entry.value), ...(number === undefined ? {} : { number }) };
          ctx.jsonOut({ time: new Date().toISOString(), ...keyJson(ctx.shown(change.key)), epoch: change.epoch, ...value }, false);
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
    timer?.clear();
    ctx.signal.removeEventListener('abort', stop);
  }
  if (timedOut && events === 0) throw new CliFailure('ETIMEDOUT', `watch: no change within ${timeout} ms`);
};

const INTENTS = Object.fromEntries(Object.entries(Intent).map(([name, value]) => [value, name.toLowerCase()])) as Record<number, string>;

export const shard: Handler = (ctx) => {
  const view = ctx.inv.args[0] ?? 'table';
  if (view !== 'table' && view !== 'who') throw new UsageError(`shard shows table or who, received ${JSON.stringify(view)}`, 'shard');
  const shards = ctx.store().shards;
  const bids = shards.table();
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
