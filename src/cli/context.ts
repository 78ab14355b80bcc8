/** What a command runs with: the parsed invocation, where output goes, and the open stores. */
import { isSplinterError } from '../errors.js';
import { Store } from '../facade/store.js';
import { inputTooLong, readFileAtMost } from './input.js';
import { STORE_ENV, type Env, type Invocation } from './parse.js';
import { CliFailure, UsageError } from './usage-error.js';
import { type Key, keyBytes, keyOfBytes } from '../facade/inspect.js';
import { storedKey } from './values.js';

/**
 * How long the CLI retries a slot that a writer holds before it reports EAGAIN. Longer than the
 * library's default (5 ms): a person or a script asked for this one value, and a C writer in a
 * tight loop leaves a slot even only for moments.
 */
export const CLI_CONTENTION_BUDGET_MS = 500;

/** Where a command's output goes: the process streams, or a test's buffers. */
export interface Io {
  /** Text to stdout, as is. */
  out(text: string): void;
  /** Bytes to stdout, unchanged. */
  bytes(data: Uint8Array): void;
  /** One line to stderr. */
  err(line: string): void;
  readonly stdinIsTTY: boolean;
  readonly stdoutIsTTY: boolean;
  /** Stdin up to its end or `limit + 1` bytes, whichever comes first (no more is read). */
  readStdin(limit: number): Promise<Uint8Array>;
  /** Asks a question on the terminal and resolves with the answer (undefined at end of input); absent where nobody can answer. */
  ask?(question: string): Promise<string | undefined>;
}

/** The stores a run (one command, or an interactive session) has open, by target. */
export class Session {
  /** The store `use` selected in the interactive mode. */
  current: string | undefined;
  /** --trust-shared given when the run (or the interactive mode) started. */
  trustShared = false;
  /** Lines entered in the interactive mode, oldest first. */
  readonly history: string[] = [];
  private readonly open = new Map<string, Store>();

  constructor(
    readonly env: Env,
    readonly interactive: boolean,
  ) {}

  /** The open store for `target`, opening it on first use. */
  store(target: string, trustShared = this.trustShared): Store {
    const cached = this.open.get(target);
    if (cached !== undefined && !cached.closed) return cached;
    let store: Store;
    try {
      store = Store.open(target, { contentionBudgetMs: CLI_CONTENTION_BUDGET_MS, trustShared });
    } catch (error) {
      if (isSplinterError(error, 'ENOENT')) {
        throw new CliFailure('ENOENT', `${error.message.replace(/^ENOENT: /, '')} (create it with: splinter init ${target})`);
      }
      throw error;
    }
    this.open.set(target, store);
    return store;
  }

  /** Closes (and forgets) one store, e.g. before `doctor --repair` reads it raw. */
  forget(target: string): void {
    this.open.get(target)?.close();
    this.open.delete(target);
  }

  closeAll(): void {
    for (const store of this.open.values()) store.close();
    this.open.clear();
  }
}

export class Context {
  constructor(
    readonly inv: Invocation,
    readonly io: Io,
    readonly session: Session,
    readonly signal: AbortSignal,
    /** What `exit` calls in the interactive mode (leaving it is the caller's business). */
    readonly onExit: () => void = () => undefined,
  ) {}

  get command(): string {
    return this.inv.command ?? '';
  }

  /** Whether stores of other users, or writable by others, may be opened (--trust-shared, now or at the start). */
  get trustShared(): boolean {
    return this.inv.globals.trustShared || this.session.trustShared;
  }

  get json(): boolean {
    return this.inv.globals.json;
  }

  get prefix(): string {
    return this.inv.globals.prefix;
  }

  /** The selected store's target: --use, else `use` in the interactive mode, else $SPLINTER_STORE. */
  target(): string {
    const { store, storeFrom } = this.inv.globals;
    const target = storeFrom === 'option' ? store : (this.session.current ?? store);
    if (target === undefined) {
      throw new UsageError(`no store selected: pass --use NAME|PATH, or set ${STORE_ENV}=NAME|PATH`, this.command);
    }
    return target;
  }

  store(): Store {
    return this.session.store(this.target(), this.trustShared);
  }

  /** Positional argument `i` as a stored key (prefix prepended, checked). */
  key(i: number): Key {
    return storedKey(this.prefix, this.arg(i), this.command);
  }

  arg(i: number): string {
    const value = this.inv.args[i];
    if (value === undefined) throw new UsageError(`${this.command} needs more arguments`, this.command);
    return value;
  }

  /** A stored key as shown to the user: without the prefix (compared as bytes, so a key that is not UTF-8 has it taken off too). */
  shown(stored: Key): Key {
    const prefix = this.prefix;
    if (prefix === '') return stored;
    if (typeof stored === 'string') return stored.startsWith(prefix) ? stored.slice(prefix.length) : stored;
    return this.inNamespace(stored) ? keyOfBytes(stored.subarray(keyBytes(prefix).length)) : stored;
  }

  /** True when a stored key belongs to the current namespace. */
  inNamespace(stored: Key): boolean {
    const prefix = this.prefix;
    if (typeof stored === 'string') return stored.startsWith(prefix);
    const bytes = keyBytes(prefix);
    return bytes.length <= stored.length && bytes.every((byte, i) => stored[i] === byte);
  }

  /** " (in namespace PREFIX)" for messages, or ''. */
  namespaceNote(): string {
    return this.prefix === '' ? '' : ` (key prefix ${JSON.stringify(this.prefix)})`;
  }

  option(name: string): string | number | true | undefined {
    return this.inv.options[name];
  }

  flag(name: string): boolean {
    return this.inv.options[name] === true;
  }

  line(text = ''): void {
    this.io.out(`${text}\n`);
  }

  /** Writes one JSON document (bigints as decimal strings). */
  jsonOut(value: unknown, pretty = true): void {
    this.line(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), pretty ? 2 : undefined));
  }

  /**
   * The value of set/append: the argument, --file, or stdin. A file or stdin is read up to one
   * byte more than the store's maxValueSize, never further: longer input is EMSGSIZE.
   * @throws SplinterError EMSGSIZE when the file or stdin holds more than maxValueSize bytes.
   */
  async valueBytes(argIndex: number): Promise<Uint8Array | string> {
    const file = this.option('file');
    const given = this.inv.args[argIndex];
    if (typeof file === 'string') {
      if (given !== undefined) throw new UsageError(`${this.command} takes a VALUE or --file, not both`, this.command);
      const limit = this.store().maxValueSize;
      const bytes = readFileOrFail(file, limit);
      if (bytes.length > limit) throw inputTooLong(file, limit);
      return bytes;
    }
    if (given !== undefined && given !== '-') return given;
    if (this.session.interactive) {
      throw new UsageError(`${this.command} needs a VALUE (or --file PATH) in the interactive mode`, this.command);
    }
    if (this.io.stdinIsTTY) {
      throw new UsageError(`${this.command} needs a VALUE: an argument, --file PATH, or data piped to stdin`, this.command);
    }
    const limit = this.store().maxValueSize;
    const bytes = await this.io.readStdin(limit);
    if (bytes.length > limit) throw inputTooLong('stdin', limit);
    return bytes;
  }

  /**
   * At most `limit + 1` bytes of the file `source`, or of stdin when it is `-` (one more than
   * allowed tells "too long"; the caller says what the limit is).
   * @throws UsageError for stdin in the interactive mode or on a terminal; CliFailure ENOENT, EACCES or EINVAL for a file that cannot be read.
   */
  async inputAtMost(source: string, limit: number): Promise<Uint8Array> {
    if (source !== '-') return readFileOrFail(source, limit);
    if (this.session.interactive) throw new UsageError(`${this.command} needs a FILE in the interactive mode`, this.command);
    if (this.io.stdinIsTTY) throw new UsageError(`${this.command} needs a FILE, or data piped to stdin`, this.command);
    return this.io.readStdin(limit);
  }
}

/** At most `limit + 1` bytes of the file at `path`; what stops reading it as a CliFailure naming the file. */
function readFileOrFail(path: string, limit: number): Uint8Array {
  try {
    return readFileAtMost(path, limit);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : String(code ?? error);
    throw new CliFailure(code === 'ENOENT' ? 'ENOENT' : code === 'EACCES' ? 'EACCES' : 'EINVAL', `cannot read ${path}: ${why}`);
  }
}
