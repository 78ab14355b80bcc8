/**
 * The stream model test's commands: each runs on our library or the C peer (the second actor on
 * the same store), checks the answer against the model (props/stream/model.ts), updates the
 * model, and checks the head on both sides. A seq a command reads or subscribes from is chosen
 * when it runs, as a fraction of the seqs there are then (so a command means the same thing at
 * every size while shrinking).
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { isSplinterError, type Store, type Stream, type StreamEvent } from '../../src/index.js';
import type { Peer, PeerAnswer } from '../../test/helpers/peer.js';
import { hex } from '../lib/layout.js';
import { show } from '../model/display.js';
import { TYPE_OF, type Expected, type StreamModel } from './model.js';

export interface StreamReal {
  store: Store;
  stream: Stream;
  peer: Peer;
  /** The head counter, claimed through the meta's raw pointer as C does (a claim never written). */
  headCounter: BigUint64Array;
  maxValueSize: number;
}

export type StreamCmd = fc.AsyncCommand<StreamModel, StreamReal>;

/** Counts of the situations the runs reached, so the test can prove its generators reach them. */
export const reached = new Map<string, number>();

function note(label: string): void {
  reached.set(label, (reached.get(label) ?? 0) + 1);
}

/** The situations every default run of the suite must reach at least once. */
export const MUST_REACH = [
  'ts append: bytes',
  'ts append: text',
  'ts append: json',
  'ts append: EMSGSIZE',
  'ts append: declared an unwritten previous lap',
  'c append',
  'c append: ETIMEDOUT on an unwritten previous lap',
  'claim never written',
  'read: message',
  'read: malformed',
  'read: overwritten',
  'read: abandoned',
  'read: pending',
  'c read: message',
  'c read: lost',
  'c read: abandoned',
  'c read: pending',
  'event: message bytes',
  'event: message text',
  'event: message json',
  'event: malformed',
  'event: gap overwritten',
  'event: gap overwritten of several seqs',
  'event: gap abandoned',
  'event: gap abandoned declared by the reader',
  'event: gap abandoned of several seqs',
  'consumer: resumed after its ack',
  'ack: EINVAL',
  'ack: behind the one kept',
  'c ack_get: an ack',
] as const;

function noteEvent(event: Expected, declared: boolean): void {
  if (event.kind === 'message') note(`event: message ${event.type}`);
  else if (event.kind === 'malformed') note('event: malformed');
  else {
    note(`event: gap ${event.reason}`);
    if (event.to > event.from) note(`event: gap ${event.reason} of several seqs`);
    if (declared) note('event: gap abandoned declared by the reader');
  }
}

export class StreamMismatch extends Error {
  override name = 'StreamMismatch';
}

function fail(what: string): never {
  throw new StreamMismatch(what);
}

function same(what: string, actual: unknown, expected: unknown): void {
  if (!isDeepStrictEqual(actual, expected)) fail(`${what}: got ${show(actual)}, model expects ${show(expected)}`);
}

function expectCode(what: string, fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (error) {
    if (isSplinterError(error) && error.code === code) return;
    fail(`${what}: expected SplinterError ${code}, got ${String(error)}`);
  }
  fail(`${what}: expected SplinterError ${code}, it returned`);
}

function expectPeer(what: string, answer: PeerAnswer, rc: number, errno?: string): void {
  if (answer.rc !== rc || (errno !== undefined && answer.errno !== errno)) fail(`${what}: the C peer answered ${JSON.stringify(answer)}, model expects rc ${rc} ${errno ?? ''}`);
}

/** An event as the library gave it, in the model's terms (seqs as numbers, values copied). */
function plain(event: StreamEvent | undefined): Expected | undefined {
  if (event === undefined) return undefined;
  if (event.kind === 'gap') return { kind: 'gap', from: Number(event.from), to: Number(event.to), reason: event.reason };
  if (event.kind === 'malformed') return { kind: 'malformed', seq: Number(event.seq), slotType: event.slotType, bytes: new Uint8Array(event.bytes) };
  const value = event.value instanceof Uint8Array ? new Uint8Array(event.value) : event.value;
  return { kind: 'message', seq: Number(event.seq), type: event.type, value };
}

/** A seq 1..head + 2 (one past the head and one further: not appended yet), picked by fraction. */
function pick(m: StreamModel, fraction: number): number {
  return 1 + Math.floor(fraction * (m.head + 2));
}

abstract class Step implements StreamCmd {
  check(): boolean {
    return true;
  }

  async run(m: StreamModel, r: StreamReal): Promise<void> {
    try {
      await this.apply(m, r);
      same('invariant: head()', Number(r.stream.head()), m.head);
      same('invariant: oldest()', Number(r.stream.oldest()), m.oldest());
    } catch (error) {
      if (error instanceof StreamMismatch) error.message += `\n  after ${this.toString()}\n  model: head ${m.head}, cells ${show(m.cells.map((c) => [c.seq, c.type]))}, pending ${show([...m.pending])}`;
      throw error;
    }
  }

  protected abstract apply(m: StreamModel, r: StreamReal): Promise<void>;
  abstract toString(): string;
}

/** What our library is handed to append: bytes, a string (text), or a value for appendJSON / JSON text. */
export type OurMessage =
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'text'; text: string }
  | { kind: 'json'; value: unknown; asText: boolean };

const encoder = new TextEncoder();

export class AppendOurs extends Step {
  constructor(readonly message: OurMessage) {
    super();
  }

  toString(): string {
    const msg = this.message;
    if (msg.kind === 'bytes') return `ts:append(${msg.bytes.length}B ${hex(msg.bytes).slice(0, 16)})`;
    if (msg.kind === 'text') return `ts:append(${JSON.stringify(msg.text)})`;
    return msg.asText ? `ts:append(${JSON.stringify(JSON.stringify(msg.value))}, json)` : `ts:appendJSON(${JSON.stringify(msg.value)})`;
  }

  protected async apply(m: StreamModel, r: StreamReal): Promise<void> {
    const msg = this.message;
    const bytes = msg.kind === 'bytes' ? msg.bytes : encoder.encode(msg.kind === 'text' ? msg.text : JSON.stringify(msg.value));
    const call = (): bigint => {
      if (msg.kind === 'bytes') return r.stream.append(msg.bytes);
      if (msg.kind === 'text') return r.stream.append(msg.text);
      return msg.asText ? r.stream.append(JSON.stringify(msg.value), { type: 'json' }) : r.stream.appendJSON(msg.value);
    };
    // Empty or too long: refused before the claim, the head does not move.
    if (bytes.length < 1 || bytes.length > r.maxValueSize) {
      note('ts append: EMSGSIZE');
      return expectCode(this.toString(), call, 'EMSGSIZE');
    }
    note(`ts append: ${msg.kind}`);
    if (m.previousPending(m.head + 1)) note('ts append: declared an unwritten previous lap');
    const seq = call();
    same(`${this.toString()} seq`, Number(seq), m.appendOurs(TYPE_OF[msg.kind], bytes));
  }
}

export class AppendC extends Step {
  constructor(readonly type: number, readonly bytes: Uint8Array) {
    super();
  }

  toString(): string {
    return `c:stream_append(type ${this.type}, ${this.bytes.length}B ${hex(this.bytes).slice(0, 16)})`;
  }

  protected async apply(m: StreamModel, r: StreamReal): Promise<void> {
    const answer = await r.peer.send({ op: 'stream_append', name: r.stream.name, value_hex: hex(this.bytes), type: this.type, claim_timeout_ms: 2 });
    const { seq, timedOut } = m.appendC(this.type, this.bytes);
    note(timedOut ? 'c append: ETIMEDOUT on an unwritten previous lap' : 'c append');
    if (timedOut) expectPeer(this.toString(), answer, -1, 'ETIMEDOUT');
    else expectPeer(this.toString(), answer, 0);
    same(`${this.toString()} seq`, answer['seq'], String(seq));
  }
}

/** Producers that die right after their claims: the head counter moves, the cells are never written. */
export class ClaimNeverWritten extends Step {
  constructor(readonly count: number) {
    super();
  }

  toString(): string {
    return `${this.count} claim(s), never written`;
  }

  protected async apply(m: StreamModel, r: StreamReal): Promise<void> {
    for (let k = 0; k < this.count; k++) {
      const seq = Number(Atomics.add(r.headCounter, 0, 1n)) + 1;
      same(this.toString(), seq, m.claim());
      m.pending.add(seq);
    }
    note('claim never written');
  }
}

export class ReadOurs extends Step {
  private seq = 0;
  constructor(readonly fraction: number) {
    super();
  }

  toString(): string {
    return `ts:read(${this.seq || `${this.fraction.toFixed(2)} of the seqs`})`;
  }

  protected async apply(m: StreamModel, r: StreamReal): Promise<void> {
    this.seq = pick(m, this.fraction);
    const expected = m.read(this.seq);
    note(`read: ${expected === undefined ? 'pending' : expected.kind === 'gap' ? expected.reason : expected.kind}`);
    same(this.toString(), plain(r.stream.read(this.seq)), expected);
  }
}

export class ReadC extends Step {
  private seq = 0;
  constructor(readonly fraction: number) {
    super();
  }

  toString(): string {
    return `c:stream_read(${this.seq || `${this.fraction.toFixed(2)} of the seqs`})`;
  }

  protected async apply(m: StreamModel, r: StreamReal): Promise<void> {
    const n = pick(m, this.fraction);
    this.seq = n;
    const answer = await r.peer.send({ op: 'stream_read', name: r.stream.name, seq: n });
    expectPeer(this.toString(), answer, 0);
    const state = m.state(n);
    const cell = m.cellOf(n);
    note(`c read: ${state === 'here' ? (cell.type === 1 ? 'abandoned' : 'message') : state}`);
    if (state === 'pending') return same(this.toString(), answer['state'], 'pending');
    if (state === 'lost') return same(this.toString(), [answer['state'], answer['holds']], ['lost', String(cell.seq)]);
    if (cell.type === 1) return same(this.toString(), answer['state'], 'abandoned');
    same(this.toString(), [answer['state'], answer['type'], answer['value_hex']], ['message', cell.type, hex(cell.bytes)]);
  }
}

export class HeadC extends Step {
  toString(): string {
    return 'c:stream_head';
  }

  protected async apply(m: StreamModel, r: StreamReal): Promise<void> {
    const answer = await r.peer.send({ op: 'stream_head', name: r.stream.name });
    expectPeer(this.toString(), answer, 0);
    same(this.toString(), [answer['head'], answer['capacity']], [String(m.head), String(m.capacity)]);
  }
}

const sleep = (ms: number): Promise<'quiet'> => new Promise((resolve) => setTimeout(() => resolve('quiet'), ms));
/** How long a subscription gets for each event (a declaration waits for a timer), and then to stay quiet. */
const EVENT_MS = 2000;
const QUIET_MS = 3;

/** Takes exactly the events the model expects from `events`, then checks that nothing more comes. */
async function drainAndCompare(what: string, events: AsyncIterableIterator<StreamEvent>, expected: Expected[], declared: Set<number>): Promise<void> {
  try {
    for (const [k, want] of expected.entries()) {
      noteEvent(want, want.kind === 'gap' && declared.has(want.from));
      const next = await Promise.race([events.next(), sleep(EVENT_MS)]);
      if (next === 'quiet') fail(`${what}: event ${k} never came, model expects ${show(want)} (all: ${show(expected)})`);
      if (next.done === true) fail(`${what}: the iteration ended at event ${k}, model expects ${show(want)}`);
      same(`${what} event ${k}`, plain(next.value), want);
    }
    const more = await Promise.race([events.next(), sleep(QUIET_MS)]);
    if (more !== 'quiet') fail(`${what}: one event more than the model expects: ${show(more.done ? 'done' : plain(more.value))}`);
  } finally {
    await events.return?.();
  }
}

export type From = 'earliest' | 'latest' | number;

export class SubscribeOurs extends Step {
  private seq = 0;
  constructor(readonly from: From) {
    super();
  }

  toString(): string {
    return `ts:subscribe(from ${typeof this.from === 'number' ? this.seq || `${this.from.toFixed(2)} of the seqs` : this.from}) and drain`;
  }

  protected async apply(m: StreamModel, r: StreamReal): Promise<void> {
    const from = this.from;
    this.seq = from === 'earliest' ? m.oldest() : from === 'latest' ? m.head + 1 : pick(m, from);
    const events = r.stream.subscribe({ from: typeof from === 'number' ? this.seq : from });
    const declared = new Set(m.pending);
    await drainAndCompare(this.toString(), events, m.drain(this.seq), declared);
  }
}

/** A durable consumer: subscribe from its ack + 1, drain, acknowledge the last seq it was given. */
export class ConsumeAndAck extends Step {
  constructor(readonly id: string) {
    super();
  }

  toString(): string {
    return `ts:consumer(${this.id}).subscribe, drain, ack`;
  }

  protected async apply(m: StreamModel, r: StreamReal): Promise<void> {
    const consumer = r.stream.consumer(this.id);
    const acked = m.acks.get(this.id) ?? 0;
    same(`${this.toString()} acknowledged()`, Number(consumer.acknowledged()), acked);
    if (acked > 0) note('consumer: resumed after its ack');
    const declared = new Set(m.pending);
    const expected = m.drain(acked + 1);
    await drainAndCompare(this.toString(), consumer.subscribe(), expected, declared);
    const last = expected.at(-1);
    if (last === undefined) return;
    const end = last.kind === 'gap' ? last.to : last.seq;
    consumer.ack(end);
    m.acks.set(this.id, end);
    same(`${this.toString()} acknowledged() after`, Number(consumer.acknowledged()), end);
  }
}

export class Ack extends Step {
  private seq = 0;
  constructor(readonly id: string, readonly fraction: number) {
    super();
  }

  toString(): string {
    return `ts:consumer(${this.id}).ack(${this.seq || `${this.fraction.toFixed(2)} of the seqs`})`;
  }

  protected async apply(m: StreamModel, r: StreamReal): Promise<void> {
    // 0 .. head + 1: 0 and a seq past the head are refused.
    this.seq = Math.floor(this.fraction * (m.head + 2));
    const consumer = r.stream.consumer(this.id);
    if (this.seq < 1 || this.seq > m.head) {
      note('ack: EINVAL');
      expectCode(this.toString(), () => consumer.ack(this.seq), 'EINVAL');
    } else {
      if (this.seq < (m.acks.get(this.id) ?? 0)) note('ack: behind the one kept');
      consumer.ack(BigInt(this.seq));
      // Only forwards: an earlier seq changes nothing.
      m.acks.set(this.id, Math.max(m.acks.get(this.id) ?? 0, this.seq));
    }
    same(`${this.toString()} acknowledged()`, Number(consumer.acknowledged()), m.acks.get(this.id) ?? 0);
  }
}

export class AckGetC extends Step {
  constructor(readonly id: string) {
    super();
  }

  toString(): string {
    return `c:stream_ack_get(${this.id})`;
  }

  protected async apply(m: StreamModel, r: StreamReal): Promise<void> {
    const answer = await r.peer.send({ op: 'stream_ack_get', name: r.stream.name, id: this.id });
    expectPeer(this.toString(), answer, 0);
    if ((m.acks.get(this.id) ?? 0) > 0) note('c ack_get: an ack');
    same(this.toString(), answer['acked'], String(m.acks.get(this.id) ?? 0));
  }
}

/** The commands, weighted: appends by both sides most, reads and subscriptions next. */
export function streamCommands(maxValueSize: number): Array<fc.Arbitrary<StreamCmd>> {
  // Spread over the seqs (a biased double would pick the first and the last nearly always), the ends too.
  const fraction = fc.oneof(
    { arbitrary: fc.noBias(fc.integer({ min: 0, max: 9999 })).map((n) => n / 10_000), weight: 4 },
    { arbitrary: fc.constantFrom(0, 0.9999), weight: 1 },
  );
  const consumerId = fc.constantFrom('a', 'b');
  const bytes = fc.uint8Array({ minLength: 0, maxLength: maxValueSize + 2 });
  const text = fc.string({ unit: 'binary', maxLength: maxValueSize / 2 });
  const json = fc.jsonValue({ maxDepth: 2 }).filter((v) => JSON.stringify(v).length <= maxValueSize + 4);
  const ours: fc.Arbitrary<OurMessage> = fc.oneof(
    bytes.map((b) => ({ kind: 'bytes' as const, bytes: b })),
    text.map((s) => ({ kind: 'text' as const, text: s })),
    fc.tuple(json, fc.boolean()).map(([value, asText]) => ({ kind: 'json' as const, value, asText })),
  );
  // C writes any bytes under any of the three types: text that is not UTF-8 or JSON that does not parse is 'malformed' to us.
  const cMessage = fc.oneof(
    fc.tuple(fc.constantFrom(16, 128, 8), fc.uint8Array({ minLength: 1, maxLength: maxValueSize })),
    fc.tuple(fc.constant(128), text.filter((s) => s.length > 0).map((s) => encoder.encode(s).slice(0, maxValueSize))),
    fc.tuple(fc.constant(8), json.map((v) => encoder.encode(JSON.stringify(v)).slice(0, maxValueSize))),
  ).filter(([, b]) => b.length > 0);
  const from: fc.Arbitrary<From> = fc.oneof(fc.constant('earliest' as const), fc.constant('latest' as const), fraction);
  return [
    fc.oneof(
      { arbitrary: ours.map((msg): StreamCmd => new AppendOurs(msg)), weight: 6 },
      { arbitrary: cMessage.map(([type, b]): StreamCmd => new AppendC(type, b)), weight: 5 },
      { arbitrary: fc.integer({ min: 1, max: 3 }).map((n): StreamCmd => new ClaimNeverWritten(n)), weight: 2 },
      { arbitrary: fraction.map((f): StreamCmd => new ReadOurs(f)), weight: 3 },
      { arbitrary: fraction.map((f): StreamCmd => new ReadC(f)), weight: 3 },
      { arbitrary: fc.constant(null).map((): StreamCmd => new HeadC()), weight: 1 },
      { arbitrary: from.map((f): StreamCmd => new SubscribeOurs(f)), weight: 2 },
      { arbitrary: consumerId.map((id): StreamCmd => new ConsumeAndAck(id)), weight: 2 },
      { arbitrary: fc.tuple(consumerId, fraction).map(([id, f]): StreamCmd => new Ack(id, f)), weight: 1 },
      { arbitrary: consumerId.map((id): StreamCmd => new AckGetC(id)), weight: 1 },
    ),
  ];
}

