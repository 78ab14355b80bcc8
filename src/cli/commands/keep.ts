/** keep: the keeper daemon of a store, in the foreground (docs/keep.md). */
import { describeEvent, keep, restoreStore } from '../../keep/index.js';
import { UsageError } from '../usage-error.js';
import type { Handler } from './handler.js';

export const keepCommand: Handler = async (ctx) => {
  if (ctx.prefix !== '') throw new UsageError('keep keeps every key of the store; --prefix (or $SPLINTER_NS_PREFIX) is not for it', 'keep');
  const target = ctx.target();
  const persist = ctx.option('persist') as string | undefined;
  const interval = ctx.option('interval') as number | undefined;
  if (interval !== undefined && persist === undefined) throw new UsageError('--interval is the interval of --persist: give --persist FILE too', 'keep');
  const sync = ctx.option('sync') as number | undefined;
  if (sync !== undefined && persist === undefined) throw new UsageError('--sync is how often the --persist file goes to disk: give --persist FILE too', 'keep');
  const keeper = keep({
    store: target,
    persist,
    interval,
    sync,
    trustShared: ctx.trustShared,
    onEvent: (event) => {
      if (event.type === 'persisted') return; // every interval: not an event worth a line
      if (event.type === 'error') ctx.io.err(`splinter keep: ${describeEvent(event)}`);
      else ctx.line(describeEvent(event));
    },
  });
  try {
    const copy = persist === undefined ? '' : `, copied to ${persist} within ${interval ?? 100} ms`;
    ctx.line(`keeping ${target} (pid ${process.pid}, lock ${keeper.lockPath}${copy}); SIGINT or SIGTERM stops`);
    if (!ctx.signal.aborted) await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
  } finally {
    await keeper.close();
  }
  ctx.line(`stopped keeping ${target}`);
};

export const restoreCommand: Handler = async (ctx) => {
  const from = ctx.option('from') as string | undefined;
  if (from === undefined) throw new UsageError('restore needs --from FILE (the file splinter keep --persist keeps)', 'restore');
  const target = ctx.target();
  const report = restoreStore(target, from);
  const dropped = report.dropped > 0 ? `; ${report.dropped} slot${report.dropped === 1 ? '' : 's'} dropped (held mid-copy by a keeper that was killed)` : '';
  ctx.line(`restored ${target} from ${from}: ${report.keys} key${report.keys === 1 ? '' : 's'}${dropped}`);
};
