/** The keys a store holds (docs/spec/FORMAT.md §7 list), decoded once per slot and hash per handle. */
import { SplinterError } from '../../errors.js';
import { KEY_MAX, SLOT } from '../../layout/constants.js';
import type { KvContext } from '../handle/context.js';
import { keyOfBytes, type Key } from './key-text.js';
import { storedKeyLength } from './probe.js';
import { deadlinesPresent, expiredNow } from '../slot/deadlines.js';

/** The key stored at a slot, exactly: a string when its bytes are UTF-8, else the bytes; ECORRUPT without a NUL. */
export function readStoredKey(ctx: KvContext, index: number): Key {
  const m = ctx.m;
  const slotByte = m.slotByte(index);
  const length = storedKeyLength(m, slotByte);
  if (length < 0) throw new SplinterError('ECORRUPT', `slot ${index} holds a key with no NUL in its ${KEY_MAX} bytes`);
  const scratch = ctx.keyScratch;
  for (let i = 0; i < length; i++) scratch[i] = m.u8[slotByte + SLOT.key + i]!;
  // Never decoded with replacement: a C key that is not UTF-8 would come back as other bytes (and
  // longer: each bad byte becomes 3), a key that no call finds or that is over 63 bytes.
  return keyOfBytes(scratch.subarray(0, length));
}

/** list: keys of slots with a hash and a non-empty value, in slot order. */
export function listKeys(ctx: KvContext): Key[] {
  const m = ctx.m;
  const i32 = m.i32;
  const slots = m.slots;
  const names = (ctx.slotNames ??= { hashLo: new Int32Array(slots), hashHi: new Int32Array(slots), names: new Array(slots), lastCount: 0 });
  const cachedNames = names.names;
  const cachedLo = names.hashLo;
  const cachedHi = names.hashHi;
  // Sized from the last count, trimmed at the end: growing it push by push was a fifth of the cost.
  const keys = new Array<Key>(names.lastCount);
  let count = 0;
  const step = m.slotSize >>> 2;
  const lengthWord = SLOT.val_len >>> 2;
  const withDeadlines = deadlinesPresent(m);
  for (let index = 0, w = m.slotsStart >>> 2; index < slots; index++, w += step) {
    const lo = i32[w]!;
    const hi = i32[w + 1]!;
    if ((lo | hi) === 0 || i32[w + lengthWord] === 0) continue;
    if (withDeadlines && expiredNow(ctx, index, w << 2)) continue; // past its deadline: missing to readers of ours
    // The same hash in the same slot is the same key: decode each key once per handle.
    let key = cachedNames[index];
    if (key === undefined || cachedLo[index] !== lo || cachedHi[index] !== hi) {
      key = readStoredKey(ctx, index);
      // An unset or a new owner meanwhile: the key read may be half-cleared, so leave it out.
      if (Atomics.load(i32, w) !== lo || Atomics.load(i32, w + 1) !== hi) continue;
      cachedNames[index] = key;
      cachedLo[index] = lo;
      cachedHi[index] = hi;
    }
    // A bytes key is handed out as a copy: the remembered one stays as read.
    if (typeof key !== 'string') key = key.slice();
    if (count < keys.length) keys[count] = key;
    else keys.push(key);
    count++;
  }
  keys.length = count;
  names.lastCount = count;
  return keys;
}
