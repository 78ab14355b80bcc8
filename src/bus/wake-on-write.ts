/**
 * The bus side of the write-to-wake seam (store/handle/write-listener.ts tells the whole flow): after a
 * write of one handle, the event-bus dirty bit C would set, then the store's bus line rings.
 */
import { markDirty } from '../store/slot/dirty.js';
import type { StoreMemory } from '../store/backing/memory.js';
import type { WriteListener } from '../store/handle/write-listener.js';
import type { BusLine } from './line.js';

/** One per handle: the dirty bit goes to the handle's own mapping, the ring to the line all its handles share. */
export class WakeOnWrite implements WriteListener {
  constructor(
    private readonly memory: StoreMemory,
    private readonly line: BusLine,
  ) {}

  afterWrite(index: number, dirty: boolean): void {
    if (dirty) markDirty(this.memory, index);
    this.line.ring();
  }
}
