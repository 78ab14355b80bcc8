/**
 * What the model test's runs reached: every situation and operation the generators are meant
 * to reach is counted when it happens, and props/model.test.ts checks that each one was.
 */
import type { Side } from './slot-model.js';

/** Counts of the situations the runs reached, so the test can prove its generators reach them. */
export const reached = new Map<string, number>();

export function note(label: string): void {
  reached.set(label, (reached.get(label) ?? 0) + 1);
}

/** The new operations: each must run on both sides at least once per default run. */
export const FEATURE_OPS = [
  'setNamedType',
  'integerOp',
  'getBigUint',
  'setSlotTime',
  'setLabel',
  'unsetLabel',
  'enumerateMatches',
  'setAsSystem',
  'retrainSlot',
  'bumpSlot',
  'watchRegister',
  'watchUnregister',
  'watchLabelRegister',
  'pulseKeygroup',
  'getSignalCount',
  'setTandem',
  'unsetTandem',
] as const;

/** Embedding operations: each must run on both sides on the embeddings geometry. */
export const EMBEDDING_OPS = ['setEmbedding', 'getEmbedding'] as const;

/** The situations every default run of the model test must reach at least once. */
export const MUST_REACH = [
  'set: multi-byte UTF-8 key',
  'set: the empty key',
  'set: 63-byte key',
  'EINVAL: key refused (64+ bytes, NUL, lone surrogate)',
  'set: key placed past its home slot (collision)',
  'set: C duplicates a key past a hole (Q1)',
  'set: ours updates the first copy of a C duplicate',
  'set: ours moves a key past a hole into it (other copies removed)',
  'unset: a stale C duplicate becomes visible',
  'ENOSPC: ours',
  'ENOSPC: C',
  'set: 1-byte value',
  'set: maxValueSize value',
  'set: binary value (NUL or high bytes)',
  'set: refused length (EMSGSIZE / EINVAL)',
  'append: exactly to maxValueSize',
  'append: EMSGSIZE ours',
  'append: EMSGSIZE C',
  'unset: with mop off (stale key bytes stay)',
  'purge',
  'get: key present',
  ...FEATURE_OPS.flatMap((op) => [`ran ${op}: ts`, `ran ${op}: c`]),
  'setNamedType: ours promotes a short value in place',
  'EPROTOTYPE: integerOp ts',
  'EPROTOTYPE: integerOp c',
  'EPROTOTYPE: getBigUint ours',
  'ENOENT: bumpSlot ours',
  'EINVAL: watchRegister ours',
  'EINVAL: watchLabelRegister ours',
  'getSignalCount: a non-zero count',
  'target: biguint',
  'enumerateMatches: a label match',
  'bad slot time field: ts',
  'bad slot time field: c',
  // Embeddings (only the embeddings geometry runs them; the others refuse them with ENOTSUP).
  ...EMBEDDING_OPS.flatMap((op) => [`ran ${op}: ts`, `ran ${op}: c`]),
  'ENOTSUP: setEmbedding ours (128-byte slots)',
  'ENOENT: setEmbedding ts',
  'ENOENT: setEmbedding c',
  'getEmbedding: a non-zero vector',
  'unset: zeroes a set embedding',
  'retrainSlot: zeroes a set embedding',
]

/** Records that an operation ran on a side (the reach check wants every one on both). */
export function ran(op: string, side: Side): void {
  note(`ran ${op}: ${side}`);
}
