/** What commands on one key share: reading its slot and value together, and the errors about a key. */
import { isSplinterError } from '../../errors.js';
import type { SlotSnapshot, Key } from '../../facade/inspect.js';
import type { Store } from '../../facade/store.js';
import { CLI_CONTENTION_BUDGET_MS, type Context } from '../context.js';
import { CliFailure } from '../usage-error.js';
import { keyJson, quoteKey } from '../values.js';
import type { Handler } from './handler.js';

/** ENOENT for a key, naming it as the user typed it (and the namespace, when there is one). */
export function notFound(ctx: Context, key: Key): CliFailure {
  return new CliFailure('ENOENT', `${ctx.command} ${quoteKey(ctx.shown(key))}: no such key${ctx.namespaceNote()}`);
}

/** EAGAIN from the library, said in the command's words. */
export function busy(command: string, key: Key, error: unknown): unknown {
  if (!isSplinterError(error, 'EAGAIN')) return error;
  return new CliFailure(
    'EAGAIN',
    `${command} ${quoteKey(key)}: the slot stayed locked (odd epoch) for ${CLI_CONTENTION_BUDGET_MS} ms: ` +
      'a writer is inside it, or died there (splinter doctor finds stuck slots)',
  );
}

/** A slot snapshot and the value read under the same slot epoch (retried a few times under contention). */
export function readEntry(ctx: Context, store: Store, key: Key): { snapshot: SlotSnapshot; value: Uint8Array } | undefined {
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

/** A command that does one thing to an existing key and, under --json, reports its epoch. */
export function keyed(action: (store: Store, key: Key) => void): Handler {
  return (ctx) => {
    const key = ctx.key(0);
    const store = ctx.store();
    if (!store.has(key)) throw notFound(ctx, key);
    action(store, key);
    if (ctx.json) ctx.jsonOut({ ...keyJson(ctx.shown(key)), epoch: store.getEpoch(key) });
  };
}
