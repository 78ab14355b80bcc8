/**
 * The stream model: what a stream of `capacity` cells must hold after a sequence of appends,
 * claims never written (a producer that died after its claim) and declarations, and what a
 * reader must be given. Everything is per seq and per cell, as the convention says
 * (docs/streams.md "The convention"): cell s mod capacity holds the last seq written or declared
 * into it; a seq claimed but neither written nor declared is pending.
 */
export type Kind = 'bytes' | 'text' | 'json';

/** The slot type a message kind is written with (BINARY, VARTEXT, JSON). */
export const TYPE_OF: Record<Kind, number> = { bytes: 16, text: 128, json: 8 };

export interface Cell {
  /** The seq the cell holds (0: none yet). */
  seq: number;
  /** The slot type written with it (VOID 1: declared abandoned). */
  type: number;
  bytes: Uint8Array;
}

/** What a reader is given, as the library reports it (values decoded as it decodes them). */
export type Expected =
  | { kind: 'message'; seq: number; type: Kind; value: unknown }
  | { kind: 'gap'; from: number; to: number; reason: 'overwritten' | 'abandoned' }
  | { kind: 'malformed'; seq: number; slotType: number; bytes: Uint8Array };

const strictText = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export class StreamModel {
  head = 0;
  readonly cells: Cell[];
  /** Durable consumers' acknowledged seqs. */
  readonly acks = new Map<string, number>();
  /** Seqs claimed and never written (nor declared yet). */
  readonly pending = new Set<number>();

  constructor(readonly capacity: number) {
    this.cells = Array.from({ length: capacity }, () => ({ seq: 0, type: 1, bytes: new Uint8Array(0) }));
  }

  cellOf(seq: number): Cell {
    return this.cells[seq % this.capacity]!;
  }

  oldest(): number {
    return Math.max(1, this.head - this.capacity + 1);
  }

  /** What reading seq n finds: the cell's seq against n. */
  state(n: number): 'here' | 'lost' | 'pending' {
    const held = this.cellOf(n).seq;
    return held === n ? 'here' : held > n ? 'lost' : 'pending';
  }

  /** A claim: the next seq. */
  claim(): number {
    return ++this.head;
  }

  write(seq: number, type: number, bytes: Uint8Array): void {
    this.pending.delete(seq);
    Object.assign(this.cellOf(seq), { seq, type, bytes });
  }

  /** Seq n declared abandoned: its cell holds n, type VOID. */
  declare(n: number): void {
    this.write(n, 1, new Uint8Array(0));
  }

  /** Whether the previous lap of seq s was never written: its cell holds an earlier seq. */
  previousPending(s: number): boolean {
    const previous = s - this.capacity;
    return previous >= 1 && this.cellOf(previous).seq < previous;
  }

  /** Our append of a claimed seq: the previous lap, if never written, is declared first. */
  appendOurs(type: number, bytes: Uint8Array): number {
    const s = this.claim();
    if (this.previousPending(s)) this.declare(s - this.capacity);
    this.write(s, type, bytes);
    return s;
  }

  /** A C append: it waits for a previous lap never written, times out, and leaves its own claim unwritten. */
  appendC(type: number, bytes: Uint8Array): { seq: number; timedOut: boolean } {
    const s = this.claim();
    if (this.previousPending(s)) {
      this.pending.add(s);
      return { seq: s, timedOut: true };
    }
    this.write(s, type, bytes);
    return { seq: s, timedOut: false };
  }

  /** The event a read of seq n gives (undefined: pending), as `stream.read` reports it. */
  read(n: number): Expected | undefined {
    const state = this.state(n);
    if (state === 'pending') return undefined;
    if (state === 'lost') return { kind: 'gap', from: n, to: n, reason: 'overwritten' };
    return this.decode(n);
  }

  private decode(n: number): Expected {
    const { type, bytes } = this.cellOf(n);
    if (type === 1) return { kind: 'gap', from: n, to: n, reason: 'abandoned' };
    if (type === 16) return { kind: 'message', seq: n, type: 'bytes', value: bytes };
    let text: string;
    try {
      text = strictText.decode(bytes);
    } catch {
      return { kind: 'malformed', seq: n, slotType: type, bytes };
    }
    if (type === 128) return { kind: 'message', seq: n, type: 'text', value: text };
    try {
      return { kind: 'message', seq: n, type: 'json', value: JSON.parse(text) as unknown };
    } catch {
      return { kind: 'malformed', seq: n, slotType: type, bytes };
    }
  }

  /**
   * What a subscription from seq `from` delivers until it has caught up with the head, as the
   * library reads: a run of lost (or abandoned) seqs is one gap, at most 16 laps long; a claimed
   * seq never written is declared abandoned by the reader (the claim timeout of the test is 0).
   * Declarations change the model, as they change the store.
   */
  drain(from: number): Expected[] {
    const events: Expected[] = [];
    let n = from;
    while (n <= this.head) {
      let state = this.state(n);
      if (state === 'pending') {
        this.declare(n);
        state = 'here';
      }
      if (state === 'lost' || this.cellOf(n).type === 1) {
        const limit = n + 16 * this.capacity;
        const same = (k: number): boolean => (state === 'lost' ? this.state(k) === 'lost' : this.state(k) === 'here' && this.cellOf(k).type === 1);
        let to = n;
        while (to + 1 < limit && same(to + 1)) to++;
        events.push({ kind: 'gap', from: n, to, reason: state === 'lost' ? 'overwritten' : 'abandoned' });
        n = to + 1;
        continue;
      }
      events.push(this.decode(n));
      n++;
    }
    return events;
  }
}
