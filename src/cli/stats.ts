/** `stats`: how full a store is, how long its probe chains are, what its values look like. */
import { SPLINTER_MAX_GROUPS } from '../layout/constants.js';
import type { Store } from '../facade/store.js';
import { probeDistance } from './internal.js';
import { checkGeometry, forEachSlot, RawStore } from './scan.js';
import { counted, grouped, table, typeName } from './values.js';

export interface Stats {
  slots: number;
  maxValueSize: number;
  embeddings: boolean;
  liveKeys: number;
  /** live keys / slots. */
  loadFactor: number;
  arenaBytes: number;
  valueBytes: number;
  /** Slots a lookup visits to find a key (1 = found at home). */
  probeLongest: number;
  probeMean: number;
  /** The longest run of consecutive occupied slots (wrapping). */
  longestRun: number;
  lockedNow: number;
  types: Record<string, number>;
  /** Value sizes in power-of-two buckets: [low, high, count]. */
  sizes: Array<{ from: number; to: number; count: number }>;
  signalGroups: Record<string, bigint>;
  labelGroups: Record<string, number>;
  epoch: bigint;
}

export function collectStats(store: Store, path: string): Stats {
  const header = store.headerSnapshot();
  const raw = RawStore.open(path);
  let live = 0;
  let valueBytes = 0;
  let probeSum = 0;
  let probeLongest = 0;
  let locked = 0;
  const occupied = new Uint8Array(store.slots);
  const types: Record<string, number> = {};
  const buckets = new Map<number, number>();
  try {
    const geometry = checkGeometry(raw.size, raw.header(), path);
    if (!geometry.ok) throw new Error(geometry.message);
    forEachSlot(raw, geometry.offsets, store.slots, (slot) => {
      if ((slot.epoch & 1n) === 1n) locked++;
      if (slot.hash === 0n) return;
      occupied[slot.index] = 1;
      live++;
      valueBytes += slot.valueLength;
      const probe = probeDistance(slot.hash, slot.index, store.slots) + 1;
      probeSum += probe;
      if (probe > probeLongest) probeLongest = probe;
      const name = typeName(slot.typeFlag);
      types[name] = (types[name] ?? 0) + 1;
      const bucket = slot.valueLength === 0 ? -1 : 31 - Math.clz32(slot.valueLength);
      buckets.set(bucket, (buckets.get(bucket) ?? 0) + 1);
    });
  } finally {
    raw.close();
  }
  let longestRun = 0;
  let run = 0;
  // Walk twice around so a run that wraps past the last slot is counted whole.
  for (let i = 0; i < store.slots * 2; i++) {
    run = occupied[i % store.slots] ? run + 1 : 0;
    if (run > longestRun) longestRun = Math.min(run, store.slots);
  }
  const sizes = [...buckets.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([bucket, count]) => (bucket < 0 ? { from: 0, to: 0, count } : { from: 2 ** bucket, to: Math.min(2 ** (bucket + 1) - 1, store.maxValueSize), count }));
  const signalGroups: Record<string, bigint> = {};
  for (let g = 0; g < SPLINTER_MAX_GROUPS; g++) {
    const count = store.getSignalCount(g);
    if (count !== 0n) signalGroups[g] = count;
  }
  return {
    slots: store.slots,
    maxValueSize: store.maxValueSize,
    embeddings: store.embeddings,
    liveKeys: live,
    loadFactor: live / store.slots,
    arenaBytes: store.slots * store.maxValueSize,
    valueBytes,
    probeLongest,
    probeMean: live === 0 ? 0 : probeSum / live,
    longestRun,
    lockedNow: locked,
    types,
    sizes,
    signalGroups,
    labelGroups: Object.fromEntries(header.labelGroups.flatMap((group, bit) => (group < SPLINTER_MAX_GROUPS ? [[bit, group]] : []))),
    epoch: header.epoch,
  };
}

const percent = (x: number): string => `${(x * 100).toFixed(x < 0.001 && x > 0 ? 3 : 1)}%`;

export function renderStats(s: Stats): string {
  const rows: Array<[string, string]> = [
    ['slots', `${grouped(s.slots)}${s.embeddings ? ' (with embeddings)' : ''}, values up to ${counted(s.maxValueSize, 'byte')}`],
    ['keys', `${grouped(s.liveKeys)} (load factor ${percent(s.loadFactor)})`],
    ['value bytes', `${grouped(s.valueBytes)} of ${grouped(s.arenaBytes)} (${percent(s.arenaBytes === 0 ? 0 : s.valueBytes / s.arenaBytes)})`],
    ['probe length', s.liveKeys === 0 ? '-' : `longest ${s.probeLongest}, mean ${s.probeMean.toFixed(2)} (slots a lookup visits)`],
    ['longest run', `${grouped(s.longestRun)} occupied slots in a row`],
    ['locked now', `${s.lockedNow} slot${s.lockedNow === 1 ? '' : 's'} with an odd epoch`],
    ['types', Object.entries(s.types).map(([t, n]) => `${t} ${n}`).join(', ') || '-'],
    ['signal groups', Object.entries(s.signalGroups).map(([g, n]) => `${g}: ${n}`).join(', ') || '-'],
    ['label groups', Object.entries(s.labelGroups).map(([b, g]) => `bit ${b} → ${g}`).join(', ') || '-'],
    ['global epoch', s.epoch.toString()],
  ];
  const out = [table(['', ''], rows).split('\n').slice(1).join('\n')];
  if (s.sizes.length > 0) {
    out.push('value sizes');
    const most = Math.max(...s.sizes.map((b) => b.count));
    const bars = s.sizes.map((b) => [
      `  ${b.from === b.to ? String(b.from) : `${b.from}-${b.to}`}`,
      grouped(b.count),
      '█'.repeat(Math.max(1, Math.round((b.count / most) * 30))),
    ]);
    out.push(table(['', '', ''], bars, new Set([1])).split('\n').slice(1).join('\n'));
  }
  return out.join('\n');
}
