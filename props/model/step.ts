/**
 * The model-test steps: one class per operation, each executed by one side (our library
 * 'ts' or the C peer 'c') on the one store both share, its result checked against what the
 * slot model predicts for that side, then the model updated, then every invariant checked.
 * This file holds the base classes; the operations live in kv-writes.ts, kv-reads.ts,
 * slot-commands.ts, signal-commands.ts, embedding-commands.ts and tandem-commands.ts.
 *
 * Adding an operation: subclass Step, implement `apply` (predict from the model, run on
 * r.store or r.peer, compare, update the model) and `describe`, give its arbitrary a
 * weight in `commandArbitrary` (arbitraries.ts), and extend SlotModel (and its `render`) with its effect.
 */
import fc from 'fast-check';
import type { SplinterErrorCode } from '../../src/index.js';
import type { PeerAnswer } from '../../test/helpers/peer.js';
import { hex, utf8 } from '../lib/layout.js';
import { checkInvariants, expectPeer, expectThrows, Mismatch, type Cmd, type Real } from './checks.js';
import { showKey } from './display.js';
import { validKey } from './keys.js';
import { note, ran, type FEATURE_OPS } from './reach.js';
import type { Side, SlotModel, StepRule } from './slot-model.js';

export abstract class Step implements Cmd {
  constructor(readonly side: Side) {}

  /** A fresh copy per run (fast-check clones commands), so what a run resolved is shown for that run. */
  [fc.cloneMethod](): this {
    const copy = Object.create(Object.getPrototypeOf(this) as object) as this;
    return Object.assign(copy, this);
  }

  check(): boolean {
    return true;
  }

  async run(m: SlotModel, r: Real): Promise<void> {
    try {
      await this.apply(m, r);
      checkInvariants(m, r);
    } catch (error) {
      if (error instanceof Mismatch) {
        error.message += `\n  after ${this.toString()}\n  model now:\n${m.describe()}`;
      }
      throw error;
    }
  }

  protected abstract apply(m: SlotModel, r: Real): Promise<void>;
  protected abstract describe(): string;

  toString(): string {
    return `${this.side}:${this.describe()}`;
  }
}

/**
 * Where a step's key comes from: a literal key, or a rule resolved against the model when
 * the step runs (the n-th key in that situation, else the fallback), so that sequences keep
 * reaching the rare situations (a hole in front of a key, C's duplicates) at every size.
 */
export type KeySource = { key: string } | { rule: StepRule; n: number; fallback: string; pool: readonly string[] };

/** A step on one key; a key our library refuses is never sent to the peer (it would store it truncated, Q2). */
export abstract class KeyStep extends Step {
  key: string;
  bytes: Uint8Array;
  valid: boolean;
  /** Set when a rule found its key in the run that used this command instance. */
  private resolvedByRule = false;

  constructor(side: Side, readonly source: KeySource) {
    const key = 'key' in source ? source.key : source.fallback;
    const valid = validKey(key);
    super(valid ? side : 'ts');
    this.key = key;
    this.valid = valid;
    this.bytes = utf8(key);
  }

  override async run(m: SlotModel, r: Real): Promise<void> {
    if ('rule' in this.source) {
      const rule = this.source.rule;
      const candidates = rule === 'absent' ? this.source.pool.filter((k) => m.find(utf8(k)) < 0) : m.targets(rule);
      const key = candidates.length > 0 ? candidates[this.source.n % candidates.length]! : this.source.fallback;
      this.resolvedByRule = candidates.length > 0;
      if (this.resolvedByRule) note(`target: ${this.source.rule}`);
      this.key = key;
      this.bytes = utf8(key);
      this.valid = validKey(key);
    }
    return super.run(m, r);
  }

  protected get keyHex(): string {
    return hex(this.bytes);
  }

  /** The key as shown: literal, or "rule#n→key" once resolved in the run that failed. */
  protected get shownKey(): string {
    if ('key' in this.source) return showKey(this.key);
    const key = this.resolvedByRule ? showKey(this.key) : `none, fallback ${showKey(this.source.fallback)}`;
    return `${this.source.rule}#${this.source.n}→${key}`;
  }
}

/**
 * A step on one existing key: EINVAL (ours) for a refused key, ENOENT (ours) / -1 ENOENT
 * (C) when the model has no such key (`find` says where each side looks), else `present`.
 */
export abstract class FeatureStep extends KeyStep {
  protected abstract readonly op: (typeof FEATURE_OPS)[number];
  protected abstract callOurs(r: Real, m: SlotModel): unknown;
  protected abstract peerCommand(m: SlotModel): Record<string, unknown>;
  /** Checks (the result) and updates the model for a present key at `index`; `answer` for C. */
  protected abstract present(m: SlotModel, index: number, result: unknown, answer?: PeerAnswer): void;
  /** Side that really runs (a step may move to ours, e.g. a BIGUINT promotion of a short value). */
  protected sideFor(_m: SlotModel, _index: number): Side {
    return this.side;
  }
  protected find(m: SlotModel): number {
    return m.find(this.bytes);
  }
  /** Ours: an argument error found before the key is looked up (e.g. group 64), else undefined. */
  protected argumentError(): SplinterErrorCode | undefined {
    return undefined;
  }

  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const what = this.toString();
    const argError = this.argumentError();
    if (!this.valid) return expectThrows(what, () => this.callOurs(r, m), [argError ?? 'EINVAL']);
    const index = this.find(m);
    const side = this.sideFor(m, index);
    if (side === 'ts') {
      if (argError !== undefined) {
        note(`${argError}: ${this.op} ours`);
        return expectThrows(what, () => this.callOurs(r, m), [argError]);
      }
      if (index < 0) {
        note(`ENOENT: ${this.op} ours`);
        return expectThrows(what, () => this.callOurs(r, m), ['ENOENT']);
      }
      const result = this.callOurs(r, m);
      ran(this.op, 'ts');
      return this.present(m, index, result);
    }
    const answer = await r.peer.send({ ...this.peerCommand(m), key_hex: this.keyHex });
    if (argError !== undefined) return expectPeer(what, answer, -2, 'EINVAL');
    if (index < 0) return expectPeer(what, answer, -1, 'ENOENT');
    ran(this.op, 'c');
    this.present(m, index, undefined, answer);
  }
}
