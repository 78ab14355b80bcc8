/** keep: the keeper daemon of a store, in the foreground (docs/keep.md). */
import { describeEvent, keep } from '../../keep/index.js';
import { UsageError } from '../usage-error.js';
import type { Handler } from './handler.js';

export const keepCommand: Handler = async (ctx) => {
  if (ctx.prefix !== '') throw new UsageError('keep keeps every key of the store; --prefix (or $SPLINTER_NS_PREFIX) is not for it', 'keep');
  const target = ctx.target();
  const keeper = keep({
    store: target,
    trustShared: ctx.trustShared,
    onEvent: (event) => (event.type === 'error' ? ctx.io.err(`splinter keep: ${describeEvent(event)}`) : ctx.line(describeEvent(event))),
  });
  try {
    ctx.line(`keeping ${target} (pid ${process.pid}, lock ${keeper.lockPath}); SIGINT or SIGTERM stops`);
    if (!ctx.signal.aborted) await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
  } finally {
    await keeper.close();
  }
  ctx.line(`stopped keeping ${target}`);
};
