/**
 * The one check of every options object the API takes: an object (or undefined), only names
 * it knows, each of the type it expects. Range checks stay with the code that uses a value.
 */
import { describe, SplinterError } from '../../errors.js';

/**
 * What an option may hold: a typeof name, an AbortSignal, one of a few strings, or 'checked'
 * (any value here: the code that uses it checks it with a more precise message).
 */
export type OptionKind = 'number' | 'boolean' | 'string' | 'bigint' | 'function' | 'AbortSignal' | 'checked' | { oneOf: readonly string[] };

/** Option name → the kinds it accepts (undefined is always accepted: the option is absent). */
export type OptionSpec = Readonly<Record<string, OptionKind | readonly OptionKind[]>>;

function matches(value: unknown, kind: OptionKind): boolean {
  if (typeof kind === 'object') return typeof value === 'string' && kind.oneOf.includes(value);
  if (kind === 'AbortSignal') return value instanceof AbortSignal;
  if (kind === 'checked') return true;
  return typeof value === kind;
}

function kindName(kind: OptionKind): string {
  if (typeof kind === 'object') return `one of ${kind.oneOf.map((s) => JSON.stringify(s)).join(', ')}`;
  return kind === 'AbortSignal' ? 'an AbortSignal' : `a ${kind}`;
}

/**
 * Checks `options` against `spec`; `what` names the call (e.g. "Store.open"). Returns the
 * options as a record, {} for undefined. EINVAL for anything else, naming the option, the
 * type expected and the value received.
 */
export function checkOptionBag(options: unknown, spec: OptionSpec, what: string): Readonly<Record<string, unknown>> {
  if (options === undefined) return {};
  const names = Object.keys(spec);
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new SplinterError('EINVAL', `${what}: options must be an object { ${names.map((n) => `${n}?`).join(', ')} }, received ${describe(options)}`);
  }
  const bag = options as Record<string, unknown>;
  for (const name of Object.keys(bag)) {
    const accepted = spec[name];
    if (accepted === undefined) {
      throw new SplinterError('EINVAL', `${what}: unknown option ${JSON.stringify(name)}; the options are ${names.join(', ')}`);
    }
    const value = bag[name];
    if (value === undefined) continue;
    const kinds: readonly OptionKind[] = Array.isArray(accepted) ? accepted : [accepted as OptionKind];
    if (!kinds.some((kind) => matches(value, kind))) {
      throw new SplinterError('EINVAL', `${what}: option ${name} must be ${kinds.map(kindName).join(' or ')}, received ${describe(value)}`);
    }
  }
  return bag;
}
