// The value viewer: a value decoded by its type (GET /v1/keys/{key}?decode=1), every part as text.
import { h } from '/assets/preact.mjs';
import htm from '/assets/htm.mjs';
import { shownKey } from '/assets/model.js';

const html = htm.bind(h);
const HEX_DUMP_BYTES = 4096;

/** Lines of 16 bytes: offset, hex, and the printable ASCII of each. */
export function hexDump(hex) {
  const bytes = Math.min(hex.length / 2, HEX_DUMP_BYTES);
  const lines = [];
  for (let at = 0; at < bytes; at += 16) {
    const chunk = [];
    let ascii = '';
    for (let i = at; i < Math.min(at + 16, bytes); i++) {
      const byte = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
      chunk.push(hex.slice(2 * i, 2 * i + 2));
      ascii += byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : '.';
    }
    lines.push(`${at.toString(16).padStart(8, '0')}  ${chunk.join(' ').padEnd(47)}  ${ascii}`);
  }
  if (hex.length / 2 > HEX_DUMP_BYTES) lines.push(`… the first ${HEX_DUMP_BYTES} of ${hex.length / 2} bytes`);
  return lines.join('\n');
}

export function norm(vector) {
  let sum = 0;
  for (const x of vector) sum += x * x;
  return Math.sqrt(sum);
}

/** The embedding's 768 numbers as one SVG line, scaled to its own range. */
function Sparkline({ values }) {
  const width = 320;
  const height = 48;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi - lo || 1;
  const points = values.map((v, i) => `${((i / (values.length - 1)) * width).toFixed(1)},${(height - ((v - lo) / span) * height).toFixed(1)}`).join(' ');
  return html`<svg class="spark" viewBox="0 0 ${width} ${height}" width=${width} height=${height} role="img" aria-label="embedding sparkline">
    <polyline points=${points} fill="none" stroke="currentColor" stroke-width="1" />
  </svg>`;
}

function body(value) {
  switch (value.encoding) {
    case 'json':
      return html`<pre class="value json" data-kind="json">${JSON.stringify(value.value, null, 2)}</pre>`;
    case 'decimal':
      return html`<pre class="value number" data-kind="biguint">${value.value}</pre>`;
    case 'text':
      return html`<pre class="value text" data-kind="text">${value.value}</pre>`;
    default:
      return html`<pre class="value hex" data-kind="hex">${hexDump(value.value)}</pre>`;
  }
}

/** The viewer's contents: the key, its type, epoch and length, then the value. */
export function ValueView({ value, error }) {
  if (error !== undefined) return html`<div class="viewer"><p class="error" role="alert">${error}</p></div>`;
  if (value === undefined) return html`<div class="viewer"><p class="hint">Select a key (click it, or Enter on a row) to see its value.</p></div>`;
  return html`<div class="viewer" aria-live="polite">
    <h2 class="viewer-key">${shownKey(value.key)}</h2>
    <p class="meta">${value.type} · epoch ${value.epoch} · ${value.length} bytes</p>
    ${body(value)}
    ${value.embedding === undefined
      ? null
      : html`<div class="embedding" data-kind="embedding">
          <p>embedding: ${value.embedding.length} numbers, norm <span class="norm">${norm(value.embedding).toFixed(4)}</span></p>
          <${Sparkline} values=${value.embedding} />
        </div>`}
  </div>`;
}
