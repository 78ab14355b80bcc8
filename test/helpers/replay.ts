/** Applies fixture ops to one of our stores, checking each result against the C return code. */
import { isSplinterError, type Intent, type IntOp, type Store } from '../../src/index.js';
import { SLOT } from '../../src/layout/constants.js';
import { fromHex, type FixtureOp } from './fixtures.js';

export type Replayer = (store: Store, op: FixtureOp) => void;

/** rc 0 must succeed; rc -1 / -2 must throw a SplinterError (a bad argument, -2, must be EINVAL). */
function expectOutcome(op: FixtureOp, run: () => unknown, check?: (result: unknown) => string | undefined): void {
  let result: unknown;
  try {
    result = run();
  } catch (error) {
    if (!isSplinterError(error)) throw error;
    if (op.rc === -1 || op.rc === -2) {
      if (op.rc === -2 && error.code !== 'EINVAL') throw new Error(`${JSON.stringify(op)}: C said bad argument, we said ${error.code}`);
      return;
    }
    throw new Error(`${JSON.stringify(op)}: C returned ${op.rc}, we threw ${error.message}`);
  }
  const problem = check?.(result);
  if (problem !== undefined) throw new Error(`${JSON.stringify(op)}: ${problem}`);
}

const replayers: Record<string, Replayer> = {
  set(store, op) {
    expectOutcome(op, () => store.set(op.key!, fromHex(op.value_hex!)), () =>
      op.rc === 0 ? undefined : `C failed (rc ${op.rc}), we succeeded`,
    );
  },
  unset(store, op) {
    const removed = store.unset(op.key!);
    const expected = op.rc! >= 0 ? op.rc : undefined;
    if (removed !== expected) throw new Error(`${JSON.stringify(op)}: removed ${removed}, C said ${op.rc}`);
  },
  append(store, op) {
    expectOutcome(op, () => store.append(op.key!, fromHex(op.value_hex!)), (length) =>
      op.rc !== 0 ? `C failed (rc ${op.rc}), we returned ${length}` : length !== op.new_len ? `new length ${length}, C said ${op.new_len}` : undefined,
    );
  },
  set_mop(store, op) {
    store.setMop(op.mode as 0 | 1 | 2);
  },
  purge(store) {
    store.purge();
  },
  set_label(store, op) {
    expectOutcome(op, () => store.setLabel(op.key!, BigInt(op.mask!)));
  },
  unset_label(store, op) {
    expectOutcome(op, () => store.unsetLabel(op.key!, BigInt(op.mask!)));
  },
  watch_register(store, op) {
    expectOutcome(op, () => store.watchRegister(op.key!, op.group!));
  },
  watch_unregister(store, op) {
    expectOutcome(op, () => store.watchUnregister(op.key!, op.group!));
  },
  watch_label_register(store, op) {
    expectOutcome(op, () => store.watchLabelRegister(BigInt(op.mask!), op.group!));
  },
  bump_slot(store, op) {
    expectOutcome(op, () => store.bumpSlot(op.key!));
  },
  pulse_keygroup(store, op) {
    expectOutcome(op, () => store.pulseKeygroup(op.key!));
  },
  set_named_type(store, op) {
    expectOutcome(op, () => store.setNamedType(op.key!, Number(op.mask)));
  },
  integer_op(store, op) {
    expectOutcome(op, () => store.integerOp(op.key!, op.int_op as IntOp, BigInt(op.operand ?? '0')));
  },
  set_slot_time(store, op) {
    expectOutcome(op, () =>
      store.setSlotTime(op.key!, op.mode === 0 ? 'ctime' : 'atime', BigInt(op.time!), BigInt(op.offset ?? 0)),
    );
  },
  set_as_system(store, op) {
    expectOutcome(op, () => store.setAsSystem(op.key!));
  },
  retrain_slot(store, op) {
    expectOutcome(op, () => store.retrainSlot(op.key!));
  },
  set_embedding(store, op) {
    expectOutcome(op, () => store.setEmbedding(op.key!, embeddingRule(op.seed!)));
  },
  shard_claim_ex(store, op) {
    expectOutcome(op, () =>
      store.shards.claim({
        id: op.shard_id!,
        pid: op.pid!,
        intent: op.intent as Intent,
        priority: op.priority!,
        duration: BigInt(op.duration!),
        claimedAt: BigInt(op.claimed_at!),
      }),
    );
  },
  shard_claim(store, op) {
    expectOutcome(op, () =>
      store.shards.claim({ id: op.shard_id!, intent: op.intent as Intent, priority: op.priority!, duration: BigInt(op.duration!) }),
    );
  },
  shard_rebid(store, op) {
    expectOutcome(op, () =>
      store.shards.rebid(op.shard_id!, { intent: op.intent as Intent, priority: op.priority!, duration: BigInt(op.duration!) }),
    );
  },
  shard_release(store, op) {
    expectOutcome(op, () => store.shards.release(op.shard_id!));
  },
};

/** The fixtures' embedding rule: v[i] = seed + i × 0.25, as float32. */
export function embeddingRule(seed: number): Float32Array {
  return Float32Array.from({ length: 768 }, (_, i) => seed + i * 0.25);
}

/** Registers the replay of another op kind (slot features, shards). */
export function addReplayer(op: string, replayer: Replayer): void {
  replayers[op] = replayer;
}

export function canReplay(ops: FixtureOp[]): boolean {
  return ops.every((op) => op.op in replayers);
}

export function replayOp(store: Store, op: FixtureOp): void {
  const replayer = replayers[op.op];
  if (replayer === undefined) throw new Error(`no replayer for op ${op.op}`);
  replayer(store, op);
}

/**
 * The one place a replay's bytes may differ from C's (docs/format.md, "Fixture replay"): our
 * unset leaves a slot at e + 2 where C leaves 2, and our retrain at (e | 1) + 1 where C leaves 4;
 * every other write moves both by the same amount. So for a slot whose history holds an unset
 * or a retrain, our epoch = C's + Δ, Δ being (our epoch before the slot's last unset) or (our
 * epoch before its last retrain) − 2. `run` checks each reset against its formula as it
 * replays; `toC` then turns our image into C's for exactly those slots' epoch fields.
 */
export class EpochRule {
  /** Δ by slot index, for the slots an unset or retrain touched. */
  readonly offsets = new Map<number, bigint>();
  readonly problems: string[] = [];

  run(store: Store, op: FixtureOp): void {
    const reset = op.op === 'unset' || op.op === 'retrain_slot';
    const slot = reset ? store.slotSnapshot(op.key!) : undefined;
    replayOp(store, op);
    if (slot === undefined) return;
    const m = store.memory;
    const after = Atomics.load(m.u64, (m.slotByte(slot.index) + SLOT.epoch) >>> 3);
    const expected = op.op === 'unset' ? slot.epoch + 2n : (slot.epoch | 1n) + 1n;
    if (after !== expected) this.problems.push(`${op.op} ${JSON.stringify(op.key)}: slot ${slot.index} epoch ${slot.epoch} → ${after}, the rule says ${expected}`);
    this.offsets.set(slot.index, op.op === 'unset' ? slot.epoch : slot.epoch - 2n);
  }

  /** A copy of our image with each reset slot's epoch field brought back to C's value. */
  toC(image: Uint8Array, store: Store): Uint8Array {
    const out = image.slice();
    const view = new DataView(out.buffer);
    for (const [index, delta] of this.offsets) {
      const at = store.memory.slotByte(index) + SLOT.epoch;
      view.setBigUint64(at, view.getBigUint64(at, true) - delta, true);
    }
    return out;
  }
}
