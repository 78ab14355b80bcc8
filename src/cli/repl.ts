/**
 * The interactive mode: a prompt with history and completion of commands, options and keys
 * (node:readline), where every command works and the store stays open between commands.
 * Off a terminal (`splinter shell < file`) it reads one command per line, without a prompt.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { MATH_OP_NAMES } from './commands/write.js';
import { Session, type Io } from './context.js';
import { linesAtMost, readFileAtMost } from './input.js';
import { parseArgs, PREFIX_ENV, tokenizeLine, tokenizeWithState, type Env, type Invocation } from './parse.js';
import { EXIT_OK, jsonRequested, reportError, runInvocation } from './run.js';
import { commandNames, findCommand, GLOBAL_OPTIONS, type Completion } from './spec.js';
import { escapeKey } from '../facade/inspect.js';
import { shellWord, TYPE_CHOICES } from './values.js';
import { packageVersion } from './version.js';

const HISTORY_SIZE = 1000;
/** The longest command line `splinter shell` reads from a pipe or file (a longer value goes through --file). */
export const SHELL_LINE_MAX = 16 * 1024 * 1024;
/** How much of the history file is read: far more than HISTORY_SIZE lines need. */
const HISTORY_BYTES_MAX = 1024 * 1024;
const COMPLETION_KEY_LIMIT = 10_000;

function historyPath(env: Env): string | undefined {
  const configured = env['SPLINTER_HISTORY'];
  if (configured !== undefined) return configured === '' ? undefined : configured;
  const home = env['HOME'] ?? os.homedir();
  return home === '' ? undefined : path.join(home, '.splinter_history');
}

function loadHistory(file: string | undefined): string[] {
  if (file === undefined) return [];
  try {
    return Buffer.from(readFileAtMost(file, HISTORY_BYTES_MAX)).toString('utf8').split('\n').filter((l) => l.trim() !== '').slice(-HISTORY_SIZE);
  } catch {
    return [];
  }
}

function saveHistory(file: string | undefined, lines: string[]): void {
  if (file === undefined) return;
  try {
    fs.writeFileSync(file, `${lines.slice(-HISTORY_SIZE).join('\n')}\n`, { mode: 0o600 });
  } catch {
    // a history that cannot be written is not worth failing for
  }
}

/** Per-line defaults from how the interactive mode was started (--prefix, --json). */
function lineEnv(initial: Invocation, env: Env): Env {
  return { ...env, [PREFIX_ENV]: initial.globals.prefix };
}

export async function repl(initial: Invocation, io: Io, env: Env): Promise<number> {
  const session = new Session(env, true);
  session.current = initial.globals.store;
  session.trustShared = initial.globals.trustShared;
  const defaults = initial.globals.json ? ['--json'] : [];
  const perLineEnv = lineEnv(initial, env);
  const tty = io.stdinIsTTY && io.stdoutIsTTY;
  try {
    return tty ? await interactive(session, io, perLineEnv, defaults) : await batch(session, io, perLineEnv, defaults);
  } finally {
    session.closeAll();
  }
}

/** Runs one line; undefined for a blank line or a comment. */
async function runLine(line: string, session: Session, io: Io, env: Env, defaults: string[], signal: AbortSignal, onExit: () => void): Promise<number | undefined> {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return undefined;
  let inv: Invocation;
  let tokens: string[] = defaults;
  try {
    tokens = [...defaults, ...tokenizeLine(trimmed)];
    inv = parseArgs(tokens, env);
  } catch (error) {
    return reportError(error, io, env, jsonRequested(tokens));
  }
  return runInvocation(inv, io, session, signal, { onExit });
}

async function batch(session: Session, io: Io, env: Env, defaults: string[]): Promise<number> {
  let status = EXIT_OK;
  let done = false;
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.on('SIGINT', onSignal);
  const lines = linesAtMost(process.stdin, SHELL_LINE_MAX);
  try {
    for await (const line of lines) {
      const code = await runLine(line, session, io, env, defaults, controller.signal, () => (done = true));
      if (code !== undefined && code !== EXIT_OK) status = code;
      if (done || controller.signal.aborted) break;
    }
  } catch (error) {
    return reportError(error, io, env, jsonRequested(defaults)); // a line too long to be a command: nothing more is read
  } finally {
    process.off('SIGINT', onSignal);
    process.stdin.destroy();
  }
  return status;
}

function interactive(session: Session, io: Io, env: Env, defaults: string[]): Promise<number> {
  const historyFile = historyPath(env);
  const history = loadHistory(historyFile);
  session.history.push(...history);
  const stdin = process.stdin;
  const prompt = (): string => `splinter${session.current === undefined ? '' : `(${session.current})`}> `;
  const rl = readline.createInterface({
    input: stdin,
    output: process.stdout,
    terminal: true,
    prompt: prompt(),
    history: [...history].reverse(),
    historySize: HISTORY_SIZE,
    removeHistoryDuplicates: true,
    completer: (line: string) => complete(line, session, env),
  });
  io.out(
    `splinter-ts ${packageVersion()}: ${session.current === undefined ? 'no store selected (use NAME, or init NAME)' : `store ${session.current}`}. ` +
      'help lists the commands, Tab completes, Ctrl-D leaves.\n',
  );

  return new Promise<number>((resolve) => {
    const queue: string[] = [];
    let running: AbortController | undefined;
    let closing = false;
    let finished = false;

    const finish = (): void => {
      if (finished) return;
      finished = true;
      saveHistory(historyFile, session.history);
      resolve(EXIT_OK);
    };

    /** A command's question (drop's confirmation), asked at the prompt; Ctrl-C or Ctrl-D answers nothing. */
    const askAtPrompt = (question: string, signal: AbortSignal): Promise<string | undefined> =>
      new Promise((resolve) => {
        if (signal.aborted) return resolve(undefined);
        if (stdin.isTTY) stdin.setRawMode(true);
        const settle = (answer: string | undefined): void => {
          signal.removeEventListener('abort', onAbort);
          rl.pause();
          if (stdin.isTTY) stdin.setRawMode(false);
          resolve(answer);
        };
        const onAbort = (): void => settle(undefined);
        signal.addEventListener('abort', onAbort, { once: true });
        rl.question(question, { signal }, settle);
      });

    const drain = async (): Promise<void> => {
      if (running !== undefined) return;
      while (queue.length > 0 && !closing) {
        const line = queue.shift()!;
        if (line.trim() !== '') session.history.push(line);
        const controller = (running = new AbortController());
        // While a command runs the terminal is in cooked mode: Ctrl-C is a real SIGINT that stops it.
        rl.pause();
        if (stdin.isTTY) stdin.setRawMode(false);
        const onSignal = (): void => controller.abort();
        process.on('SIGINT', onSignal);
        try {
          await runLine(line, session, { ...io, ask: (question) => askAtPrompt(question, controller.signal) }, env, defaults, controller.signal, () => {
            closing = true;
          });
        } finally {
          process.off('SIGINT', onSignal);
          running = undefined;
        }
        if (closing) break;
        if (stdin.isTTY) stdin.setRawMode(true);
        rl.resume();
      }
      if (closing) {
        rl.close();
        return;
      }
      rl.setPrompt(prompt());
      rl.prompt();
    };

    rl.on('line', (line) => {
      queue.push(line);
      void drain();
    });
    rl.on('SIGINT', () => {
      if (running !== undefined) {
        running.abort();
        return;
      }
      // At the prompt: drop what was typed, like a shell.
      io.out('^C\n');
      const state = rl as unknown as { line: string; cursor: number };
      state.line = '';
      state.cursor = 0;
      rl.prompt();
    });
    rl.on('close', () => {
      closing = true;
      if (running === undefined) {
        io.out('\n');
        finish();
      } else {
        running.abort();
        const wait = setInterval(() => {
          if (running === undefined) {
            clearInterval(wait);
            finish();
          }
        }, 10);
      }
    });
    rl.prompt();
  });
}

/** Completion of the word under the cursor: commands, options, then keys and choices by position. */
export function complete(line: string, session: Session, env: Env): [string[], string] {
  const { words, open } = tokenizeWithState(line, true);
  const tail = open ? (/\S+$/.exec(line)?.[0] ?? '') : '';
  const current = open ? words[words.length - 1]! : '';
  const before = open ? words.slice(0, -1) : words;
  const globalsWithValue = new Set(GLOBAL_OPTIONS.filter((o) => o.kind !== 'flag').flatMap((o) => [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])]));

  // Find the command and count positional arguments before the cursor.
  let command: string | undefined;
  let positional = 0;
  let prefix = env[PREFIX_ENV] ?? '';
  let storeOverride: string | undefined;
  for (let i = 0; i < before.length; i++) {
    const word = before[i]!;
    if (word.startsWith('-') && word.length > 1 && !/^-\d/.test(word)) {
      const spec = command === undefined ? undefined : findCommand(command);
      const option = spec?.options.find((o) => `--${o.name}` === word || (o.short !== undefined && `-${o.short}` === word));
      if (globalsWithValue.has(word) || (option !== undefined && option.kind !== 'flag')) {
        const value = before[i + 1];
        if (word === '--prefix' && value !== undefined) prefix = value;
        if ((word === '--use' || word === '-u') && value !== undefined) storeOverride = value;
        i++;
      }
      continue;
    }
    if (command === undefined) command = word;
    else positional++;
  }

  const choose = (candidates: Iterable<string>): [string[], string] => {
    const quoted = tail.startsWith('"') || tail.startsWith("'");
    const out: string[] = [];
    for (const c of candidates) {
      if (!c.startsWith(current)) continue;
      out.push(quoted || shellWord(c) !== c ? JSON.stringify(c) : c);
    }
    // One candidate: complete the word and move on to the next, as a shell does.
    if (out.length === 1) out[0] = `${out[0]!} `;
    return [out.sort(), tail];
  };

  if (current.startsWith('-')) {
    const spec = command === undefined ? undefined : findCommand(command);
    return choose([...(spec?.options ?? []), ...GLOBAL_OPTIONS].map((o) => `--${o.name}`));
  }
  if (command === undefined) return choose(commandNames(true));
  const spec = findCommand(command);
  if (spec === undefined) return [[], tail];
  const last = spec.args[spec.args.length - 1];
  const arg = spec.args[positional] ?? (last?.variadic ? last : undefined);
  const kind: Completion = arg?.complete ?? 'none';
  switch (kind) {
    case 'key':
      return choose(completionKeys(session, storeOverride, prefix));
    case 'command':
      return choose(commandNames(true));
    case 'type':
      return choose(TYPE_CHOICES);
    case 'math-op':
      return choose(MATH_OP_NAMES);
    case 'orders-mode':
      return positional === 0 ? choose(['show', 'set', 'unset', ...completionKeys(session, storeOverride, prefix)]) : [[], tail];
    case 'mop':
      return choose(positional === 0 ? ['mop'] : ['0', '1', '2', 'off', 'hybrid', 'full']);
    case 'shard-view':
      return choose(['table', 'who']);
    case 'stream-mode':
      return choose(['info', 'append', 'read', 'drop']);
    case 'stream':
      return choose(completionKeys(session, storeOverride, prefix).flatMap((key) => (key.endsWith('#s') ? [key.slice(0, -2)] : [])));
    default:
      return [[], tail];
  }
}

function completionKeys(session: Session, override: string | undefined, prefix: string): string[] {
  const target = override ?? session.current;
  if (target === undefined) return [];
  try {
    const keys = session.store(target).keys();
    const shown = new Set<string>();
    // Keys in their escaped form (what a key argument reads back); a prefix, being text, ends where a character does.
    const escapedPrefix = escapeKey(prefix);
    for (const key of keys) {
      const text = escapeKey(key);
      if (!text.startsWith(escapedPrefix)) continue;
      shown.add(text.slice(escapedPrefix.length));
      if (shown.size >= COMPLETION_KEY_LIMIT) break;
    }
    return [...shown];
  } catch {
    return [];
  }
}
