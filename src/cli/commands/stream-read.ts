/**
 * `splinter stream read NAME`: a stream's messages, one line each. Nothing is skipped in
 * silence: a run of seqs this reader cannot have is a `# gap` line, a cell no producer writes
 * a `# malformed` line, each said on stderr too.
 */
import { isSplinterError } from '../../errors.js';
import { escapeKey, MAX_SEQ, type Stream, type StreamConsumer, type StreamEvent, unescapeKey } from '../../facade/inspect.js';
import type { Context } from '../context.js';
import { UsageError } from '../usage-error.js';
import { parseU64 } from '../values.js';

/** Where a read starts and when it stops, from the options alone (checked before the store is opened). */
export interface ReadPlan {
  from: 'earliest' | 'latest' | bigint;
  /** The durable consumer whose acknowledged seq it starts after. */
  consumer: string | undefined;
  ack: boolean;
  count: number | undefined;
  follow: boolean;
}

/** @throws UsageError for options that do not go together, or a --from that is no seq. */
export function readPlan(ctx: Context): ReadPlan {
  const fromText = ctx.option('from') as string | undefined;
  const consumerText = ctx.option('consumer') as string | undefined;
  const ack = ctx.flag('ack');
  if (ack && consumerText === undefined) throw new UsageError('stream read --ack needs --consumer ID: the consumer whose acknowledged seq moves on', 'stream');
  if (fromText !== undefined && consumerText !== undefined) {
    throw new UsageError('stream read takes --from or --consumer (which starts after its acknowledged seq), not both', 'stream');
  }
  let from: ReadPlan['from'] = 'earliest';
  if (fromText === 'earliest' || fromText === 'latest') from = fromText;
  else if (fromText !== undefined) {
    from = parseU64(fromText, '--from (earliest, latest or a seq)', 'stream');
    if (from < 1n || from > BigInt(MAX_SEQ)) throw new UsageError(`--from takes a seq 1..${MAX_SEQ}, received ${JSON.stringify(fromText)}`, 'stream');
  }
  let consumer: string | undefined;
  if (consumerText !== undefined) {
    // Read back as `stream info` shows ids: with the escapes of keys.
    const id = unescapeOr(consumerText);
    if (typeof id !== 'string') throw new UsageError(`a consumer id is UTF-8 text, received ${JSON.stringify(consumerText)}`, 'stream');
    consumer = id;
  }
  return { from, consumer, ack, count: ctx.option('count') as number | undefined, follow: ctx.flag('follow') };
}

function unescapeOr(text: string): string | Uint8Array {
  try {
    return unescapeKey(text);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message.replace(/^EINVAL: /, '') : String(error), 'stream');
  }
}

function consumerOf(stream: Stream, id: string): StreamConsumer {
  try {
    return stream.consumer(id);
  } catch (error) {
    if (isSplinterError(error, 'EINVAL')) throw new UsageError(error.message.replace(/^EINVAL: /, ''), 'stream');
    throw error;
  }
}

/**
 * Prints the stream from the plan's start: up to the head as it was when the read began, or with
 * --follow until the signal (Ctrl-C, SIGTERM) ends it; --count N stops after N messages.
 * @throws SplinterError ENOENT (the stream dropped meanwhile), ESTALE (the store replaced), EPROTOTYPE (a consumer key that holds no seq)
 */
export async function readStream(ctx: Context, stream: Stream, plan: ReadPlan): Promise<void> {
  const consumer = plan.consumer === undefined ? undefined : consumerOf(stream, plan.consumer);
  const head = stream.head();
  const start = consumer !== undefined ? consumer.acknowledged() + 1n : plan.from === 'earliest' ? stream.oldest() : plan.from === 'latest' ? head + 1n : plan.from;
  const end = plan.follow ? undefined : head;
  if (plan.count === 0 || (end !== undefined && start > end)) return;
  const name = JSON.stringify(ctx.shown(stream.name));
  let messages = 0;
  try {
    for await (const event of stream.subscribe({ from: start, signal: ctx.signal })) {
      const last = print(ctx, name, stream.capacity, event);
      // After the line is out (stdout to a pipe or a file is written synchronously): at least once.
      if (plan.ack) consumer!.ack(last);
      if (event.kind !== 'gap') messages++;
      if (plan.count !== undefined && messages >= plan.count) break;
      if (end !== undefined && last >= end) break;
    }
  } catch (error) {
    if (!ctx.signal.aborted) throw error; // Ctrl-C or SIGTERM ends a follow: exit 0
  }
}

/** Prints one event (and says a gap or a malformed cell on stderr too); returns the last seq it covers. */
function print(ctx: Context, name: string, capacity: number, event: StreamEvent): bigint {
  if (event.kind === 'gap') {
    const { from, to, reason } = event;
    const seqs = from === to ? `seq ${from} was` : `seqs ${from}..${to} were`;
    const why = reason === 'overwritten' ? `overwritten before this read reached them (the stream keeps ${capacity})` : 'abandoned: claimed by a producer that never wrote them';
    ctx.io.err(`splinter: stream ${name}: ${seqs} ${why}`);
    if (ctx.json) ctx.jsonOut({ kind: 'gap', from, to, reason }, false);
    else ctx.line(`# gap ${from}..${to} ${reason}`);
    return to;
  }
  if (event.kind === 'malformed') {
    const { seq, slotType, bytes, reason } = event;
    ctx.io.err(`splinter: stream ${name}: seq ${seq} is malformed: ${escapeKey(reason)}`);
    if (ctx.json) ctx.jsonOut({ kind: 'malformed', seq, slotType, reason, encoding: 'base64', value: Buffer.from(bytes).toString('base64') }, false);
    else ctx.line(`# malformed ${seq} (slot type ${slotType}): ${escapeKey(reason)}; ${bytes.length === 0 ? 'no bytes' : `bytes 0x${Buffer.from(bytes).toString('hex')}`}`);
    return seq;
  }
  const { seq, type, value } = event;
  if (ctx.json) {
    const shown = type === 'bytes' ? { encoding: 'base64', value: Buffer.from(value as Uint8Array).toString('base64') } : { value };
    ctx.jsonOut({ kind: 'message', seq, type, ...shown }, false);
  } else {
    const shown = type === 'bytes' ? `0x${Buffer.from(value as Uint8Array).toString('hex')}` : type === 'text' ? escapeKey(value as string) : JSON.stringify(value);
    ctx.line(`${seq}\t${shown}`);
  }
  return seq;
}
