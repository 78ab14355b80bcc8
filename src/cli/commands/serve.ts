/** `splinter serve`: the HTTP gateway in the foreground until Ctrl-C (its own module: only this command loads the server and the inspector). */
import { readTokenFile, serve } from '../gateway.js';
import { UsageError } from '../usage-error.js';
import type { Handler } from './handler.js';

export const serveCommand: Handler = async (ctx) => {
  if (ctx.prefix !== '') throw new UsageError('serve serves every key of the store; --prefix (or $SPLINTER_NS_PREFIX) is not for it', 'serve');
  const tokenFile = ctx.option('token-file') as string | undefined;
  const token = tokenFile === undefined ? undefined : readTokenFile(tokenFile);
  const target = ctx.target();
  const server = await serve({
    store: target,
    port: (ctx.option('port') as number | undefined) ?? 8080,
    host: ctx.option('host') as string | undefined,
    token,
    readOnly: ctx.flag('read-only'),
    trustShared: ctx.trustShared,
    onError: (error) => ctx.io.err(`splinter serve: a request failed inside the gateway: ${error instanceof Error ? error.message : String(error)}`),
  });
  ctx.line(`serving ${target} at ${server.url}${token === undefined ? '' : ' (token required)'}${ctx.flag('read-only') ? ' read-only' : ''}; Ctrl-C stops`);
  if (!ctx.signal.aborted) await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
  await server.close();
};
