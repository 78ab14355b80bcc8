/**
 * Child process (torn-ctime.test.ts): plays a C producer's step "ctime = s | writing" over and
 * over on one cell, as C's set_slot_time does it (one 64-bit store, the epoch left alone), between
 * the previous lap's seq and s, never publishing s. Prints "ready", then flips until killed.
 *
 *   node --import tsx ctime-flipper.ts STORE SLOT_BYTE PREVIOUS S
 */
import { Store } from '../../../src/index.js';
import { SLOT } from '../../../src/layout/constants.js';

const [storeName, slotByte, previous, s] = process.argv.slice(2);
const store = Store.open(storeName!);
const u32 = store.kv.m.u32;
const ctime = new BigUint64Array(u32.buffer, u32.byteOffset + Number(slotByte) + SLOT.ctime, 1);
const before = BigInt(previous!);
const writing = BigInt(s!) | (1n << 63n);
process.stdout.write('ready\n');
for (;;) {
  for (let i = 0; i < 1_000_000; i++) {
    Atomics.store(ctime, 0, writing);
    Atomics.store(ctime, 0, before);
  }
}
