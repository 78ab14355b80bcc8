/**
 * The argument parser: argv (and the environment) in, an `Invocation` out, or a UsageError.
 * Pure: no I/O, no store, no process state, so it is tested on its own.
 */
import { COMMANDS, findCommand, GLOBAL_OPTIONS, type CommandSpec, type OptionSpec } from './spec.js';
import { didYouMean, UsageError } from './usage-error.js';

/** The environment variable naming the default store. */
export const STORE_ENV = 'SPLINTER_STORE';
/** The environment variable holding the default key prefix (the name the C CLI uses). */
export const PREFIX_ENV = 'SPLINTER_NS_PREFIX';

export interface Globals {
  /** The store to use, from --use or $SPLINTER_STORE. */
  store: string | undefined;
  /** Where `store` came from, for messages. */
  storeFrom: 'option' | 'env' | undefined;
  prefix: string;
  json: boolean;
  /** --trust-shared: open stores of other users, or writable by others (the library's trustShared). */
  trustShared: boolean;
  help: boolean;
  version: boolean;
}

export type OptionValue = string | number | true;

export interface Invocation {
  /** The canonical command name (aliases resolved), or undefined when none was given. */
  command: string | undefined;
  args: string[];
  /** Command options by long name: true for flags, a number for int options, else the string. */
  options: Record<string, OptionValue>;
  globals: Globals;
}

export type Env = Readonly<Record<string, string | undefined>>;

const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

function isOptionToken(token: string): boolean {
  return token.length > 1 && token.startsWith('-') && !NEGATIVE_NUMBER.test(token);
}

interface OptionTable {
  long: Map<string, OptionSpec>;
  short: Map<string, OptionSpec>;
}

function tableOf(options: readonly OptionSpec[]): OptionTable {
  const long = new Map<string, OptionSpec>();
  const short = new Map<string, OptionSpec>();
  for (const option of options) {
    long.set(option.name, option);
    for (const alias of option.aliases ?? []) long.set(alias, option);
    if (option.short !== undefined) short.set(option.short, option);
  }
  return { long, short };
}

const globalTable = tableOf(GLOBAL_OPTIONS);

/** Parses an integer option value of at least `min` (decimal or 0x hex); UsageError otherwise, in one wording whatever is wrong. */
export function parseCount(text: string, what: string, command?: string, min = 0): number {
  const trimmed = text.trim();
  const value = /^0x[0-9a-f]+$/i.test(trimmed) ? Number.parseInt(trimmed.slice(2), 16) : /^\d+$/.test(trimmed) ? Number(trimmed) : NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`${what} must be an integer of at least ${min}, received ${JSON.stringify(text)}`, command);
  }
  return value;
}

function optionLabel(option: OptionSpec): string {
  return `--${option.name}`;
}

/**
 * Parses `argv` (without node and the script). Global options may come anywhere; command
 * options after the command name; `--` ends options. `env` supplies $SPLINTER_STORE and
 * $SPLINTER_NS_PREFIX when the options are absent.
 */
export function parseArgs(argv: readonly string[], env: Env = {}): Invocation {
  const globals: Globals = { store: undefined, storeFrom: undefined, prefix: '', json: false, trustShared: false, help: false, version: false };
  let prefixGiven: string | undefined;
  const options: Record<string, OptionValue> = {};
  const args: string[] = [];
  let spec: CommandSpec | undefined;
  let commandTable: OptionTable | undefined;
  let optionsEnded = false;

  const setGlobal = (option: OptionSpec, value: string | undefined): void => {
    switch (option.name) {
      case 'use':
        if (value === '') throw new UsageError('--use needs a store name or path, received an empty string');
        globals.store = value;
        globals.storeFrom = 'option';
        break;
      case 'prefix':
        prefixGiven = value ?? '';
        break;
      case 'json':
        globals.json = true;
        break;
      case 'trust-shared':
        globals.trustShared = true;
        break;
      case 'help':
        globals.help = true;
        break;
      case 'version':
        globals.version = true;
        break;
    }
  };

  const setCommandOption = (option: OptionSpec, value: string | undefined): void => {
    const command = spec?.name;
    if (option.kind === 'flag') options[option.name] = true;
    else if (option.kind === 'int') options[option.name] = parseCount(value!, optionLabel(option), command, option.min);
    else options[option.name] = value!;
  };

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (optionsEnded || !isOptionToken(token)) {
      if (spec === undefined) {
        spec = findCommand(token);
        if (spec === undefined) {
          throw new UsageError(`unknown command ${JSON.stringify(token)}${didYouMean(token, COMMANDS.map((c) => c.name))}; see splinter help`);
        }
        commandTable = tableOf(spec.options);
      } else {
        args.push(token);
      }
      continue;
    }
    if (token === '--') {
      optionsEnded = true;
      continue;
    }
    // --name, --name=value, -x, -x=value, -xVALUE is not accepted (ambiguous with flags).
    let name: string;
    let inline: string | undefined;
    let option: OptionSpec | undefined;
    let isGlobal = false;
    if (token.startsWith('--')) {
      const eq = token.indexOf('=');
      name = eq < 0 ? token.slice(2) : token.slice(2, eq);
      inline = eq < 0 ? undefined : token.slice(eq + 1);
      option = commandTable?.long.get(name);
      if (option === undefined) {
        option = globalTable.long.get(name);
        isGlobal = option !== undefined;
      }
    } else {
      const eq = token.indexOf('=');
      name = eq < 0 ? token.slice(1) : token.slice(1, eq);
      inline = eq < 0 ? undefined : token.slice(eq + 1);
      if (name.length !== 1) {
        throw new UsageError(`unknown option ${token}: short options are one letter (write --${name} for a long one)`, spec?.name);
      }
      option = commandTable?.short.get(name);
      if (option === undefined) {
        option = globalTable.short.get(name);
        isGlobal = option !== undefined;
      }
    }
    if (option === undefined) {
      const known = [...(spec?.options ?? []), ...GLOBAL_OPTIONS].map((o) => `--${o.name}`);
      const where = spec === undefined ? '' : ` for ${spec.name}`;
      const hint = spec === undefined && token.startsWith('-') ? '; command options go after the command name' : '';
      throw new UsageError(`unknown option ${token.split('=')[0]}${where}${didYouMean(token.split('=')[0]!, known)}${hint}`, spec?.name);
    }
    let value: string | undefined;
    if (option.kind === 'flag') {
      if (inline !== undefined) throw new UsageError(`${optionLabel(option)} takes no value, received ${JSON.stringify(inline)}`, spec?.name);
    } else if (inline !== undefined) {
      value = inline;
    } else {
      const next = argv[i + 1];
      if (next === undefined || (isOptionToken(next) && next !== '-')) {
        throw new UsageError(`${optionLabel(option)} needs a value (${option.valueName ?? 'VALUE'})`, spec?.name);
      }
      value = next;
      i++;
    }
    if (isGlobal) setGlobal(option, value);
    else setCommandOption(option, value);
  }

  if (globals.store === undefined) {
    const fromEnv = env[STORE_ENV];
    if (fromEnv !== undefined && fromEnv !== '') {
      globals.store = fromEnv;
      globals.storeFrom = 'env';
    }
  }
  globals.prefix = prefixGiven ?? env[PREFIX_ENV] ?? '';

  if (spec !== undefined && !globals.help) checkArity(spec, args);
  return { command: spec?.name, args, options, globals };
}

function checkArity(spec: CommandSpec, args: readonly string[]): void {
  const required = spec.args.filter((a) => !a.optional).length;
  const variadic = spec.args.some((a) => a.variadic);
  if (args.length < required) {
    const missing = spec.args.slice(args.length).filter((a) => !a.optional).map((a) => a.name);
    throw new UsageError(`${spec.name} needs ${missing.join(' and ')}`, spec.name);
  }
  if (!variadic && args.length > spec.args.length) {
    const extra = args.slice(spec.args.length).map((a) => JSON.stringify(a));
    const hint = spec.name === 'set' || spec.name === 'append' ? ' (quote a value that has spaces)' : '';
    const most = spec.args.length === 0 ? 'no arguments' : `at most ${spec.args.length} argument${spec.args.length === 1 ? '' : 's'}`;
    throw new UsageError(`${spec.name} takes ${most}; unexpected ${extra.join(' ')}${hint}`, spec.name);
  }
}

/**
 * Splits one line of the interactive mode into words as a POSIX shell would for quoting:
 * whitespace separates, '…' is literal, "…" allows \" \\ \$ \` escapes, a backslash outside
 * quotes escapes the next character. UsageError on an unterminated quote.
 */
export function tokenizeLine(line: string): string[] {
  return tokenizeWithState(line).words;
}

export interface TokenizeState {
  words: string[];
  /** True when the line ends inside a word (no trailing whitespace): completion works on it. */
  open: boolean;
}

export function tokenizeWithState(line: string, lenient = false): TokenizeState {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) {
        if (!lenient) throw new UsageError("unterminated ' quote");
        word += line.slice(i + 1);
        inWord = true;
        break;
      }
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      let closed = false;
      while (j < line.length) {
        const d = line[j]!;
        if (d === '"') {
          closed = true;
          break;
        }
        if (d === '\\' && j + 1 < line.length && '"\\$`'.includes(line[j + 1]!)) {
          word += line[j + 1];
          j += 2;
        } else {
          word += d;
          j++;
        }
      }
      if (!closed && !lenient) throw new UsageError('unterminated " quote');
      inWord = true;
      i = closed ? j + 1 : j;
    } else if (c === '\\') {
      if (i + 1 < line.length) word += line[i + 1];
      inWord = true;
      i += 2;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return { words, open: inWord };
}
