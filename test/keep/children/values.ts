/** The crash test's values: "KEY|SEQ|CHECK", CHECK the first 8 hex digits of sha256("KEY|SEQ"). */
import { createHash } from 'node:crypto';

export const valueOf = (key: string, seq: number): string => `${key}|${seq}|${createHash('sha256').update(`${key}|${seq}`).digest('hex').slice(0, 8)}`;

/** True when `value` is one the writer made for `key`. */
export function genuine(key: string, value: string): boolean {
  const [k, seq] = value.split('|');
  return k === key && seq !== undefined && /^\d+$/.test(seq) && valueOf(key, Number(seq)) === value;
}
