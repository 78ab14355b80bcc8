/**
 * `splinter stream info|append|read|drop NAME`: streams (docs/streams.md) from a shell. A stream
 * is only ever created by `append --capacity N`: every other use checks for its meta key first,
 * since opening a stream that has none would create one.
 */
import { isSplinterError } from '../../errors.js';
import type { Store } from '../../facade/store.js';
import { checkStreamName, consumerKey, type Key, keyBytes, keyIdentity, keyOfBytes, type MessageType, type Stream } from '../../facade/inspect.js';
import type { Context } from '../context.js';
import { CliFailure, didYouMean, UsageError } from '../usage-error.js';
import { showKey, table, typeName, utf8OrUndefined } from '../values.js';
import { confirmed } from './drop.js';
import type { Handler } from './handler.js';
import { readEntry } from './key.js';
import { readStream, readPlan } from './stream-read.js';

/** The options each subcommand takes (the spec lists them all, for one command). */
const SUBCOMMANDS = {
  info: [],
  append: ['type', 'file', 'capacity'],
  read: ['from', 'count', 'follow', 'consumer', 'ack'],
  drop: ['yes'],
} as const satisfies Record<string, readonly string[]>;

type Subcommand = keyof typeof SUBCOMMANDS;

const MESSAGE_TYPES: readonly MessageType[] = ['text', 'json', 'bytes'];

export const stream: Handler = async (ctx) => {
  const sub = subcommand(ctx);
  const name = streamName(ctx);
  if (sub === 'append') return append(ctx, name);
  if (ctx.inv.args.length > 2) {
    throw new UsageError(`stream ${sub} takes NAME only; unexpected ${ctx.inv.args.slice(2).map((a) => JSON.stringify(a)).join(' ')}`, 'stream');
  }
  if (sub === 'read') {
    const plan = readPlan(ctx); // usage errors before the store is opened
    const store = ctx.store();
    return readStream(ctx, existing(ctx, store, name, 'read'), plan);
  }
  const store = ctx.store();
  if (sub === 'info') return info(ctx, store, existing(ctx, store, name, 'info'));
  return drop(ctx, store, existing(ctx, store, name, 'drop'));
};

/** The first argument, checked, and the options given checked against it. */
function subcommand(ctx: Context): Subcommand {
  const word = ctx.arg(0);
  if (!Object.hasOwn(SUBCOMMANDS, word)) {
    const names = Object.keys(SUBCOMMANDS);
    throw new UsageError(`stream takes ${names.join(', ')} first, received ${JSON.stringify(word)}${didYouMean(word, names)}`, 'stream');
  }
  const sub = word as Subcommand;
  const allowed: readonly string[] = SUBCOMMANDS[sub];
  for (const option of Object.keys(ctx.inv.options)) {
    if (!allowed.includes(option)) throw new UsageError(`--${option} is not an option of stream ${sub}`, 'stream');
  }
  return sub;
}

/** NAME with the prefix, as the stream's keys are named: UTF-8 text of 1..40 bytes without NUL or "#". */
function streamName(ctx: Context): string {
  const key = ctx.key(1);
  if (typeof key !== 'string') throw new UsageError(`a stream name is UTF-8 text, received ${JSON.stringify(ctx.arg(1))}`, 'stream');
  try {
    return checkStreamName(key);
  } catch (error) {
    if (isSplinterError(error, 'EINVAL')) throw new UsageError(error.message.replace(/^EINVAL: /, ''), 'stream');
    throw error;
  }
}

/** The name as the user typed it (no prefix), quoted for messages. */
function quoted(ctx: Context, name: string): string {
  return JSON.stringify(ctx.shown(name));
}

/** The stream, which must exist: ENOENT otherwise (opened with create: false, so never made here). */
function existing(ctx: Context, store: Store, name: string, sub: Subcommand): Stream {
  try {
    return store.stream(name, { create: false });
  } catch (error) {
    if (!isSplinterError(error) || error.code !== 'ENOENT') throw error;
    const hint = sub === 'append' ? ' (append --capacity N creates it)' : '';
    throw new CliFailure('ENOENT', `stream ${sub} ${quoted(ctx, name)}: no such stream${ctx.namespaceNote()}${hint}`);
  }
}

async function append(ctx: Context, name: string): Promise<void> {
  const typeText = ctx.option('type') ?? 'text';
  const type = MESSAGE_TYPES.find((t) => t === typeText);
  if (type === undefined) throw new UsageError(`stream append --type is text, json or bytes, received ${JSON.stringify(typeText)}`, 'stream');
  const capacity = ctx.option('capacity') as number | undefined;
  const store = ctx.store();
  // Before reading stdin: a producer pointed at the wrong name hears so at once.
  if (capacity === undefined) existing(ctx, store, name, 'append');
  const value = await ctx.valueBytes(2);
  const message = messageOf(value, type);
  const target = capacity === undefined ? existing(ctx, store, name, 'append') : store.stream(name, { capacity });
  const seq = target.append(message, { type });
  if (ctx.json) ctx.jsonOut({ stream: ctx.shown(name), seq });
  else ctx.line(seq.toString());
}

/** The message to append: bytes as they are; text that must be UTF-8; JSON that must parse. */
function messageOf(value: Uint8Array | string, type: MessageType): Uint8Array | string {
  if (type === 'bytes') return typeof value === 'string' ? new Uint8Array(Buffer.from(value, 'utf8')) : value;
  const text = typeof value === 'string' ? value : utf8OrUndefined(value);
  if (text === undefined) {
    throw new CliFailure('EINVAL', `stream append --type ${type}: the value is not UTF-8 text (${value.length} byte${value.length === 1 ? '' : 's'}); append it with --type bytes`);
  }
  if (type === 'json') {
    try {
      JSON.parse(text);
    } catch (error) {
      throw new CliFailure('EINVAL', `stream append --type json: the value does not parse as JSON (${(error as Error).message.split('\n')[0]})`);
    }
  }
  return text;
}

interface ConsumerState {
  key: Key;
  id: Key;
  acknowledged?: bigint;
  /** Why the key holds no acknowledged seq (something else wrote it). */
  problem?: string;
}

/** The durable consumers: keys NAME#c.<id>, of any bytes (a C consumer may name itself so), by id. */
function consumersOf(ctx: Context, store: Store, name: string): ConsumerState[] {
  const prefix = keyBytes(consumerKey(name, ''));
  const seen = new Set<string>();
  const found: ConsumerState[] = [];
  for (const key of store.keys()) {
    const bytes = keyBytes(key);
    if (bytes.length <= prefix.length || !prefix.every((b, i) => bytes[i] === b)) continue;
    const identity = keyIdentity(key);
    if (seen.has(identity)) continue; // a copy C left of a key: one consumer
    seen.add(identity);
    const id = keyOfBytes(bytes.subarray(prefix.length));
    try {
      const acknowledged = store.getBigUint(key);
      if (acknowledged !== undefined) found.push({ key, id, acknowledged });
    } catch (error) {
      if (!isSplinterError(error)) throw error;
      const entry = readEntry(ctx, store, key);
      const what = entry === undefined ? error.message : `${typeName(entry.snapshot.typeFlag)}, ${entry.value.length} bytes`;
      found.push({ key, id, problem: `not an acknowledged seq (${what.replace(/^\w+: /, '')})` });
    }
  }
  return found.sort((a, b) => (keyIdentity(a.id) < keyIdentity(b.id) ? -1 : keyIdentity(a.id) > keyIdentity(b.id) ? 1 : 0));
}

function idJson(id: Key): { id: string; idHex?: string } {
  return typeof id === 'string' ? { id } : { id: showKey(id), idHex: Buffer.from(id).toString('hex') };
}

function info(ctx: Context, store: Store, target: Stream): void {
  const head = target.head();
  const oldest = target.oldest();
  const consumers = consumersOf(ctx, store, target.name);
  if (ctx.json) {
    ctx.jsonOut({
      stream: ctx.shown(target.name),
      capacity: target.capacity,
      head,
      oldest,
      consumers: consumers.map((c) => ({ ...idJson(c.id), ...(c.problem === undefined ? { acknowledged: c.acknowledged } : { error: c.problem }) })),
    });
    return;
  }
  const rows: string[][] = [
    ['stream', showKey(ctx.shown(target.name))],
    ['capacity', `${target.capacity} messages`],
    ['head', head === 0n ? '0 (nothing appended yet)' : `${head} (the last seq claimed)`],
    ['oldest', `${oldest} (the first seq kept)`],
  ];
  if (consumers.length === 0) rows.push(['consumers', 'none']);
  for (const c of consumers) {
    const state = c.problem ?? `acknowledged ${c.acknowledged} (${head > c.acknowledged! ? head - c.acknowledged! : 0n} behind the head)`;
    rows.push(['consumer', `${showKey(c.id)}: ${state}`]);
  }
  ctx.line(table(['field', 'value'], rows).split('\n').slice(1).join('\n'));
}

async function drop(ctx: Context, store: Store, target: Stream): Promise<void> {
  const head = target.head();
  const consumerKeys = consumersOf(ctx, store, target.name).map((c) => c.key);
  const consumers = consumerKeys.length;
  const shown = quoted(ctx, target.name);
  const also = consumers === 0 ? '' : ` and ${consumers} consumer${consumers === 1 ? '' : 's'}`;
  if (!(await confirmed(ctx, `drop stream ${shown} (${target.capacity} messages kept, head ${head})${also}? [y/N] `, 'a stream', 'stream drop'))) {
    throw new CliFailure('ECANCELED', `stream drop ${shown}: not dropped (answer y to drop it)`);
  }
  target.drop();
  // The library removes the consumers whose ids are text; one a C consumer named with other bytes goes too.
  for (const key of consumerKeys) store.unset(key);
  if (ctx.json) {
    ctx.jsonOut({ dropped: ctx.shown(target.name), capacity: target.capacity, head, consumers });
    return;
  }
  ctx.line(`dropped stream ${showKey(ctx.shown(target.name))}: its meta, ${target.capacity} cells${also}`);
}
