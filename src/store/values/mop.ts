/** The mop mode (docs/spec/FORMAT.md §7): how much of a value region is zeroed around a write. */
import { describe, SplinterError } from '../../errors.js';
import { HEADER, type Mop, SPL_SYS_AUTO_SCRUB, SPL_SYS_HYBRID_SCRUB } from '../../layout/constants.js';
import type { StoreMemory } from '../backing/memory.js';

export function setMop(m: StoreMemory, mode: Mop): void {
  const at = HEADER.core_flags;
  const both = SPL_SYS_AUTO_SCRUB | SPL_SYS_HYBRID_SCRUB;
  if (mode === 0) Atomics.and(m.u8, at, ~both & 0xff);
  else if (mode === 1) Atomics.or(m.u8, at, both);
  else if (mode === 2) Atomics.or(m.u8, at, SPL_SYS_AUTO_SCRUB); // HYBRID left as it was (docs/spec/FORMAT.md §9 Q4)
  else throw new SplinterError('EINVAL', `a mop mode is 0 (off), 1 (hybrid) or 2 (full), received ${describe(mode)}`);
}

export function getMop(m: StoreMemory): Mop {
  const flags = Atomics.load(m.u8, HEADER.core_flags);
  if ((flags & SPL_SYS_HYBRID_SCRUB) !== 0) return 1;
  if ((flags & SPL_SYS_AUTO_SCRUB) !== 0) return 2;
  return 0;
}
