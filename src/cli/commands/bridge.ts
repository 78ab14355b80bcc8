/** `splinter bridge`: the Redis bridge in the foreground until Ctrl-C (its own module: only this command loads the bridge and ioredis). */
import { bridge } from '../../bridge/index.js';
import { UsageError } from '../usage-error.js';
import type { Handler } from './handler.js';

export const bridgeCommand: Handler = async (ctx) => {
  const url = ctx.option('redis');
  if (typeof url !== 'string') throw new UsageError('bridge needs --redis URL', 'bridge');
  const target = ctx.target();
  const hostId = ctx.option('host-id') as string | undefined;
  const streamMaxLength = ctx.option('stream-max') as number | undefined;
  const running = await bridge({ store: target, redis: url, prefix: ctx.prefix, hostId, streamMaxLength, trustShared: ctx.trustShared, onEvent: (event) => ctx.io.err(`splinter bridge: ${event.message}`) });
  ctx.line(`bridging ${target}${ctx.namespaceNote()} as ${running.hostId}; Ctrl-C stops`);
  if (!ctx.signal.aborted) await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
  await running.close();
  // What was skipped while it ran, in one line at the end (each was said as it happened, within a bound).
  const { rejected, unwritten } = running.stats();
  const skipped = [rejected > 0 && `${rejected} bad records from Redis`, unwritten > 0 && `${unwritten} values this store could not take`].filter(Boolean);
  if (skipped.length > 0) ctx.io.err(`splinter bridge: skipped ${skipped.join(', ')}`);
};
