/**
 * Reproduction (run: npx tsx props/repro/val-len-over-max.ts): a slot whose val_len is
 * larger than maxValueSize but still inside the arena (corrupt: no value is ever longer
 * than max_val_sz). Readers disagree: get() and rawView() return val_len bytes, running
 * into the next slots' value regions, while getString() throws EMSGSIZE about a "target"
 * the caller never passed (the internal scratch of maxValueSize + 4 bytes). Expected: one
 * answer for all readers, ECORRUPT ("val_len over max_val_sz") being the natural one.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Store } from '../../src/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'splinter-repro-'));
const file = path.join(dir, 's.spl');
const store = Store.create(file, { slots: 4, maxValueSize: 16 });
store.set('k', 'hello');
const index = store.slotSnapshot('k')!.index;
store.close();

const image = fs.readFileSync(file);
// val_len = what is left of the 64-byte arena after val_off: more than maxValueSize 16 for slots 0-2, yet inside the arena.
const length = 64 - index * 16;
if (length <= 16) throw new Error(`"k" landed in slot ${index}; pick another key`);
image.writeUInt32LE(length, 5440 + index * 128 + 20);
fs.writeFileSync(file, image);

const s = Store.open(file);
const show = (f: () => unknown): string => {
  try {
    const v = f();
    return v instanceof Uint8Array ? `${v.length} bytes` : JSON.stringify(v);
  } catch (e) {
    return `throws ${(e as Error).message}`;
  }
};
console.log(`slot ${index}, val_off ${s.slotSnapshot('k')!.valueOffset}, val_len ${length}, maxValueSize 16, arena 64`);
console.log('get       :', show(() => s.get('k')));
console.log('rawView   :', show(() => s.rawView('k')?.bytes));
console.log('getString :', show(() => s.getString('k')));
s.close();
fs.rmSync(dir, { recursive: true, force: true });
