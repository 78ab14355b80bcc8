import { KEY_MAX } from '../../layout/constants.js';
import type { Backoff } from '../sync/backoff.js';
import type { DeadlineTable } from '../slot/deadlines.js';
import { Copier } from '../values/copy.js';
import type { KeyCodec } from '../keys/key-codec.js';
import type { Key } from '../keys/key-text.js';
import type { StoreMemory } from '../backing/memory.js';
import { NO_WRITE_LISTENER, type WriteListener } from './write-listener.js';

const U64_BYTES = 8;

/** Decoded key names by slot, remembered with the hash they were decoded under. */
export interface SlotNames {
  hashLo: Int32Array;
  hashHi: Int32Array;
  names: Array<Key | undefined>;
  /** How many keys the last list found: the next list's first guess at its size. */
  lastCount: number;
}

/** One store handle's working state: memory, the key codec, the retry budget and scratch. */
export class KvContext {
  /** Non-shared scratch: TextDecoder refuses views of a SharedArrayBuffer. */
  readonly keyScratch = new Uint8Array(KEY_MAX);
  readonly valueScratch: Uint8Array;
  /** The copy the last `get` made. */
  lastCopy: Uint8Array | undefined;
  /** keys()'s memory of decoded names, made on first use. */
  slotNames: SlotNames | undefined;
  /** val_brk when relocated values were last moved home (values/relocation.ts). */
  seenValBrk = 0;
  /** Called after every write to a slot: the write-to-wake seam (write-listener.ts), set by the handle's owner. */
  writeListener: WriteListener = NO_WRITE_LISTENER;

  /** The deadline table, once this handle has opened it (slot/deadlines.ts). */
  deadlines: DeadlineTable | undefined;
  /** Opens the deadline table when the store has one (set by the handle's owner); undefined when it has none or it cannot be used. */
  findDeadlines: () => DeadlineTable | undefined = () => undefined;
  /** The deadline the next value write of the current key gives it (ms since the Unix epoch; 0 clears it). */
  nextDeadline = 0;

  /** Copies in and out of the store (one per handle, remembers the caller's last buffer). */
  readonly copier: Copier;

  constructor(
    readonly m: StoreMemory,
    readonly key: KeyCodec,
    readonly backoff: Backoff,
  ) {
    this.valueScratch = new Uint8Array(Math.max(m.maxValueSize, U64_BYTES) + 4);
    this.copier = new Copier(m.u8, m.i32, this.valueScratch);
  }
}
