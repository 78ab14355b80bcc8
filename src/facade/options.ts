/** The options and geometry Store's constructors take, checked before anything is opened or created. */
import { DEFAULT_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS } from '../bus/line.js';
import { describe, SplinterError } from '../errors.js';
import { U32_MAX, type SlotType } from '../layout/constants.js';
import { MAX_STORE_BYTES, storeSize, type Geometry } from '../layout/geometry.js';
import { checkRouteName, type MappingRouteName } from '../store/backing/mapping/index.js';
import type { SetCondition } from '../store/values/compare-set.js';
import { checkOptionBag, type OptionSpec } from '../store/handle/options.js';

/** Geometry asked of create: `embeddings` defaults to false. */
export interface CreateGeometry {
  slots: number;
  maxValueSize: number;
  embeddings?: boolean;
}

export interface StoreOptions {
  /** How long a contested slot is retried before EAGAIN, in ms: any finite number ≥ 0 (default 5). */
  contentionBudgetMs?: number;
  /**
   * How often waiters look for changes made by writers that cannot ring our doorbell (C
   * processes), in ms (default 10). Writers of ours wake waiters at once. The first handle a
   * process opens on a store sets it for that process. 1 to 2147483647 (2^31 − 1); past that, EINVAL.
   */
  pollIntervalMs?: number;
  /**
   * How shm and file stores are mapped: 'koffi' or 'mmap-io' (docs/api.md, "Mapping routes").
   * Default: the SPLINTER_MAPPING environment variable, else the first route that loads.
   */
  mapping?: MappingRouteName;
  /**
   * Opens (open, openOrCreate, createOrOpen) a store that another user owns (neither this process's
   * user nor root) or whose mode lets its group or others write: without it such a store is EPERM,
   * since whoever else may write it can also read what we write, or change it under us. Default false.
   */
  trustShared?: boolean;
}

const DEFAULT_CONTENTION_BUDGET_MS = 5;

/** The names and types of each options object; a new option is one line here. */
const STORE_OPTIONS: OptionSpec = { contentionBudgetMs: 'number', pollIntervalMs: 'number', mapping: 'checked', trustShared: 'boolean' };
const GEOMETRY_FIELDS: OptionSpec = { slots: 'number', maxValueSize: 'number', embeddings: 'boolean' };
export const POLL_OPTIONS: OptionSpec = { timeout: 'number', signal: 'AbortSignal', lowLatency: 'boolean' };
export const WATCH_OPTIONS: OptionSpec = { signal: 'AbortSignal', lowLatency: 'boolean' };
export const KEYS_OPTIONS: OptionSpec = { bytes: 'boolean' };
export const SET_OPTIONS: OptionSpec = { type: 'number', ifEpoch: 'bigint', ifAbsent: 'boolean', ttl: 'number' };
export const SET_JSON_OPTIONS: OptionSpec = { ttl: 'number' };
export const STREAM_OPTIONS: OptionSpec = { capacity: 'number', claimTimeout: 'number', create: 'boolean', hold: 'checked' };
export const HISTORY_OPTIONS: OptionSpec = { depth: 'number', claimTimeout: 'number' };

/** set(): `type` names the slot's type (a SlotType, or a byte of its bits) in the same write as the value. */
export interface SetOptions {
  type?: SlotType | number | undefined;
  /** Write only while the key is at this slot epoch (one CAS of its seqlock): set returns false otherwise. */
  ifEpoch?: bigint | undefined;
  /** Write only while the key is missing: set returns false otherwise. */
  ifAbsent?: boolean | undefined;
  /** Milliseconds the key lives from now; readers of ours treat it as missing after that (docs/keep.md). Without it a set clears any deadline. */
  ttl?: number | undefined;
}

/** setJSON(): as set's `ttl`. */
export interface SetJSONOptions {
  ttl?: number | undefined;
}

/** The longest ttl: deadlines are whole milliseconds that stay exact as numbers. */
export const TTL_MAX_MS = 2 ** 52;

/** A ttl in milliseconds: a finite number ≥ 0, rounded up to a whole millisecond; EINVAL otherwise. */
export function checkTtl(ttl: unknown, what: string): number {
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0 || ttl > TTL_MAX_MS) {
    throw new SplinterError('EINVAL', `${what}: a ttl is a number of milliseconds from 0 to 2^52, received ${describe(ttl)}`);
  }
  return Math.ceil(ttl);
}

/** The condition of a set's options; EINVAL when both are given. */
export function setCondition(options: SetOptions): SetCondition | undefined {
  if (options.ifEpoch !== undefined && options.ifAbsent === true) {
    throw new SplinterError('EINVAL', `set: ifEpoch and ifAbsent exclude each other (a key at an epoch is present), received both`);
  }
  if (options.ifEpoch !== undefined) return { ifEpoch: options.ifEpoch };
  return options.ifAbsent === true ? { ifAbsent: true } : undefined;
}

/** keys(): `bytes: true` gives every key as its bytes, UTF-8 or not. */
export interface KeysOptions {
  bytes?: boolean | undefined;
}

export function checkGeometry(geometry: unknown, what: string): Geometry {
  if (typeof geometry !== 'object' || geometry === null) {
    throw new SplinterError('EINVAL', `a geometry { slots, maxValueSize, embeddings? } is required, received ${describe(geometry)}`);
  }
  const { slots, maxValueSize, embeddings = false } = geometry as Partial<CreateGeometry>;
  for (const [name, value] of [
    ['slots', slots],
    ['maxValueSize', maxValueSize],
  ] as const) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > U32_MAX) {
      throw new SplinterError('EINVAL', `${name} must be an integer from 1 to 4294967295, received ${describe(value)}`);
    }
  }
  if (typeof embeddings !== 'boolean') {
    throw new SplinterError('EINVAL', `embeddings must be a boolean, received ${describe(embeddings)}`);
  }
  checkOptionBag(geometry, GEOMETRY_FIELDS, `${what} geometry`); // the fields' values are checked above: this refuses unknown names
  const size = storeSize(slots!, maxValueSize!, embeddings);
  if (size > MAX_STORE_BYTES) {
    throw new SplinterError(
      'EINVAL',
      `a store of ${slots} slots × ${maxValueSize} bytes is ${size} bytes; the format records sizes up to ${MAX_STORE_BYTES} bytes`,
    );
  }
  return { slots: slots!, maxValueSize: maxValueSize!, embeddings };
}

export interface CheckedOptions {
  budgetMs: number;
  pollIntervalMs: number;
  mapping: MappingRouteName | undefined;
  trustShared: boolean;
}

export function checkOptions(given: StoreOptions | undefined, what: string): CheckedOptions {
  const options = checkOptionBag(given, STORE_OPTIONS, what) as StoreOptions;
  const budget = options.contentionBudgetMs ?? DEFAULT_CONTENTION_BUDGET_MS;
  if (typeof budget !== 'number' || !(budget >= 0) || !Number.isFinite(budget)) {
    throw new SplinterError('EINVAL', `contentionBudgetMs must be a finite number ≥ 0, received ${describe(budget)}`);
  }
  const interval = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  if (typeof interval !== 'number' || !(interval >= 1 && interval <= MAX_POLL_INTERVAL_MS)) {
    throw new SplinterError('EINVAL', `pollIntervalMs must be a number of ms from 1 to ${MAX_POLL_INTERVAL_MS}, received ${describe(interval)}`);
  }
  const mapping = options?.mapping === undefined ? undefined : checkRouteName(options.mapping, 'the mapping option');
  return { budgetMs: budget, pollIntervalMs: interval, mapping, trustShared: options.trustShared ?? false };
}
