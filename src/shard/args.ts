/** Argument checks of the Logic Shard calls: each failure is EINVAL naming what was expected and received. */
import { describe, SplinterError } from '../errors.js';
import { Intent, U32_MAX } from '../layout/constants.js';
import { checkOptionBag, type OptionSpec } from '../store/handle/options.js';

const INTENT_NAMES = Object.entries(Intent)
  .map(([name, value]) => `${value} ${name}`)
  .join(', ');

function isU32(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= U32_MAX;
}

/** A shard id: 1..2^32-1 (0 marks a free record). */
export function checkId(id: unknown): number {
  if (!isU32(id) || id === 0) {
    throw new SplinterError(
      'EINVAL',
      `a shard id is an integer from 1 to ${U32_MAX} (0 marks a free bid record), received ${describe(id)}`,
    );
  }
  return id;
}

export function checkIntent(intent: unknown): Intent {
  if (typeof intent !== 'number' || !Number.isInteger(intent) || intent < Intent.NONE || intent > Intent.DONTNEED) {
    throw new SplinterError('EINVAL', `an intent is one of ${INTENT_NAMES}, received ${describe(intent)}`);
  }
  return intent as Intent;
}

export function checkPriority(priority: unknown): number {
  if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 0 || priority > 255) {
    throw new SplinterError('EINVAL', `a priority is an integer from 0 to 255 (higher wins), received ${describe(priority)}`);
  }
  return priority;
}

export function checkPid(pid: unknown): number {
  if (!isU32(pid)) throw new SplinterError('EINVAL', `a pid is an integer from 0 to ${U32_MAX}, received ${describe(pid)}`);
  return pid;
}

// Every field has its own check above or in shards.ts, which says more than a type: here only the names.
export const CLAIM_FIELDS: OptionSpec = { id: 'checked', intent: 'checked', priority: 'checked', duration: 'checked', pid: 'checked', claimedAt: 'checked' };
export const REBID_FIELDS: OptionSpec = { intent: 'checked', priority: 'checked', duration: 'checked', claimedAt: 'checked' };
export const ADVICE_OPTIONS: OptionSpec = { offset: 'checked', length: 'checked', advice: 'checked', timeout: 'checked', signal: 'checked' };

/** The options object of claim, rebid and madvise: required, and only the names `fields` lists. */
export function checkObject(value: unknown, what: string, fields: OptionSpec): Record<string, unknown> {
  if (typeof value !== 'object' || value === null) {
    throw new SplinterError('EINVAL', `${what} must be an object, received ${describe(value)}`);
  }
  return checkOptionBag(value, fields, what) as Record<string, unknown>;
}
