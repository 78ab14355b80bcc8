/**
 * The model test's generators: values, appends, key sources (literal keys, or rules the model
 * resolves when a step runs) and the weighted mix of every step.
 */
import fc from 'fast-check';
import { MAX_GROUPS, U64_MAX, utf8, type Geo } from '../lib/layout.js';
import type { Cmd } from './checks.js';
import type { Payload } from './display.js';
import { EmbeddingGetCmd, EmbeddingSetCmd } from './embedding-commands.js';
import { EDGE_KEYS, type KeySpace } from './keys.js';
import { EpochCmd, GetCmd, InspectCmd, KeysCmd, type GetVariant } from './kv-reads.js';
import { AppendCmd, MopCmd, PurgeCmd, SetCmd, UnsetCmd, type AppendSizing } from './kv-writes.js';
import { EnumerateCmd, LabelCmd, PulseCmd, SignalCountCmd, WatchCmd, WatchLabelCmd } from './signal-commands.js';
import { BumpCmd, GetBigUintCmd, IntegerOpCmd, NamedTypeCmd, RetrainCmd, SlotTimeCmd, SystemCmd, TYPE_MASKS } from './slot-commands.js';
import type { Side, StepRule } from './slot-model.js';
import type { KeySource } from './step.js';
import { TandemSetCmd, TandemUnsetCmd } from './tandem-commands.js';

function bytes(minLength: number, maxLength: number): fc.Arbitrary<Payload> {
  return fc.uint8Array({ minLength, maxLength }).map((b) => ({ bytes: b }));
}

function text(minLength: number, maxLength: number): fc.Arbitrary<Payload> {
  return fc.string({ unit: 'grapheme', minLength, maxLength }).map((s) => ({ bytes: utf8(s), text: s }));
}

/** Values: 1 byte, exactly maxValueSize, any binary length between, UTF-8 text, and refused lengths. */
export function valueArbitrary(maxv: number): fc.Arbitrary<Payload> {
  return fc.oneof(
    { weight: 2, arbitrary: bytes(1, 1) },
    { weight: 2, arbitrary: bytes(maxv, maxv) },
    { weight: 5, arbitrary: bytes(1, maxv) },
    { weight: 2, arbitrary: text(1, Math.max(1, Math.floor(maxv / 4))) }, // graphemes of up to 4+ bytes
    { weight: 1, arbitrary: text(maxv, maxv + 8) }, // often longer than maxv bytes: EMSGSIZE
    // Numbers as text, for setNamedType BIGUINT (strtoull: hex, octal, longest prefix, saturation).
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('0', '7', '41', '0x1f', '0X7', '010', '08', '0x', '12ab', '9'.repeat(7), '1'.repeat(12), '0xffffffffffffffff', '99999999999999999999')
        .filter((t) => t.length <= maxv)
        .map((t): Payload => ({ bytes: utf8(t), text: t })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom<Payload>(
        { bytes: new Uint8Array(0) },
        { bytes: new Uint8Array(0), text: '' },
        { bytes: new Uint8Array(maxv + 1).fill(7) },
      ),
    },
  );
}

export function appendArbitrary(maxv: number): fc.Arbitrary<[Payload, AppendSizing]> {
  const data = fc.oneof(
    { weight: 5, arbitrary: bytes(1, 3) },
    { weight: 2, arbitrary: bytes(1, maxv) },
    { weight: 1, arbitrary: text(1, 3) },
    { weight: 1, arbitrary: fc.constantFrom<Payload>({ bytes: new Uint8Array(0) }, { bytes: new Uint8Array(0), text: '' }) },
  );
  const sizing = fc.oneof(
    { weight: 6, arbitrary: fc.constant<AppendSizing>('as-is') },
    { weight: 1, arbitrary: fc.constantFrom<AppendSizing>('fill', 'overflow') },
  );
  return fc.tuple(data, sizing);
}

/**
 * Literal keys, or rules the model resolves when the step runs, weighted per kind of step:
 * e.g. sets aim at keys past a hole (where C duplicates), unsets at keys in front of others.
 */
export function keySourceArbitrary(keys: KeySpace, rules: Partial<Record<StepRule, number>>, literal = 6): fc.Arbitrary<KeySource> {
  const n = fc.nat(15);
  const fallback = fc.constantFrom(...keys.pool);
  const pool = [...keys.pool, ...EDGE_KEYS];
  // Cross-shrink: a failing step aimed by a rule shrinks towards a literal key where it can.
  return fc.oneof(
    { withCrossShrink: true },
    { weight: literal, arbitrary: keys.arbitrary.map((key): KeySource => ({ key })) },
    ...Object.entries(rules).map(([rule, weight]) => ({
      weight,
      arbitrary: fc.tuple(n, fallback).map(([i, f]): KeySource => ({ rule: rule as StepRule, n: i, fallback: f, pool })),
    })),
  );
}

export function commandArbitrary(geo: Geo, keys: KeySpace): fc.Arbitrary<Cmd> {
  const side = fc.constantFrom<Side>('ts', 'c');
  const setKey = keySourceArbitrary(keys, { 'past-hole': 3, absent: 5, duplicated: 3, displaced: 1 });
  const unsetKey = keySourceArbitrary(keys, { blocker: 3, duplicated: 2, displaced: 1 });
  const key = keySourceArbitrary(keys, { duplicated: 1, displaced: 1 });
  const maxv = geo.maxValueSize;
  const variant = fc.constantFrom<GetVariant>('get', 'getString', 'getInto', 'rawView');
  const targetSize = fc.oneof(fc.constant(maxv), fc.integer({ min: 0, max: maxv + 2 }));
  return fc.oneof(
    { weight: 6, arbitrary: fc.tuple(side, setKey, valueArbitrary(maxv)).map(([s, k, v]): Cmd => new SetCmd(s, k, v)) },
    { weight: 3, arbitrary: fc.tuple(side, key, variant, targetSize).map(([s, k, v, n]): Cmd => new GetCmd(s, k, v, n)) },
    { weight: 4, arbitrary: fc.tuple(side, unsetKey).map(([s, k]): Cmd => new UnsetCmd(s, k)) },
    { weight: 3, arbitrary: fc.tuple(side, key, appendArbitrary(maxv)).map(([s, k, [d, z]]): Cmd => new AppendCmd(s, k, d, z)) },
    { weight: 2, arbitrary: fc.tuple(side, key).map(([s, k]): Cmd => new EpochCmd(s, k)) },
    { weight: 1, arbitrary: fc.tuple(side, key).map(([s, k]): Cmd => new InspectCmd(s, k)) },
    { weight: 1, arbitrary: side.map((s): Cmd => new KeysCmd(s)) },
    { weight: 1, arbitrary: fc.tuple(side, fc.constantFrom<0 | 1 | 2 | 3>(0, 1, 2, 0, 1, 2, 3)).map(([s, n]): Cmd => new MopCmd(s, n)) },
    { weight: 1, arbitrary: side.map((s): Cmd => new PurgeCmd(s)) },
    ...featureCommands(geo, keys, side),
  );
}

const LABEL_BITS = [0n, 1n, 3n, 40n, 63n];

/** Label masks over a few bits shared by setLabel, enumerateMatches and watchLabelRegister, so they meet. */
function labelMask(min: number): fc.Arbitrary<bigint> {
  return fc.subarray(LABEL_BITS, { minLength: min }).map((bits) => bits.reduce((m, b) => m | (1n << b), 0n));
}

function featureCommands(geo: Geo, keys: KeySpace, side: fc.Arbitrary<Side>): Array<fc.WeightedArbitrary<Cmd>> {
  const key = keySourceArbitrary(keys, { present: 6, duplicated: 1 }, 2);
  const numberKey = keySourceArbitrary(keys, { biguint: 6, present: 2 }, 1);
  const group = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(0, 1, 5, 63) }, { weight: 1, arbitrary: fc.constant(MAX_GROUPS) });
  const u64 = fc.oneof(fc.bigInt({ min: 0n, max: 1000n }), fc.bigInt({ min: 0n, max: U64_MAX }));
  const mask = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...TYPE_MASKS) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) });
  const tandemValue = fc.oneof(
    { weight: 8, arbitrary: bytes(1, geo.maxValueSize) },
    { weight: 1, arbitrary: fc.constantFrom<Payload>({ bytes: new Uint8Array(0) }, { bytes: new Uint8Array(geo.maxValueSize + 1) }) },
  );
  return [
    { weight: 2, arbitrary: fc.tuple(side, key, mask).map(([s, k, n]): Cmd => new NamedTypeCmd(s, k, n)) },
    {
      weight: 3,
      arbitrary: fc.tuple(side, numberKey, fc.integer({ min: 0, max: 5 }), u64).map(([s, k, o, n]): Cmd => new IntegerOpCmd(s, k, o, n)),
    },
    { weight: 1, arbitrary: fc.tuple(side, numberKey).map(([s, k]): Cmd => new GetBigUintCmd(s, k)) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(side, key, fc.constantFrom<'ctime' | 'atime' | 'mtime'>('ctime', 'atime', 'ctime', 'atime', 'mtime'), u64, fc.oneof(fc.constant(0n), u64))
        .map(([s, k, w, t, o]): Cmd => new SlotTimeCmd(s, k, w, t, o)),
    },
    { weight: 2, arbitrary: fc.tuple(side, key, labelMask(1), fc.boolean()).map(([s, k, n, on]): Cmd => new LabelCmd(s, k, n, on)) },
    { weight: 1, arbitrary: fc.tuple(side, labelMask(0)).map(([s, n]): Cmd => new EnumerateCmd(s, n)) },
    { weight: 1, arbitrary: fc.tuple(side, key).map(([s, k]): Cmd => new SystemCmd(s, k)) },
    { weight: 1, arbitrary: fc.tuple(side, key).map(([s, k]): Cmd => new RetrainCmd(s, k)) },
    { weight: 2, arbitrary: fc.tuple(side, key).map(([s, k]): Cmd => new BumpCmd(s, k)) },
    { weight: 1, arbitrary: fc.tuple(side, key).map(([s, k]): Cmd => new PulseCmd(s, k)) },
    { weight: 2, arbitrary: fc.tuple(side, key, group, fc.boolean()).map(([s, k, g, on]): Cmd => new WatchCmd(s, k, g, on)) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(side, labelMask(1), fc.oneof({ weight: 6, arbitrary: group }, { weight: 1, arbitrary: fc.constant<'none'>('none') }))
        .map(([s, n, g]): Cmd => new WatchLabelCmd(s, n, g)),
    },
    { weight: 1, arbitrary: fc.tuple(side, group).map(([s, g]): Cmd => new SignalCountCmd(s, g)) },
    ...embeddingCommands(geo, keys, side, key),
    {
      weight: 1,
      arbitrary: fc
        .tuple(side, keySourceArbitrary(keys, { present: 2, absent: 2 }), fc.array(tandemValue, { minLength: 1, maxLength: 3 }))
        .map(([s, k, v]): Cmd => new TandemSetCmd(s, k, v)),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(side, keySourceArbitrary(keys, { present: 3 }), fc.integer({ min: 1, max: 3 })).map(([s, k, n]): Cmd => new TandemUnsetCmd(s, k, n)),
    },
  ];
}

/** Seeds the peer sends as JSON and both sides turn into float32: small integers, quarters, large and negative values. */
const seedArbitrary = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.integer({ min: -4000, max: 4000 }).map((n) => n / 4),
  fc.constantFrom(0, -0.1, 1e-3, 16777216, 1e30, -3e38),
);

/** Embeddings on their geometry; elsewhere a cheap ENOTSUP step. */
function embeddingCommands(geo: Geo, keys: KeySpace, side: fc.Arbitrary<Side>, key: fc.Arbitrary<KeySource>): Array<fc.WeightedArbitrary<Cmd>> {
  const setEmbedding = (s: Side, k: KeySource, seed: number): Cmd => new EmbeddingSetCmd(s, k, seed);
  if (!geo.embeddings) {
    return [
      { weight: 1, arbitrary: fc.tuple(side, key, seedArbitrary).map(([s, k, v]) => setEmbedding(s, k, v)) },
    ];
  }
  const anyKey = keySourceArbitrary(keys, { present: 3, absent: 1 }, 2);
  return [
    { weight: 3, arbitrary: fc.tuple(side, fc.oneof({ weight: 4, arbitrary: key }, { weight: 1, arbitrary: anyKey }), seedArbitrary).map(([s, k, v]) => setEmbedding(s, k, v)) },
    { weight: 2, arbitrary: fc.tuple(side, fc.oneof({ weight: 3, arbitrary: key }, { weight: 1, arbitrary: anyKey })).map(([s, k]): Cmd => new EmbeddingGetCmd(s, k)) },
  ];
}
