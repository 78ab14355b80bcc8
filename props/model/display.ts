/** How the model test shows keys, values and results in a step and in a failure. */
import { hex } from '../lib/layout.js';

export function showKey(key: string): string {
  const chars = [...key];
  if (chars.length > 8 && chars.every((c) => c === chars[0])) return `${JSON.stringify(chars[0])}×${chars.length}`;
  if (chars.length > 8 && chars.slice(0, -1).every((c) => c === chars[0])) {
    return `${JSON.stringify(chars[0])}×${chars.length - 1}+${JSON.stringify(chars.at(-1))}`;
  }
  return JSON.stringify(key);
}

export interface Payload {
  bytes: Uint8Array;
  /** When set, our library is handed this string (it must store its UTF-8 bytes). */
  text?: string;
}

export function showPayload(p: Payload): string {
  if (p.text !== undefined) {
    const chars = [...p.text];
    return `text ${JSON.stringify(chars.slice(0, 12).join(''))}${chars.length > 12 ? '…' : ''} (${p.bytes.length}B)`;
  }
  const h = hex(p.bytes);
  return `${p.bytes.length}B ${h.length > 16 ? `${h.slice(0, 16)}…` : h}`;
}

export function show(x: unknown): string {
  if (x instanceof Uint8Array) return `bytes ${hex(x)}`;
  if (typeof x === 'bigint') return `${x}n`;
  return JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? hex(v) : v)) ?? String(x);
}
