/** Runs one parsed invocation and turns every failure into one line and an exit code. */
import { isSplinterError } from '../errors.js';
import { HANDLERS } from './commands.js';
import { Context, type Io, type Session } from './context.js';
import { commandHelp, generalHelp } from './help.js';
import type { Invocation } from './parse.js';
import { findCommand } from './spec.js';
import { CliFailure, UsageError } from './usage-error.js';
import { keyMatcher } from './values.js';
import { packageVersion } from './version.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Prints `error` as one line on stderr and returns its exit code. Never a stack trace, unless SPLINTER_DEBUG is set. */
export function reportError(error: unknown, io: Io, env: Readonly<Record<string, string | undefined>> = {}): number {
  if (error instanceof UsageError) {
    const hint = error.command !== undefined ? `; see splinter help ${error.command}` : '';
    io.err(`splinter: ${error.message}${hint}`);
    return EXIT_USAGE;
  }
  if (error instanceof CliFailure || isSplinterError(error)) {
    const hint = isSplinterError(error, 'EAGAIN') ? ' (splinter doctor finds slots stuck locked)' : '';
    io.err(`splinter: ${error.message}${hint}`);
    return EXIT_FAILED;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.err(`splinter: internal error: ${message.split('\n')[0]}${env['SPLINTER_DEBUG'] ? '' : ' (set SPLINTER_DEBUG=1 for details)'}`);
  if (env['SPLINTER_DEBUG'] && error instanceof Error && error.stack !== undefined) io.err(error.stack);
  return EXIT_FAILED;
}

/** Handles the commands only the interactive mode has; returns undefined for the others. */
function shellCommand(ctx: Context, onExit: () => void): number | undefined {
  switch (ctx.inv.command) {
    case 'exit':
      onExit();
      return EXIT_OK;
    case 'clear':
      ctx.io.out('\x1b[2J\x1b[3J\x1b[H');
      return EXIT_OK;
    case 'hist': {
      const matches = keyMatcher(ctx.inv.args[0]);
      ctx.session.history.forEach((line, i) => {
        if (matches(line)) ctx.line(`${i + 1}: ${line}`);
      });
      return EXIT_OK;
    }
    default:
      return undefined;
  }
}

export interface RunOptions {
  /** Called by `exit` in the interactive mode. */
  onExit?: () => void;
}

/** Runs one invocation; resolves with its exit code. */
export async function runInvocation(inv: Invocation, io: Io, session: Session, signal: AbortSignal, options: RunOptions = {}): Promise<number> {
  const ctx = new Context(inv, io, session, signal);
  try {
    if (inv.globals.version) {
      ctx.line(`splinter-ts ${packageVersion()}`);
      return EXIT_OK;
    }
    if (inv.command === undefined || inv.command === 'help' || inv.globals.help) {
      const topic = inv.command === 'help' || inv.command === undefined ? inv.args[0] : inv.command;
      if (topic === undefined) {
        ctx.line(generalHelp(session.interactive));
        return EXIT_OK;
      }
      const spec = findCommand(topic);
      if (spec === undefined) throw new UsageError(`no command ${JSON.stringify(topic)}; see splinter help`);
      ctx.line(commandHelp(spec));
      return EXIT_OK;
    }
    const spec = findCommand(inv.command)!;
    if (spec.interactiveOnly) {
      if (!session.interactive) throw new UsageError(`${spec.name} works only in the interactive mode (splinter shell)`);
      return shellCommand(ctx, options.onExit ?? (() => undefined)) ?? EXIT_OK;
    }
    if (inv.command === 'shell') throw new UsageError('already in the interactive mode');
    const handler = HANDLERS[inv.command];
    if (handler === undefined) throw new UsageError(`${inv.command} is not available here`);
    const code = await handler(ctx);
    return code ?? EXIT_OK;
  } catch (error) {
    return reportError(error, io, session.env);
  }
}
