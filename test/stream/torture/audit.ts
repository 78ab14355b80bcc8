/**
 * The checks of the stream torture test, run on what the processes logged once they are all
 * stopped: every delivered message whole and where it belongs, no acknowledged seq missing, gaps
 * that were real. Each check collects what broke it (the first few, with the seqs) so the failure
 * says what happened.
 */
import fs from 'node:fs';
import type { CConsumerRole } from './roles.js';

const TWO_32 = 2 ** 32;
/** How many examples of one broken check are kept for the report. */
const EXAMPLES = 10;

/** Everything learned about the run's seqs, from every consumer and the final look at the cells. */
export class Ledger {
  /** seq → payload number of its message (NaN: not seen). */
  readonly payloadOf: Float64Array;
  /** producer id → counter → seq (NaN: not seen). */
  private readonly seqOfCounter = new Map<number, Float64Array>();
  readonly abandoned = new Set<number>();
  readonly problems = new Map<string, { count: number; examples: unknown[] }>();
  delivered = 0;
  redelivered = 0;
  overwrittenGaps = 0;
  overwrittenSeqs = 0;
  /** Every overwritten gap reported, as [from, to]. */
  readonly overwrittenRanges: Array<[number, number]> = [];

  constructor(readonly head: number, readonly capacity: number) {
    this.payloadOf = new Float64Array(head + 1).fill(Number.NaN);
  }

  problem(check: string, example: unknown): void {
    const entry = this.problems.get(check) ?? { count: 0, examples: [] };
    entry.count++;
    if (entry.examples.length < EXAMPLES) entry.examples.push(example);
    this.problems.set(check, entry);
  }

  /** Seq `seq` was delivered as the message of payload `payload` (by `who`). */
  message(seq: number, payload: number, who: string): void {
    if (seq < 1 || seq > this.head) return this.problem('message seq within 1..head', { who, seq, head: this.head });
    const known = this.payloadOf[seq]!;
    if (Number.isNaN(known)) this.payloadOf[seq] = payload;
    else if (known !== payload) return this.problem('one payload per seq, whoever reads it', { who, seq, payload, before: known });
    const id = Math.floor(payload / TWO_32);
    const counter = payload % TWO_32;
    let seqs = this.seqOfCounter.get(id);
    if (seqs === undefined || seqs.length <= counter) {
      const grown = new Float64Array(Math.max(1024, counter * 2)).fill(Number.NaN);
      if (seqs !== undefined) grown.set(seqs);
      seqs = grown;
      this.seqOfCounter.set(id, seqs);
    }
    const at = seqs[counter]!;
    if (Number.isNaN(at)) seqs[counter] = seq;
    else if (at !== seq) this.problem('one seq per payload (a message never shows at two seqs)', { who, payload, seqs: [at, seq] });
  }

  /** A gap 'overwritten' [from, to] seen while the head was `head`: the cells must hold later laps. */
  overwritten(from: number, to: number, head: number, who: string): void {
    this.overwrittenGaps++;
    this.overwrittenSeqs += to - from + 1;
    this.overwrittenRanges.push([from, to]);
    if (head < to + this.capacity) this.problem('an overwritten gap is more than capacity behind the head', { who, from, to, head, capacity: this.capacity });
  }

  /**
   * Checks that need every log read: abandoned seqs never delivered, and explained: a claim that
   * timed out in a live producer (`timedOut`), a claim nobody ever wrote (`ghosts`: each must be
   * reported abandoned, or lost to an overwrite), or at most `allowance` claims of killed producers.
   */
  finish(timedOut: Set<number>, ghosts: number[], allowance: number): { unexplained: number } {
    for (const seq of ghosts) {
      if (!this.abandoned.has(seq) && !this.overwrittenRanges.some(([from, to]) => from <= seq && seq <= to)) {
        this.problem('a claim never written is reported abandoned (or lost to an overwrite)', { seq });
      }
    }
    const ghostSet = new Set(ghosts);
    let unexplained = 0;
    for (const seq of this.abandoned) {
      if (!Number.isNaN(this.payloadOf[seq] ?? Number.NaN)) this.problem('an abandoned seq is never delivered as a message', { seq, payload: this.payloadOf[seq] });
      if (!timedOut.has(seq) && !ghostSet.has(seq)) unexplained++;
    }
    for (const seq of ghosts) {
      if (!Number.isNaN(this.payloadOf[seq] ?? Number.NaN)) this.problem('an abandoned seq is never delivered as a message', { seq, payload: this.payloadOf[seq], ghost: true });
    }
    if (unexplained > allowance) {
      this.problem('abandoned seqs only for killed producers (or claims that timed out)', { unexplained, allowance, abandoned: [...this.abandoned].sort((a, b) => a - b).slice(0, 20) });
    }
    return { unexplained };
  }
}

interface Batch {
  f: number;
  t: number;
  p: number[];
  g: Array<[number, number, 'overwritten' | 'abandoned', number]>;
  b: unknown[];
}

function lines(file: string): unknown[] {
  if (!fs.existsSync(file)) return [];
  const text = fs.readFileSync(file, 'utf8');
  // A kill may cut the last line of an incarnation short (the write was not done): such a line is
  // not a batch that was acknowledged, so it is left out, and said so.
  return text.split('\n').flatMap((line) => {
    if (line === '') return [];
    try {
      return [JSON.parse(line) as unknown];
    } catch {
      return [{ cut: line.length }];
    }
  });
}

/** Our consumer's log: incarnations in order, each from its acknowledged seq, batches contiguous. */
export function auditOurConsumer(ledger: Ledger, label: string, file: string, finalAck: number): { incarnations: number; batches: number } {
  let incarnation = -1;
  let start = 0;
  let next = 1;
  /** Per incarnation: the last two batch ends (the last may not be acknowledged when killed). */
  let lastT = 0;
  let previousT = 0;
  let maxT = 0;
  let batches = 0;
  let order = new Map<number, number>();
  for (const entry of lines(file)) {
    const line = entry as Record<string, unknown>;
    if ('cut' in line) {
      ledger.problem('log lines are whole (a kill cut a write short)', { who: label, incarnation });
      continue;
    }
    if ('start' in line) {
      const acked = Number(line['start']);
      if (incarnation >= 0) {
        // Killed: the ack it left is one it logged, and no earlier than the batch before its last.
        if (acked < Math.max(start, previousT) || acked > lastT) {
          ledger.problem('a restarted consumer resumes at an ack it logged, never behind one it made', { who: label, incarnation: incarnation + 1, acked, lastLogged: lastT, beforeLast: previousT });
        }
        if (lastT > acked) ledger.redelivered += lastT - acked;
      } else if (acked !== 0) {
        ledger.problem('a new consumer starts from nothing acknowledged', { who: label, acked });
      }
      incarnation++;
      start = acked;
      next = acked + 1;
      lastT = previousT = acked;
      order = new Map();
      continue;
    }
    const batch = line as unknown as Batch;
    const who = `${label}#${incarnation}`;
    batches++;
    if (batch.f !== next) ledger.problem('batches are contiguous from the ack + 1', { who, expected: next, from: batch.f });
    for (const bad of batch.b) ledger.problem('every event is whole and in order (corrupt, malformed, or a jump)', { who, bad });
    let seq = batch.f;
    let p = 0;
    for (const [from, to, reason, head] of batch.g) {
      for (; seq < from; seq++) takeMessage(ledger, who, seq, batch.p[p++], order);
      if (reason === 'abandoned') for (let s = from; s <= to; s++) ledger.abandoned.add(s);
      else ledger.overwritten(from, to, head, who);
      seq = to + 1;
    }
    for (; seq <= batch.t; seq++) takeMessage(ledger, who, seq, batch.p[p++], order);
    if (p !== batch.p.length) ledger.problem('a batch has one payload per message', { who, from: batch.f, to: batch.t, payloads: batch.p.length, messages: p });
    next = batch.t + 1;
    previousT = lastT;
    lastT = batch.t;
    maxT = Math.max(maxT, batch.t);
  }
  if (incarnation < 0) ledger.problem('every consumer logged', { who: label });
  // Every seq up to the final ack is in the log: incarnations overlap (each starts at an ack it logged).
  if (finalAck > maxT) ledger.problem('no acknowledged seq missing from the log', { who: label, finalAck, logged: maxT });
  return { incarnations: incarnation + 1, batches };
}

function takeMessage(ledger: Ledger, who: string, seq: number, payload: number | undefined, order: Map<number, number>): void {
  ledger.delivered++;
  if (payload === undefined || payload < 0) return; // reported in the batch's "b" already
  ledger.message(seq, payload, who);
  // One producer appends one message after another: its counters rise with the seqs.
  const id = Math.floor(payload / TWO_32);
  const counter = payload % TWO_32;
  const last = order.get(id) ?? -1;
  if (counter <= last) ledger.problem("a producer's messages come in the order it appended them", { who, seq, producer: id, counter, after: last });
  order.set(id, counter);
}

/** The C consumer's answered rounds: contiguous, whole, gaps real; sums compared where every seq is known. */
export function auditCConsumer(ledger: Ledger, role: CConsumerRole, finalAck: number): { rounds: number; compared: number; unanswered: number } {
  let compared = 0;
  let unanswered = 0;
  let next = 1;
  let incarnation = -1;
  for (const round of role.rounds) {
    const a = round.answer;
    const who = `${role.label}#${round.incarnation}`;
    if (round.incarnation !== incarnation) {
      const start = role.starts[round.incarnation]!;
      // A kill after its round's closing ack and before the answer: that round was never logged.
      if (start > next - 1) unanswered++;
      else if (start < next - 1) ledger.problem('a restarted consumer resumes at an ack it logged, never behind one it made', { who, acked: start, lastLogged: next - 1 });
      incarnation = round.incarnation;
      next = start + 1;
    }
    if (round.from !== next) ledger.problem('batches are contiguous from the ack + 1', { who, expected: next, from: round.from });
    if (Number(a['corrupt']) !== 0) ledger.problem('every event is whole and in order (corrupt, malformed, or a jump)', { who, from: round.from, corrupt: a['corrupt'] });
    const end = Number(a['next']) - 1;
    const lost = new Set<number>();
    for (const [f, t] of a['lost_ranges'] as Array<[string, string]>) {
      ledger.overwritten(Number(f), Number(t), round.headAfter, who);
      for (let s = Number(f); s <= Number(t); s++) lost.add(s);
    }
    // Where every seq of the round is known from our consumers, its count, xor and abandoned seqs must agree.
    let known = true;
    let xor = 0n;
    let count = 0;
    let abandoned = 0;
    for (let s = round.from; s <= end && known; s++) {
      if (lost.has(s)) continue;
      if (ledger.abandoned.has(s)) abandoned++;
      else if (!Number.isNaN(ledger.payloadOf[s] ?? Number.NaN)) {
        xor ^= BigInt(ledger.payloadOf[s]!);
        count++;
      } else known = false;
    }
    ledger.delivered += Number(a['messages']);
    if (known) {
      compared++;
      const got = { count: Number(a['payload_count']), xor: String(a['checksum_xor']), abandoned: Number(a['abandoned']) };
      const expected = { count, xor: String(xor), abandoned };
      if (JSON.stringify(got) !== JSON.stringify(expected)) ledger.problem('the C consumer read the same messages as ours', { who, from: round.from, to: end, got, expected });
    }
    next = end + 1;
  }
  if (finalAck > next - 1) ledger.problem('no acknowledged seq missing from the log', { who: role.label, finalAck, logged: next - 1 });
  return { rounds: role.rounds.length, compared, unanswered };
}

/** Our producers' logs: the seqs they lost to the claim timeout (ETIMEDOUT), each logged when it happened. */
export function producerTimeouts(files: string[]): Set<number> {
  const seqs = new Set<number>();
  for (const file of files) {
    for (const line of lines(file)) {
      const timeout = (line as Record<string, unknown>)['timeout'];
      if (timeout !== undefined) seqs.add(Number(timeout));
    }
  }
  return seqs;
}
