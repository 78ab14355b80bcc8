/**
 * The handler of every command, by name, each loaded with its own module when the command runs: a
 * one-shot `splinter get` loads the read group and the store, not serve, keep, the bridge or
 * streams. Typed over the names in spec.ts, so a command without a handler does not compile.
 */
import type { CommandName } from '../spec.js';
import type { Handler } from './handler.js';

export type { Handler } from './handler.js';

/** Loads the module of one command and gives its handler. */
export type HandlerLoader = () => Promise<Handler>;

export const HANDLERS: Record<CommandName, HandlerLoader> = {
  // store
  init: async () => (await import('./store.js')).init,
  drop: async () => (await import('./drop.js')).drop,
  use: async () => (await import('./store.js')).use,
  config: async () => (await import('./store.js')).config,
  caps: async () => (await import('./store.js')).caps,
  // read
  get: async () => (await import('./read.js')).get,
  head: async () => (await import('./read.js')).head,
  list: async () => (await import('./read.js')).list,
  export: async () => (await import('./read.js')).exportStore,
  search: async () => (await import('./search.js')).search,
  import: async () => (await import('./import.js')).importStore,
  type: async () => (await import('./read.js')).type,
  // write
  set: async () => (await import('./write.js')).set,
  append: async () => (await import('./write.js')).append,
  unset: async () => (await import('./write.js')).unset,
  math: async () => (await import('./write.js')).math,
  label: async () => (await import('./write.js')).labelHandler(true),
  unlabel: async () => (await import('./write.js')).labelHandler(false),
  retrain: async () => (await import('./write.js')).retrain,
  orders: async () => (await import('./write.js')).orders,
  // bus
  bind: async () => (await import('./bus.js')).bind,
  bump: async () => (await import('./bus.js')).bump,
  watch: async () => (await import('./bus.js')).watch,
  bridge: async () => (await import('./bridge.js')).bridgeCommand,
  serve: async () => (await import('./serve.js')).serveCommand,
  keep: async () => (await import('./keep.js')).keepCommand,
  restore: async () => (await import('./keep.js')).restoreCommand,
  shard: async () => (await import('./bus.js')).shard,
  // streams
  stream: async () => (await import('./stream.js')).stream,
  // health
  doctor: async () => (await import('./health.js')).doctor,
  stats: async () => (await import('./health.js')).stats,
  // shell
  help: async () => (await import('./shell.js')).help,
  shell: async () => (await import('./shell.js')).shell,
  uuid: async () => (await import('./shell.js')).uuid,
  hist: async () => (await import('./shell.js')).hist,
  clear: async () => (await import('./shell.js')).clear,
  exit: async () => (await import('./shell.js')).exit,
};
