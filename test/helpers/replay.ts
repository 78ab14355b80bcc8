/** Applies fixture ops to one of our stores, checking each result against the C return code. */
import { isSplinterError, type Store } from '../../src/index.js';
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
};

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
