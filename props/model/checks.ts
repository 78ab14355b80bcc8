/**
 * The model test's checks: what a step compares (a SplinterError code, a C peer answer, a
 * value) and the invariants checked after every step. A failed check throws Mismatch.
 */
import fs from 'node:fs';
import type fc from 'fast-check';
import { isSplinterError, type SplinterErrorCode, type Store } from '../../src/index.js';
import type { Peer, PeerAnswer } from '../../test/helpers/peer.js';
import { describeDifferences, sameBytes, type Geo } from '../lib/layout.js';
import { show, showKey } from './display.js';
import type { SlotModel } from './slot-model.js';

export interface Real {
  store: Store;
  peer: Peer;
  geo: Geo;
  /** The store's file (/dev/shm/NAME): what both sides really left, read after every step. */
  file: string;
  /** The image of the store as created, to reset it between runs and to render the model. */
  fresh: Uint8Array;
}

export type Cmd = fc.AsyncCommand<SlotModel, Real>;

export class Mismatch extends Error {
  override name = 'Mismatch';
}

export function fail(what: string): never {
  throw new Mismatch(what);
}

/** `fn` must throw a SplinterError with one of `codes`; anything else (or nothing) fails. */
export function expectThrows(what: string, fn: () => unknown, codes: SplinterErrorCode[]): void {
  let result: unknown;
  try {
    result = fn();
  } catch (error) {
    if (isSplinterError(error) && codes.includes(error.code)) return;
    fail(`${what}: expected SplinterError ${codes.join('|')}, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  }
  fail(`${what}: expected SplinterError ${codes.join('|')}, but it returned ${show(result)}`);
}

export function expectPeer(what: string, answer: PeerAnswer, rc: number, errno?: string): void {
  if (answer.rc !== rc || (errno !== undefined && answer.errno !== errno)) {
    fail(`${what}: the C peer answered ${JSON.stringify(answer)}, model expects rc ${rc}${errno ? ` ${errno}` : ''}`);
  }
}

export function equal(what: string, actual: unknown, expected: unknown): void {
  const same = actual instanceof Uint8Array || expected instanceof Uint8Array
    ? sameBytes(actual as Uint8Array, expected as Uint8Array) || (actual === undefined && expected === undefined)
    : show(actual) === show(expected);
  if (!same) fail(`${what}: got ${show(actual)}, model expects ${show(expected)}`);
}

/**
 * After every step: the file holds exactly the image the model renders (header epoch and
 * flags, every slot field, every arena byte), and our library reads every key of the
 * model's key → value map with its value and epoch, and lists the keys in slot order.
 */
export function checkInvariants(m: SlotModel, r: Real): void {
  const actual = new Uint8Array(fs.readFileSync(r.file));
  const difference = describeDifferences(r.geo, actual, m.render(r.fresh));
  if (difference !== undefined) fail(`the store's bytes differ from the model: ${difference}`);
  for (const [key, expected] of m.view()) {
    equal(`invariant: get(${showKey(key)})`, r.store.get(key), expected.value);
    equal(`invariant: getEpoch(${showKey(key)})`, r.store.getEpoch(key), expected.epoch);
  }
  equal('invariant: keys()', r.store.keys(), m.list().map((k) => new TextDecoder().decode(k)));
}
