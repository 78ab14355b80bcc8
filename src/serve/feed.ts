/**
 * The changes of every key, for the event streams: one look per server, shared by its clients.
 * Writers of ours and C's both move the global epoch, so a look that finds it unmoved is one
 * atomic load; when it moved, one pass over the slots (enumerateMatches) tells which keys did.
 * C's unset does not move it (docs/spec/FORMAT.md §9 Q7) but lowers the count of keys: a count
 * (no key decoded) once a second finds those, and a whole pass every 10 s anything else.
 * A watch() would need the keys beforehand; a prefix names keys that do not exist yet.
 */
import { isSplinterError } from '../errors.js';
import type { Store } from '../facade/store.js';
import type { Key } from '../store/keys/key-text.js';
import { keyBytesOf } from './keys.js';
import { typeName } from './types.js';

export interface Change {
  key: Key;
  bytes: Uint8Array;
  /** The slot epoch; 0 once the key is gone. */
  epoch: bigint;
  type: string;
  length: number;
  /** The slot's label bits (0 once the key is gone). */
  labels: bigint;
  deleted: boolean;
}

export type ChangeListener = (changes: readonly Change[]) => void;

/** How often the global epoch is looked at while a client listens, and how often the slots are passed over regardless. */
export const LOOK_MS = 40;
const COUNT_MS = 1000;
const FULL_PASS_MS = 10_000;

function identity(key: Key): string {
  return typeof key === 'string' ? key : `\0${Buffer.from(key).toString('hex')}`;
}

export class ChangeFeed {
  private readonly listeners = new Set<ChangeListener>();
  private known = new Map<string, { key: Key; epoch: bigint }>();
  private timer: NodeJS.Timeout | undefined;
  private seenGlobal = -1n;
  private lastPass = 0;
  private lastCount = 0;
  /** store.count() at the last pass. */
  private countAtPass = -1;

  /** Looks left out after a fault that is not the store's (reported once per pause, not every 40 ms). */
  private pausedLooks = 0;

  constructor(
    private readonly store: Store,
    private readonly report: (error: unknown) => void = () => undefined,
  ) {}

  /** How many listeners are attached (the clients of /v1/events). */
  get size(): number {
    return this.listeners.size;
  }

  /** True while the looks run (a client listens). */
  get running(): boolean {
    return this.timer !== undefined;
  }

  /** Starts the looks with the first listener; the returned function detaches it, and the last one stops them. */
  subscribe(listener: ChangeListener): () => void {
    if (this.listeners.size === 0) {
      this.pass(false); // what is there now is the base, not a change
      this.timer = setInterval(() => this.look(), LOOK_MS);
    }
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.listeners.clear();
    this.known = new Map();
    this.seenGlobal = -1n;
    this.countAtPass = -1;
  }

  private look(): void {
    if (this.pausedLooks > 0) {
      this.pausedLooks--;
      return;
    }
    try {
      if (this.store.closed) return this.stop();
      const now = Date.now();
      if (this.store.epoch === this.seenGlobal && now - this.lastPass < FULL_PASS_MS) {
        if (now - this.lastCount < COUNT_MS) return;
        this.lastCount = now;
        if (this.store.count() === this.countAtPass) return;
      }
      this.pass(true);
    } catch (error) {
      this.seenGlobal = -1n; // ESTALE or a contested slot: look again next time
      // Anything else is a fault of ours: reported, and the looks pause a second rather than fail every 40 ms (a timer's throw would end the process).
      if (!isSplinterError(error) || error.code === 'ECORRUPT') {
        this.report(error);
        this.pausedLooks = Math.ceil(COUNT_MS / LOOK_MS);
      }
    }
  }

  /** One pass over the slots; with `emit`, what changed since the last pass goes to every listener. */
  private pass(emit: boolean): void {
    const store = this.store;
    const global = store.epoch; // before the pass: a write during it is seen by the next one
    this.countAtPass = store.count();
    const now = new Map<string, { key: Key; epoch: bigint }>();
    for (const match of store.enumerateMatches(0n)) now.set(identity(match.key), match);
    const changes: Change[] = [];
    let retry = false;
    for (const [id, entry] of now) {
      const before = this.known.get(id);
      if (before !== undefined && before.epoch === entry.epoch) continue;
      if (!emit) continue;
      try {
        const snapshot = store.slotSnapshot(entry.key);
        if (snapshot === undefined) {
          now.delete(id); // gone since the pass read it: reported below if it was known
          continue;
        }
        entry.epoch = snapshot.epoch;
        changes.push({ key: entry.key, bytes: keyBytesOf(entry.key), epoch: snapshot.epoch, type: typeName(snapshot.typeFlag), length: snapshot.valueLength, labels: snapshot.bloom, deleted: false });
      } catch (error) {
        if (!isSplinterError(error, 'EAGAIN')) throw error;
        retry = true; // a writer inside: keep the old epoch, so the next look reports it
        if (before === undefined) now.delete(id);
        else now.set(id, before);
      }
    }
    if (emit) {
      for (const [id, entry] of this.known) {
        if (!now.has(id)) changes.push({ key: entry.key, bytes: keyBytesOf(entry.key), epoch: 0n, type: 'none', length: 0, labels: 0n, deleted: true });
      }
    }
    this.known = now;
    this.seenGlobal = retry ? -1n : global;
    this.lastPass = this.lastCount = Date.now();
    if (changes.length === 0) return;
    for (const listener of [...this.listeners]) listener(changes);
  }
}
