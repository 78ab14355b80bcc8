/** The shell group: help, the interactive mode's own commands (hist, clear, exit), and uuid. */
import { randomUUID } from 'node:crypto';
import { commandHelp, generalHelp } from '../help.js';
import { findCommand } from '../spec.js';
import { UsageError } from '../usage-error.js';
import { keyMatcher } from '../values.js';
import type { Handler } from './handler.js';

/** `help [COMMAND]`, and `--help` after any command: the topic is that command. */
export const help: Handler = (ctx) => {
  const { command, args } = ctx.inv;
  const topic = command === 'help' || command === undefined ? args[0] : command;
  if (topic === undefined) {
    ctx.line(generalHelp(ctx.session.interactive));
    return;
  }
  const spec = findCommand(topic);
  if (spec === undefined) throw new UsageError(`no command ${JSON.stringify(topic)}; see splinter help`);
  ctx.line(commandHelp(spec));
};

/** A one-shot `splinter shell` opens the interactive mode before any handler runs; this is `shell` inside it. */
export const shell: Handler = () => {
  throw new UsageError('already in the interactive mode');
};

export const uuid: Handler = (ctx) => {
  ctx.line(randomUUID());
};

export const hist: Handler = (ctx) => {
  const matches = keyMatcher(ctx.inv.args[0]);
  ctx.session.history.forEach((line, i) => {
    if (matches(line)) ctx.line(`${i + 1}: ${line}`);
  });
};

export const clear: Handler = (ctx) => {
  ctx.io.out('\x1b[2J\x1b[3J\x1b[H');
};

export const exit: Handler = (ctx) => {
  ctx.onExit();
};
