/** `splinter doctor` finds each kind of planted damage, stays quiet on clean stores, and repairs what it may. */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { HEADER, SLOT, SLOT_SIZE } from '../../src/layout/constants.js';
import { Store } from '../../src/index.js';
import { copyFixture, fixtureNames, tempDir } from '../helpers/fixtures.js';
import type { Test } from '../helpers/assert.js';
import { cli, oneLineError } from './helpers.js';

t.setTimeout(600_000); // many CLI processes: minutes on a loaded machine

interface Report {
  ok: boolean;
  liveKeys: number;
  slots?: number;
  findings: Array<{ kind: string; severity: string; slot?: number; key?: string; message: string; repair?: string; stuckMs?: number }>;
  repairs?: Array<{ kind: string; slot: number; done: boolean; action: string }>;
  dropped?: Array<{ slot: number; key: string }>;
  after?: { findings: Array<{ kind: string; severity: string }> };
}

const SLOTS = 16;
const MAX = 32;
const slotAt = (i: number): number => HEADER.size + i * SLOT_SIZE;
const arenaAt = HEADER.size + SLOTS * SLOT_SIZE;

/** A file store of 16 slots × 32 bytes holding `keys`; returns where each key lives. */
function plantStore(t: Test, keys: string[]): { file: string; index: Map<string, number> } {
  const file = path.join(tempDir(t), 'store.spl');
  const store = Store.create(file, { slots: SLOTS, maxValueSize: MAX });
  const index = new Map<string, number>();
  for (const key of keys) {
    store.set(key, `value of ${key}`);
    index.set(key, store.slotSnapshot(key)!.index);
  }
  store.close();
  return { file, index };
}

function patch(file: string, change: (b: Buffer) => Buffer | void): void {
  const bytes = fs.readFileSync(file);
  fs.writeFileSync(file, change(bytes) ?? bytes);
}

function doctor(file: string, ...extra: string[]): { code: number | null; report: Report; stdout: string; stderr: string } {
  const r = cli(['doctor', file, '--json', '--wait', '60', ...extra]);
  return { code: r.code, report: JSON.parse(r.stdout) as Report, stdout: r.stdout, stderr: r.stderr };
}

const kinds = (report: Report, severity = 'damage'): string[] => report.findings.filter((f) => f.severity === severity).map((f) => f.kind);

t.test('a clean store: exit 0, nothing reported', async (t) => {
  const { file } = plantStore(t, ['a', 'b', 'c']);
  const human = cli(['doctor', file]);
  t.equal(human.code, 0);
  t.match(human.stdout, /^doctor: store file .*store\.spl: 16 slots × 32 bytes, 3 keys\nok: no damage found\n$/);
  const { report } = doctor(file);
  t.equal(report.ok, true);
  t.same(report.findings, []);
});

t.test('headers that lie, and files that are not stores', async (t) => {
  const cases: Array<[string, (b: Buffer) => Buffer | void, string, RegExp]> = [
    ['a truncated file', (b) => b.subarray(0, 100), 'truncated', /is 100 bytes; a store is at least 5440 bytes/],
    ['a file cut short inside its value arena', (b) => b.subarray(0, b.length - 100), 'truncated', /is truncated: it is \d+ bytes, but its header describes 16 slots × 32 bytes, \d+ bytes at least .*, 100 bytes more than there are/],
    ['a foreign magic', (b) => void b.writeUInt32LE(0xdeadbeef, HEADER.magic), 'magic', /magic 0xDEADBEEF, expected 0x534C4E54/],
    ['another version', (b) => void b.writeUInt32LE(3, HEADER.version), 'version', /format version 3/],
    ['zero slots', (b) => void b.writeUInt32LE(0, HEADER.slots), 'geometry', /declares 0 slots/],
    ['a size that is not the geometry', (b) => Buffer.concat([b, Buffer.alloc(1000)]), 'size', /the header says 16 slots × 32 bytes, which is \d+ bytes .* but .* is \d+ bytes/],
    ['a recorded size (val_sz) that is not the file size', (b) => void b.writeUInt32LE(b.length + 64, HEADER.val_sz), 'val-sz', /records the store's size as \d+ bytes \(val_sz\)/],
  ];
  for (const [what, change, kind, message] of cases) {
    const { file } = plantStore(t, ['a', 'b']);
    patch(file, change);
    const { code, report } = doctor(file);
    t.equal(code, 1, `${what}: exit 1`);
    t.same(kinds(report), [kind], `${what}: ${kind}`);
    t.match(report.findings[0]!.message, message);
    if (kind === 'val-sz') t.equal(report.liveKeys, 2, 'the geometry still holds, so the slots were checked too');
    // The library refuses such a file; the CLI says so in one line.
    const get = cli(['--use', file, 'get', 'a']);
    t.equal(get.code, 1, `${what}: get exits 1`);
    t.ok(oneLineError(get.stderr), get.stderr);
    t.match(get.stderr, /ECORRUPT/);
  }
  const human = cli(['doctor', path.join(tempDir(t), 'missing.spl')]);
  t.equal(human.code, 1);
  t.ok(oneLineError(human.stderr));
  t.match(human.stderr, /does not exist/);
});

t.test('slot damage: each kind is found, named, and says whether --repair can fix it', async (t) => {
  const { file, index } = plantStore(t, ['stuck', 'dup', 'hash', 'unterm', 'far', 'long', 'over', 'under']);
  const i = (key: string): number => index.get(key)!;
  let emptySlot = -1;
  let dupCopy = -1;
  patch(file, (b) => {
    // A writer died inside the seqlock of "stuck": its epoch stays odd.
    b.writeBigUInt64LE(7n, slotAt(i('stuck')) + SLOT.epoch);
    // A second copy of "dup" further along its probe path (C's Q1), with its own value bytes.
    for (let k = 1; k < SLOTS; k++) {
      const j = (i('dup') + k) % SLOTS;
      if (b.readBigUInt64LE(slotAt(j)) === 0n) {
        dupCopy = j;
        b.copy(b, slotAt(j), slotAt(i('dup')), slotAt(i('dup')) + SLOT_SIZE);
        b.writeUInt32LE(j * MAX, slotAt(j) + SLOT.val_off);
        b.write('stale value', arenaAt + j * MAX);
        break;
      }
    }
    // A stored hash that is not FNV-1a of the key.
    b.writeUInt8(b.readUInt8(slotAt(i('hash'))) ^ 1, slotAt(i('hash')));
    // 64 key bytes without a NUL.
    b.fill('x', slotAt(i('unterm')) + SLOT.key, slotAt(i('unterm')) + SLOT.key + 64);
    // Values pointing outside the arena, or longer than a value can be.
    b.writeUInt32LE(SLOTS * MAX - 2, slotAt(i('far')) + SLOT.val_off);
    b.writeUInt32LE(MAX + 1, slotAt(i('long')) + SLOT.val_len);
    // One value moved over another live value (C hands relocations out below val_brk: the whole arena here).
    b.writeUInt32LE(i('under') * MAX, slotAt(i('over')) + SLOT.val_off);
    b.writeUInt32LE(SLOTS * MAX, HEADER.val_brk);
    // An empty slot left odd by a writer that died before storing its hash.
    for (let j = 0; j < SLOTS; j++) {
      if (b.readBigUInt64LE(slotAt(j)) === 0n && j !== dupCopy) {
        emptySlot = j;
        b.writeBigUInt64LE(3n, slotAt(j) + SLOT.epoch);
        break;
      }
    }
  });
  t.ok(dupCopy >= 0 && emptySlot >= 0, 'planted');
  const { code, report } = doctor(file);
  t.equal(code, 1, 'damage: exit 1');
  t.equal(report.ok, false);
  const bySlot = new Map(report.findings.map((f) => [`${f.kind}@${f.slot}`, f]));
  const expect = (kind: string, slot: number, message: RegExp, repair?: string): void => {
    const f = bySlot.get(`${kind}@${slot}`);
    t.ok(f, `${kind} at slot ${slot}`);
    if (f === undefined) return;
    t.equal(f.severity, 'damage');
    t.match(f.message, message, `${kind}: ${f.message}`);
    t.equal(f.repair, repair, `${kind}: repair ${repair ?? 'none'}`);
  };
  expect('odd-epoch', i('stuck'), /slot \d+ \("stuck"\) has stayed locked \(odd epoch 7\) for at least \d+ ms: .*its value may be partly written/, 'drop');
  t.ok(bySlot.get(`odd-epoch@${i('stuck')}`)!.stuckMs! >= 55, 'for how long: at least the wait');
  expect('odd-epoch', emptySlot, /slot \d+ has stayed locked \(odd epoch 3\)/, 'clear');
  expect('duplicate-key', dupCopy, new RegExp(`"dup" is stored twice: readers see slot ${i('dup')} \\(first on its probe path\\); slot ${dupCopy} is a stale copy`), 'remove-duplicate');
  expect('hash-mismatch', i('hash'), /stores hash 0x[0-9a-f]+, but FNV-1a 64 of its key "hash" is 0x[0-9a-f]+/);
  expect('key-unterminated', i('unterm'), /no NUL in its 64 bytes/);
  expect('value-out-of-arena', i('far'), new RegExp(`arena offset ${SLOTS * MAX - 2} \\+ \\d+ bytes; the arena is ${SLOTS * MAX} bytes`));
  expect('value-out-of-arena', i('long'), new RegExp(`\\+ ${MAX + 1} bytes`));
  expect('value-overlap', i('over'), /overlapping the value of slot \d+ \("under"\)/);
  t.equal(kinds(report).length, 8, 'nothing else');

  const human = cli(['doctor', file, '--wait', '60']);
  t.equal(human.code, 1);
  t.match(human.stdout, /^ {2}DAMAGE {2}odd-epoch /m);
  t.match(human.stdout, /\n8 problems found; 3 can be repaired with --repair\n$/);

  // --repair frees both stuck slots and removes the stale copy; the rest stays reported.
  const repaired = doctor(file, '--repair');
  t.equal(repaired.code, 1, 'damage --repair cannot fix remains: exit 1');
  t.same(
    repaired.report.repairs!.map((r) => [r.kind, r.done]),
    [
      ['odd-epoch', true],
      ['odd-epoch', true],
      ['duplicate-key', true],
    ],
  );
  t.same(repaired.report.dropped, [{ slot: i('stuck'), key: 'stuck' }], 'the stuck key is reported dropped; the empty stuck slot held none');
  t.same(kinds(repaired.report.after as Report).sort(), ['hash-mismatch', 'key-unterminated', 'value-out-of-arena', 'value-out-of-arena', 'value-overlap']);
});

t.test('--repair on repairable damage leaves a healthy store', async (t) => {
  const { file, index } = plantStore(t, ['stuck', 'dup']);
  let dupCopy = -1;
  patch(file, (b) => {
    b.writeBigUInt64LE(9n, slotAt(index.get('stuck')!) + SLOT.epoch);
    const home = index.get('dup')!;
    for (let k = 1; k < SLOTS && dupCopy < 0; k++) {
      const j = (home + k) % SLOTS;
      if (b.readBigUInt64LE(slotAt(j)) !== 0n) continue;
      dupCopy = j;
      b.copy(b, slotAt(j), slotAt(home), slotAt(home) + SLOT_SIZE);
      b.writeUInt32LE(j * MAX, slotAt(j) + SLOT.val_off);
      b.write('stale', arenaAt + j * MAX);
    }
  });
  const before = Store.open(file);
  t.throws(() => before.get('stuck'), { code: 'EAGAIN' }, 'the stuck slot cannot be read');
  before.close();

  const human = cli(['doctor', file, '--repair', '--wait', '60']);
  t.equal(human.code, 0, human.stdout);
  t.match(human.stdout, /^ {2}repaired {2}cleared "stuck" \(slot \d+\): its writer died mid-write, the value cannot be trusted$/m);
  t.match(human.stdout, /^dropped 1 key whose value a dead writer left partial: "stuck"$/m);
  t.match(human.stdout, new RegExp(`^  repaired  removed the stale copy of "dup" in slot ${dupCopy}$`, 'm'));
  t.match(human.stdout, /ok: no damage left\n$/);

  const store = Store.open(file);
  t.teardown(() => store.close());
  t.equal(store.has('stuck'), false, 'the key a dead writer held is gone, not served as it was');
  const cleared = fs.readFileSync(file).subarray(slotAt(index.get('stuck')!));
  t.equal(cleared.readBigUInt64LE(0), 0n, 'its hash is 0: an empty slot');
  t.equal(cleared.readBigUInt64LE(SLOT.epoch), 12n, 'released forward to an even epoch above the stuck 9, never back');
  t.equal(store.getString('dup'), 'value of dup', 'readers still see the first copy');
  store.unset('dup');
  t.equal(store.has('dup'), false, 'and no stale copy reappears after unset');
  t.equal(doctor(file).code, 0);
});

t.test('an empty slot that still holds a key or a value length: an unset that stopped half-way', async (t) => {
  const { file, index } = plantStore(t, ['half', 'halfer', 'kept']);
  const half = index.get('half')!;
  const halfer = index.get('halfer')!;
  const epochOf = (b: Buffer, i: number): bigint => b.readBigUInt64LE(slotAt(i) + SLOT.epoch);
  let epochs: bigint[] = [];
  patch(file, (b) => {
    // C's unset stores hash 0 first and takes no lock: one died right after, key and value length still there.
    b.writeBigUInt64LE(0n, slotAt(half));
    // Another died after zeroing the key, before val_len.
    b.writeBigUInt64LE(0n, slotAt(halfer));
    b.fill(0, slotAt(halfer) + SLOT.key, slotAt(halfer) + SLOT.key + 64);
    epochs = [epochOf(b, half), epochOf(b, halfer)];
  });
  const { code, report } = doctor(file);
  t.equal(code, 1, 'damage: exit 1');
  t.same(kinds(report), ['unset-unfinished', 'unset-unfinished']);
  const bySlot = new Map(report.findings.map((f) => [f.slot, f]));
  t.match(bySlot.get(half)?.message, new RegExp(`^slot ${half} is empty \\(hash 0, epoch ${epochs[0]}\\) but still holds the key "half" and a value length of 13 bytes: an unset that stopped half-way`));
  t.match(bySlot.get(halfer)?.message, new RegExp(`^slot ${halfer} is empty \\(hash 0, epoch ${epochs[1]}\\) but still holds a value length of 15 bytes: an unset`));
  t.equal(bySlot.get(half)?.repair, 'clear');
  t.equal(report.liveKeys, 1, 'neither counts as a key');

  const human = cli(['doctor', file, '--wait', '60']);
  t.match(human.stdout, /^ {2}DAMAGE {2}unset-unfinished +slot \d+ is empty .*\[--repair: clear the slot\]$/m);

  const repaired = doctor(file, '--repair');
  t.equal(repaired.code, 0, 'repaired: exit 0');
  t.same(repaired.report.repairs!.map((r) => [r.kind, r.slot, r.done]), [
    ['unset-unfinished', Math.min(half, halfer), true],
    ['unset-unfinished', Math.max(half, halfer), true],
  ]);
  t.same(repaired.report.dropped, [], 'no key is dropped: each was being unset');
  const b = fs.readFileSync(file);
  for (const [i, epoch] of [[half, epochs[0]!], [halfer, epochs[1]!]] as const) {
    t.equal(b[slotAt(i) + SLOT.key], 0, `slot ${i}: no key`);
    t.equal(b.readUInt32LE(slotAt(i) + SLOT.val_len), 0, `slot ${i}: no value length`);
    t.equal(epochOf(b, i), epoch + 2n, `slot ${i}: released forward`);
  }
  const store = Store.open(file);
  t.teardown(() => store.close());
  t.equal(store.getString('kept'), 'value of kept', 'the other key is untouched');
});

t.test('a live hash over an empty key field is key-missing, not a hash mismatch', async (t) => {
  const { file, index } = plantStore(t, ['gone', '']);
  patch(file, (b) => void (b[slotAt(index.get('gone')!) + SLOT.key] = 0));
  const { code, report } = doctor(file);
  t.equal(code, 1);
  t.same(kinds(report), ['key-missing'], 'the real empty key is not reported');
  t.match(report.findings[0]!.message, new RegExp(`^slot ${index.get('gone')} stores hash 0x[0-9a-f]+ but no key \\(its first key byte is NUL, and that is not the empty key's hash 0xcbf29ce484222325\\): no lookup can find it$`));
  t.equal(report.findings[0]!.repair, undefined, 'left for a person, as a hash mismatch is');
});

t.test('a relocated value past val_brk is damage; below it, a note', async (t) => {
  const { file, index } = plantStore(t, ['moved']);
  const i = index.get('moved')!;
  const target = (i + 3) % SLOTS; // an empty slot's region
  const relocate = (brk: number): void =>
    patch(file, (b) => {
      b.writeUInt32LE(target * MAX, slotAt(i) + SLOT.val_off);
      b.write('value of moved', arenaAt + target * MAX);
      b.writeUInt32LE(brk, HEADER.val_brk);
    });
  relocate(0);
  const past = doctor(file);
  t.equal(past.code, 1);
  t.same(kinds(past.report), ['value-past-brk']);
  t.match(past.report.findings[0]!.message, new RegExp(`^slot ${i} \\("moved"\\) keeps its 14-byte value at arena offset ${target * MAX}, outside its own region and past val_brk \\(0\\)`));
  relocate(target * MAX + 14);
  const below = doctor(file, '--verbose');
  t.equal(below.code, 0, 'a relocation val_brk covers is no damage');
  t.same(kinds(below.report, 'note'), ['relocated']);
});

t.test('the golden fixtures: quiet on every clean one; the quirks are found', async (t) => {
  for (const name of fixtureNames()) {
    const file = copyFixture(t, name);
    const { code, report } = doctor(file);
    if (name === 'quirk-duplicate-after-hole-4x16') {
      t.equal(code, 1, `${name}: exit 1`);
      t.same(kinds(report), ['duplicate-key'], `${name}: the stale copy of k4`);
      t.match(report.findings[0]!.message, /"k4" is stored twice: readers see slot 2 .* slot 3 is a stale copy/);
    } else if (name === 'quirk-biguint-relocation-8x16') {
      t.equal(code, 0, `${name}: relocation alone is not damage`);
      t.same(kinds(report), []);
      t.same(kinds(report, 'note'), ['relocated', 'relocated', 'relocated'], 'but noted');
    } else {
      t.equal(code, 0, `${name}: exit 0`);
      t.same(report.findings, [], `${name}: nothing to report`);
    }
  }
});
