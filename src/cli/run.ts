/** Runs one parsed invocation and turns every failure into one line and an exit code. */
import { isSplinterError } from '../errors.js';
import { HANDLERS } from './commands/index.js';
import { Context, type Io, type Session } from './context.js';
import type { Invocation } from './parse.js';
import { findCommand } from './spec.js';
import { CliFailure, INTERNAL_ERROR_CODE, USAGE_ERROR_CODE, UsageError } from './usage-error.js';
import { packageVersion } from './version.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** What went wrong, as `--json` reports it and as the one stderr line says it. */
export interface ReportedError {
  code: string;
  message: string;
  exit: number;
}

/** Sorts an error into its code, its message (with any hint) and its exit status. */
export function describeError(error: unknown, env: Readonly<Record<string, string | undefined>> = {}): ReportedError {
  if (error instanceof UsageError) {
    const hint = error.command !== undefined ? `; see splinter help ${error.command}` : '';
    return { code: USAGE_ERROR_CODE, message: `${error.message}${hint}`, exit: EXIT_USAGE };
  }
  if (error instanceof CliFailure) return { code: error.code, message: error.message, exit: EXIT_FAILED };
  if (isSplinterError(error)) {
    const hint = error.code === 'EAGAIN' ? ' (splinter doctor finds slots stuck locked)' : '';
    // The library's message starts with its code, which JSON carries in its own field.
    return { code: error.code, message: `${error.message.replace(`${error.code}: `, '')}${hint}`, exit: EXIT_FAILED };
  }
  const message = error instanceof Error ? error.message : String(error);
  const details = env['SPLINTER_DEBUG'] ? '' : ' (set SPLINTER_DEBUG=1 for details)';
  return { code: INTERNAL_ERROR_CODE, message: `internal error: ${message.split('\n')[0]}${details}`, exit: EXIT_FAILED };
}

/**
 * Prints `error` as one line on stderr and returns its exit code: `splinter: MESSAGE`, or under
 * --json `{"error":{"code":…,"message":…}}` (stdout keeps only results, so a redirected export or
 * a stream of watch events never holds an error). Never a stack trace, unless SPLINTER_DEBUG is set.
 */
export function reportError(error: unknown, io: Io, env: Readonly<Record<string, string | undefined>> = {}, json = false): number {
  const reported = describeError(error, env);
  if (json) {
    io.err(JSON.stringify({ error: { code: reported.code, message: reported.message } }));
  } else {
    // One style: a failure (exit 1) says its code first, as --json carries it; a usage error (exit 2) ends with where help is.
    const codePrefix = reported.exit === EXIT_FAILED && reported.code !== INTERNAL_ERROR_CODE ? `${reported.code}: ` : '';
    io.err(`splinter: ${codePrefix}${reported.message}`);
  }
  if (reported.code === INTERNAL_ERROR_CODE && env['SPLINTER_DEBUG'] && error instanceof Error && error.stack !== undefined) io.err(error.stack);
  return reported.exit;
}

/** True when `--json` comes before any `--`: errors the parser throws are then reported as JSON too. */
export function jsonRequested(tokens: readonly string[]): boolean {
  const end = tokens.indexOf('--');
  return (end === -1 ? tokens : tokens.slice(0, end)).includes('--json');
}

export interface RunOptions {
  /** Called by `exit` in the interactive mode. */
  onExit?: () => void;
}

/** Runs one invocation; resolves with its exit code. */
export async function runInvocation(inv: Invocation, io: Io, session: Session, signal: AbortSignal, options: RunOptions = {}): Promise<number> {
  const ctx = new Context(inv, io, session, signal, options.onExit);
  try {
    if (inv.globals.version) {
      ctx.line(`splinter-ts ${packageVersion()}`);
      return EXIT_OK;
    }
    if (inv.command === undefined || inv.globals.help) return (await (await HANDLERS.help())(ctx)) ?? EXIT_OK;
    const spec = findCommand(inv.command)!;
    if (spec.interactiveOnly && !session.interactive) throw new UsageError(`${spec.name} works only in the interactive mode (splinter shell)`);
    const handler = await HANDLERS[spec.name]();
    return (await handler(ctx)) ?? EXIT_OK;
  } catch (error) {
    return reportError(error, io, session.env, inv.globals.json);
  }
}
