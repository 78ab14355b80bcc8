/** The handler of every command, by name: typed over the names in spec.ts, so a command without a handler does not compile. */
import type { CommandName } from '../spec.js';
import { bind, bridgeCommand, bump, serveCommand, shard, watch } from './bus.js';
import { drop } from './drop.js';
import type { Handler } from './handler.js';
import { doctor, stats } from './health.js';
import { importStore } from './import.js';
import { keepCommand, restoreCommand } from './keep.js';
import { exportStore, get, head, list, type } from './read.js';
import { caps, config, init, use } from './store.js';
import { clear, exit, help, hist, shell, uuid } from './shell.js';
import { search } from './search.js';
import { stream } from './stream.js';
import { append, labelHandler, math, orders, retrain, set, unset } from './write.js';

export type { Handler } from './handler.js';
export { MATH_OP_NAMES } from './write.js';

export const HANDLERS: Record<CommandName, Handler> = {
  // store
  init,
  drop,
  use,
  config,
  caps,
  // read
  get,
  head,
  list,
  export: exportStore,
  search,
  import: importStore,
  type,
  // write
  set,
  append,
  unset,
  math,
  label: labelHandler(true),
  unlabel: labelHandler(false),
  retrain,
  orders,
  // bus
  bind,
  bump,
  watch,
  bridge: bridgeCommand,
  serve: serveCommand,
  keep: keepCommand,
  restore: restoreCommand,
  shard,
  // streams
  stream,
  // health
  doctor,
  stats,
  // shell
  help,
  shell,
  uuid,
  hist,
  clear,
  exit,
};
