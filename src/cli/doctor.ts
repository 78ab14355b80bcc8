/**
 * `doctor`: a read-only diagnosis of a store's bytes, and the repairs it may make when asked.
 *
 * Slot checks are made on two samples taken `waitMs` apart, and a slot is reported only when
 * what was wrong with it in the first sample still holds in the second, unchanged: a live
 * store that other processes are writing gives no false alarms from a write in flight.
 */
import { abortableDelay } from '../abort.js';
import { KEY_MAX_BYTES } from '../layout/constants.js';
import { fnv1a64 } from '../layout/fnv1a.js';
import type { Offsets } from '../layout/geometry.js';
import { checkGeometry, forEachSlot, RawStore, type RawHeader, type RawSlot } from './scan.js';
import { clearStuckSlot, finishUnset, probeDistance, removeStaleCopy } from './internal.js';
import type { Store } from '../facade/store.js';
import { escapeKey, type Key, keyOfBytes } from '../facade/inspect.js';
import { shellWord, showKey } from './values.js';

export type FindingKind =
  | 'truncated' // smaller than a header, or than the store its header describes
  | 'magic' // not a Splinter store
  | 'version' // another format version
  | 'geometry' // zero slots or value size
  | 'size' // the file size does not match the header's geometry
  | 'val-sz' // the header's recorded size (val_sz) is not the file size
  | 'odd-epoch' // a slot stayed locked (odd epoch) across the wait
  | 'duplicate-key' // a second, stale copy of a key (docs/spec/FORMAT.md §9 Q1)
  | 'hash-mismatch' // the stored hash is not FNV-1a 64 of the stored key
  | 'key-unterminated' // 64 key bytes and no NUL
  | 'value-out-of-arena' // val_off/val_len point outside the arena, or past max_val_sz
  | 'value-overlap' // a relocated value overlaps another live value (docs/spec/FORMAT.md §9 Q3)
  | 'value-past-brk' // a relocated value lies past val_brk, where no relocation was handed out (docs/spec/FORMAT.md §9 Q3)
  | 'unset-unfinished' // an empty slot (hash 0, even epoch) that still holds a key or a value length: an unset that stopped half-way
  | 'key-missing' // a live hash over an empty key field (first key byte NUL) that is not the empty key's hash
  | 'relocated' // note: a value lives outside its own region (C's BIGUINT promotion)
  | 'busy' // note: a slot was odd in both samples but its epoch moved (a busy writer, not a dead one)
  | 'key-not-utf8'; // note: a key whose bytes are not UTF-8 (C's keys are bytes: legal, shown escaped)

/**
 * drop: clear a stuck slot and the key it holds (its value may be partial); clear: a stuck slot
 * that holds no key, or finish an unset that stopped half-way; remove-duplicate: clear a stale
 * second copy of a key.
 */
export type Repair = 'drop' | 'clear' | 'remove-duplicate';

export interface Finding {
  kind: FindingKind;
  /** Damage counts for the exit code; a note does not. */
  severity: 'damage' | 'note';
  message: string;
  slot?: number;
  /** The key's text; for a key that is not UTF-8 its escaped form (docs/cli.md, "Keys"), with its bytes in keyHex. */
  key?: string;
  keyHex?: string;
  /** For odd-epoch: the odd epoch seen and for how long it stayed. */
  epoch?: bigint;
  stuckMs?: number;
  /** What --repair would do about it (undefined: nothing it can do). */
  repair?: Repair;
}

export interface Diagnosis {
  path: string;
  size: number;
  /** Undefined when the header or size is too broken to scan slots. */
  slots?: number;
  maxValueSize?: number;
  embeddings?: boolean;
  liveKeys: number;
  waitedMs: number;
  findings: Finding[];
}

/** A slot's key: a string when its bytes are UTF-8, else the bytes (never decoded with replacement). */
const keyText = (slot: RawSlot): Key => keyOfBytes(slot.key);
/** A key in a message: a string JSON-quoted, as before; one that is not UTF-8 as the CLI shows it (docs/cli.md, "Keys"). */
const show = (key: Key): string => (typeof key === 'string' ? JSON.stringify(key) : showKey(key));
/** A finding's key in a message, as `show` gives it: its text holds the escaped form when keyHex is there. */
const findingKey = (f: Finding): string => (f.keyHex === undefined ? JSON.stringify(f.key) : shellWord(f.key ?? ''));
/** A finding's key fields: the text, and the bytes in hex for a key that is not UTF-8. */
const keyFields = (key: Key): { key: string; keyHex?: string } =>
  typeof key === 'string' ? { key } : { key: escapeKey(key), keyHex: Buffer.from(key).toString('hex') };

type Reason = 'odd' | 'hash' | 'unterminated' | 'arena' | 'unfinished' | 'keyless';

/** FNV-1a 64 of the empty key: the one hash a slot with an empty key field may hold (docs/spec/FORMAT.md §5). */
const EMPTY_KEY_HASH = fnv1a64(new Uint8Array(0));

interface Suspect {
  first: RawSlot;
  reasons: Set<Reason>;
}

function sameSlot(a: RawSlot, b: RawSlot): boolean {
  return (
    a.hash === b.hash &&
    a.epoch === b.epoch &&
    a.valueOffset === b.valueOffset &&
    a.valueLength === b.valueLength &&
    Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)) === 0 &&
    a.keyTerminated === b.keyTerminated
  );
}

/** Diagnoses the store file at `path` (a /dev/shm object or a persistent file). */
export async function diagnose(path: string, where: string, waitMs: number): Promise<Diagnosis> {
  const raw = RawStore.open(path);
  try {
    return await diagnoseOpen(raw, where, waitMs);
  } finally {
    raw.close();
  }
}

async function diagnoseOpen(raw: RawStore, where: string, waitMs: number): Promise<Diagnosis> {
  const findings: Finding[] = [];
  const result: Diagnosis = { path: raw.path, size: raw.size, liveKeys: 0, waitedMs: 0, findings };
  const header: RawHeader | undefined = raw.header();
  const geometry = checkGeometry(raw.size, header, where);
  if (!geometry.ok) {
    findings.push({ kind: geometry.kind, severity: 'damage', message: geometry.message });
    return result;
  }
  const { slots, maxValueSize, embeddings } = geometry.geometry;
  Object.assign(result, { slots, maxValueSize, embeddings });
  const o = geometry.offsets;
  if (header!.valSz !== raw.size) {
    findings.push({
      kind: 'val-sz',
      severity: 'damage',
      message: `the header records the store's size as ${header!.valSz} bytes (val_sz), but ${where} is ${raw.size} bytes`,
    });
  }

  // First sample: every slot.
  const suspects = new Map<number, Suspect>();
  const copies = new Map<string, RawSlot[]>();
  const live: RawSlot[] = [];
  const suspect = (slot: RawSlot, reason: Reason): void => {
    const entry = suspects.get(slot.index) ?? { first: slot, reasons: new Set() };
    entry.reasons.add(reason);
    suspects.set(slot.index, entry);
  };
  forEachSlot(raw, o, slots, (slot) => {
    if ((slot.epoch & 1n) === 1n) suspect(slot, 'odd');
    if (slot.valueLength > maxValueSize || slot.valueLength > o.arenaSize || slot.valueOffset > o.arenaSize - slot.valueLength) suspect(slot, 'arena');
    if (slot.hash === 0n) {
      // Empty. Every unset (C's and ours) leaves the first key byte NUL and val_len 0; with the epoch even, no writer is inside.
      if ((slot.epoch & 1n) === 0n && (slot.key.length > 0 || slot.valueLength !== 0)) suspect(slot, 'unfinished');
      return;
    }
    if (!slot.keyTerminated) {
      suspect(slot, 'unterminated');
      return;
    }
    if (slot.key.length === 0 && slot.hash !== EMPTY_KEY_HASH) {
      suspect(slot, 'keyless');
      return;
    }
    if (fnv1a64(slot.key) !== slot.hash) {
      suspect(slot, 'hash');
      return;
    }
    live.push(slot);
    const key = keyText(slot);
    if (typeof key !== 'string') {
      findings.push({
        kind: 'key-not-utf8',
        severity: 'note',
        slot: slot.index,
        ...keyFields(key),
        message:
          `slot ${slot.index} holds a key that is not UTF-8: ${show(key)} (${slot.key.length} bytes, escaped as docs/cli.md "Keys" says). ` +
          'Legal (keys are bytes in C): the library gives it as a Uint8Array, the CLI shows and takes it in this form',
      });
    }
    const id = `${slot.hash}:${Buffer.from(slot.key).toString('hex')}`;
    const list = copies.get(id);
    if (list === undefined) copies.set(id, [slot]);
    else list.push(slot);
  });

  // val_brk only grows: read after the slots, it covers every relocation they show.
  const valBrk = raw.header()?.valBrk ?? header!.valBrk;

  // Nothing looked wrong: no second sample to take, so no wait (waitedMs stays 0).
  let elapsed = 0;
  if (suspects.size > 0 || [...copies.values()].some((c) => c.length > 1)) {
    const started = performance.now();
    await abortableDelay(waitMs, undefined); // chained timers: never shorter than asked, past 2^31 − 1 ms too
    elapsed = Math.round(performance.now() - started);
  }
  result.waitedMs = elapsed;

  // Second sample: only what looked wrong.
  for (const [index, { first, reasons }] of [...suspects].sort((a, b) => a[0] - b[0])) {
    const second = raw.slot(o, index);
    if (second === undefined) continue;
    const unchanged = sameSlot(first, second);
    const key = first.hash !== 0n && first.keyTerminated ? keyText(first) : undefined;
    const named = key === undefined ? `slot ${index}` : `slot ${index} (${show(key)})`;
    if (reasons.has('odd')) {
      if (second.epoch === first.epoch) {
        findings.push({
          kind: 'odd-epoch',
          severity: 'damage',
          slot: index,
          ...(key === undefined ? {} : keyFields(key)),
          epoch: first.epoch,
          stuckMs: elapsed,
          message:
            `${named} has stayed locked (odd epoch ${first.epoch}) for at least ${elapsed} ms: ` +
            'a writer died inside the seqlock, or is stalled; readers and writers of this slot get EAGAIN' +
            (first.hash === 0n ? '' : ', and its value may be partly written'),
          repair: first.hash === 0n ? 'clear' : 'drop',
        });
      } else if ((second.epoch & 1n) === 1n) {
        findings.push({
          kind: 'busy',
          severity: 'note',
          slot: index,
          ...(key === undefined ? {} : keyFields(key)),
          message: `${named} was being written in both samples (epoch ${first.epoch}, then ${second.epoch}): busy, not stuck`,
        });
      }
    }
    if (!unchanged) continue; // the slot changed: whatever else was wrong was a write in flight
    if (reasons.has('arena')) {
      findings.push({
        kind: 'value-out-of-arena',
        severity: 'damage',
        slot: index,
        ...(key === undefined ? {} : keyFields(key)),
        message:
          `${named} points its value at arena offset ${first.valueOffset} + ${first.valueLength} bytes; ` +
          `the arena is ${o.arenaSize} bytes and a value at most ${maxValueSize}: reading it would leave the store`,
      });
    }
    if (reasons.has('unterminated')) {
      findings.push({
        kind: 'key-unterminated',
        severity: 'damage',
        slot: index,
        message: `slot ${index} holds a key with no NUL in its 64 bytes (${show(keyText(first))}…): no lookup can match it`,
      });
    }
    if (reasons.has('unfinished')) {
      const held = [first.key.length > 0 ? `the key ${show(keyText(first))}` : '', first.valueLength !== 0 ? `a value length of ${first.valueLength} bytes` : '']
        .filter((x) => x !== '')
        .join(' and ');
      findings.push({
        kind: 'unset-unfinished',
        severity: 'damage',
        slot: index,
        epoch: first.epoch,
        message:
          `slot ${index} is empty (hash 0, epoch ${first.epoch}) but still holds ${held}: an unset that stopped half-way ` +
          '(C\'s unset takes no lock and stores hash 0 first, docs/spec/FORMAT.md §9 Q7); readers skip the slot (the key is gone for them), but it is not clean',
        repair: 'clear',
      });
    }
    if (reasons.has('keyless')) {
      findings.push({
        kind: 'key-missing',
        severity: 'damage',
        slot: index,
        message:
          `slot ${index} stores hash 0x${first.hash.toString(16)} but no key (its first key byte is NUL, and that is not the empty key's hash ` +
          `0x${EMPTY_KEY_HASH.toString(16)}): no lookup can find it`,
      });
    }
    if (reasons.has('hash')) {
      const stored = keyText(first);
      const truncated = first.key.length === KEY_MAX_BYTES ? '; a 63-byte key: likely a longer key that a C writer truncated (docs/spec/FORMAT.md §9 Q2)' : '';
      findings.push({
        kind: 'hash-mismatch',
        severity: 'damage',
        slot: index,
        ...keyFields(stored),
        message: `slot ${index} stores hash 0x${first.hash.toString(16)}, but FNV-1a 64 of its key ${show(stored)} is 0x${fnv1a64(first.key).toString(16)}: no lookup can find it${truncated}`,
      });
    }
  }

  // Duplicates: every copy after the first on the key's probe path is stale.
  for (const group of copies.values()) {
    if (group.length < 2) continue;
    const now = group.map((c) => raw.slot(o, c.index)).filter((s): s is RawSlot => s !== undefined && s.hash === group[0]!.hash && Buffer.compare(Buffer.from(s.key), Buffer.from(group[0]!.key)) === 0);
    if (now.length < 2) continue;
    now.sort((a, b) => probeDistance(a.hash, a.index, slots) - probeDistance(b.hash, b.index, slots));
    const [seen, ...stale] = now as [RawSlot, ...RawSlot[]];
    const key = keyText(seen);
    for (const copy of stale) {
      findings.push({
        kind: 'duplicate-key',
        severity: 'damage',
        slot: copy.index,
        ...keyFields(key),
        message:
          `${show(key)} is stored twice: readers see slot ${seen.index} (first on its probe path); slot ${copy.index} is a stale copy ` +
          `(${copy.valueLength} bytes, epoch ${copy.epoch}) that reappears when the key is unset (docs/spec/FORMAT.md §9 Q1)`,
        repair: 'remove-duplicate',
      });
    }
  }

  // Values living outside their own region (C's BIGUINT relocation): overlapping a live value is damage.
  checkRelocations(live, o, maxValueSize, valBrk, findings);

  result.liveKeys = live.length;
  findings.sort((a, b) => (a.slot ?? -1) - (b.slot ?? -1));
  return result;
}

function checkRelocations(live: RawSlot[], o: Offsets, maxValueSize: number, valBrk: number, findings: Finding[]): void {
  const relocated = live.filter((s) => s.valueLength > 0 && s.valueOffset !== s.index * maxValueSize && s.valueOffset <= o.arenaSize - s.valueLength);
  for (const r of relocated) {
    const key = keyText(r);
    const end = r.valueOffset + r.valueLength;
    // C relocates by fetch_add on val_brk, which only grows: a moved value ends at or below it.
    if (end > valBrk) {
      findings.push({
        kind: 'value-past-brk',
        severity: 'damage',
        slot: r.index,
        ...keyFields(key),
        message:
          `slot ${r.index} (${show(key)}) keeps its ${r.valueLength}-byte value at arena offset ${r.valueOffset}, outside its own region and past ` +
          `val_brk (${valBrk}), below which C hands out every relocation (docs/spec/FORMAT.md §9 Q3): those bytes were never allocated to it, ` +
          'and a later relocation may be given them',
      });
    }
    const overlapping = live.filter((s) => s !== r && s.valueLength > 0 && s.valueOffset < end && r.valueOffset < s.valueOffset + s.valueLength);
    if (overlapping.length > 0) {
      const others = overlapping.map((s) => `slot ${s.index} (${show(keyText(s))})`).join(', ');
      findings.push({
        kind: 'value-overlap',
        severity: 'damage',
        slot: r.index,
        ...keyFields(key),
        message:
          `slot ${r.index} (${show(key)}) keeps its ${r.valueLength}-byte value at arena offset ${r.valueOffset}, overlapping the value of ${others}: ` +
          "a write to one changes the other (what C's relocation of short BIGUINT values can do, docs/spec/FORMAT.md §9 Q3)",
      });
    } else if (end <= valBrk) {
      const owner = Math.floor(r.valueOffset / maxValueSize);
      findings.push({
        kind: 'relocated',
        severity: 'note',
        slot: r.index,
        ...keyFields(key),
        message: `slot ${r.index} (${show(key)}) keeps its value at arena offset ${r.valueOffset}, in slot ${owner}'s region (C's BIGUINT relocation, docs/spec/FORMAT.md §9 Q3)`,
      });
    }
  }
}

export interface RepairOutcome {
  finding: Finding;
  done: boolean;
  action: string;
  /** The key a cleared stuck slot held: gone from the store, its value with it. */
  dropped?: string;
}

/**
 * What --repair does about the damage found, through `store` (opened by the caller on the same
 * file). A stuck slot is cleared, never released with its bytes as they are: a writer that
 * died inside the seqlock may have stored any part of the value, and a slot keeps no checksum
 * or earlier copy that could prove it whole, so the key is dropped and reported.
 */
export function repair(store: Store, damage: Finding[]): RepairOutcome[] {
  const outcomes: RepairOutcome[] = [];
  for (const f of damage) {
    if (f.kind === 'unset-unfinished' && f.slot !== undefined && f.epoch !== undefined) {
      const done = finishUnset(store, f.slot, f.epoch);
      const action = done ? `cleared slot ${f.slot}, as the unset would have` : `left slot ${f.slot}: it changed since it was sampled`;
      outcomes.push({ finding: f, done, action });
      continue;
    }
    if (f.kind !== 'odd-epoch' || f.slot === undefined || f.epoch === undefined) continue;
    const done = clearStuckSlot(store, f.slot, f.epoch);
    const what = f.key === undefined ? `slot ${f.slot}` : `${findingKey(f)} (slot ${f.slot})`;
    const action = done
      ? `cleared ${what}${f.repair === 'drop' ? ': its writer died mid-write, the value cannot be trusted' : ''}`
      : `left ${what}: its epoch moved since it was sampled (a live writer)`;
    outcomes.push({ finding: f, done, action, ...(done && f.repair === 'drop' ? { dropped: f.key ?? `slot ${f.slot}` } : {}) });
  }
  for (const f of damage) {
    if (f.kind !== 'duplicate-key') continue;
    const done = removeStaleCopy(store, f.keyHex === undefined ? f.key! : Uint8Array.from(Buffer.from(f.keyHex, 'hex')), f.slot!);
    outcomes.push({ finding: f, done, action: `removed the stale copy of ${findingKey(f)} in slot ${f.slot}` });
  }
  return outcomes;
}
