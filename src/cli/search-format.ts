/** `splinter search` output in the shapes of C's `search`: its text table and its JSON document. */
import { SlotType } from '../layout/constants.js';

/** One row: a hit, or (no query vector) a candidate without scores. */
export interface SearchRow {
  key: string;
  similarity: number | undefined;
  distance: number | undefined;
  epoch: bigint;
  length: number;
  type: number;
  labels: bigint;
}

/** C's type column: the first named bit in its order of precedence, else UNNAMED. */
const C_TYPE_ORDER: ReadonlyArray<[number, string]> = [
  [SlotType.BIGINT, 'SPL_SLOT_TYPE_BIGINT'],
  [SlotType.BIGUINT, 'SPL_SLOT_TYPE_BIGUINT'],
  [SlotType.BINARY, 'SPL_SLOT_TYPE_BINARY'],
  [SlotType.IMGDATA, 'SPL_SLOT_TYPE_IMGDATA'],
  [SlotType.VARTEXT, 'SPL_SLOT_TYPE_VARTEXT'],
  [SlotType.AUDIO, 'SPL_SLOT_TYPE_AUDIO'],
  [SlotType.JSON, 'SPL_SLOT_TYPE_JSON'],
  [SlotType.VOID, 'SPL_SLOT_TYPE_VOID'],
];

export function cTypeName(flag: number): string {
  return C_TYPE_ORDER.find(([bit]) => (flag & bit) !== 0)?.[1] ?? 'UNNAMED';
}

/**
 * printf's %.4f of a float32: the exact binary value to four places, an exact tie to the even
 * digit (toFixed takes the larger), and all digits of a large value (toFixed switches to exponents).
 */
export function fixed4(x: number): string {
  const negative = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  let text: string;
  if (a >= 1e21) {
    text = `${BigInt(a)}.0000`; // a float32 this large is an integer
  } else {
    const twice = a * 20000; // exact for a float32: at most 24 + 15 significant bits
    if (Number.isInteger(twice) && twice % 2 === 1) {
      const down = (twice - 1) / 2;
      const n = down % 2 === 0 ? down : down + 1;
      text = (n / 10000).toFixed(4);
    } else {
      text = a.toFixed(4);
    }
  }
  return negative ? `-${text}` : text;
}

const pad = (text: string, width: number): string => text.padEnd(width);

/** The text table: C's header, one row per result, then an empty line. */
export function searchTable(rows: readonly SearchRow[]): string {
  const lines = [`${pad('Name', 44)} ${pad('Similarity', 10)} ${pad('Distance', 10)} ${pad('Epoch', 6)} ${pad('Len', 6)} Type`];
  for (const r of rows) {
    const sim = r.similarity === undefined ? '-' : fixed4(r.similarity);
    const dist = r.distance === undefined ? '-' : fixed4(r.distance);
    lines.push(`${pad(r.key, 44)} ${pad(sim, 10)} ${pad(dist, 10)} ${pad(r.epoch.toString(), 6)} ${pad(String(r.length), 6)} ${cTypeName(r.type)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** C's JSON document, laid out as C prints it; strings escaped (C prints them raw, which breaks on a quote). */
export function searchJson(query: string, totalSlots: number, active: number, rows: readonly SearchRow[]): string {
  const out = ['{', `  "query": ${JSON.stringify(query)},`, '  "store": {', `    "total_slots": ${totalSlots},`, `    "active_keys": ${active}`, '  },', '  "results": ['];
  rows.forEach((r, i) => {
    const has = r.similarity !== undefined && r.distance !== undefined;
    out.push(
      '    {',
      `      "key": ${JSON.stringify(r.key)},`,
      `      "similarity": ${has ? fixed4(r.similarity!) : 'null'},`,
      `      "distance": ${has ? fixed4(r.distance!) : 'null'},`,
      `      "epoch": ${r.epoch},`,
      `      "value_length": ${r.length},`,
      `      "type": "${cTypeName(r.type)}",`,
      `      "bloom": "0x${r.labels.toString(16).padStart(16, '0')}",`,
      `      "has_embedding": ${has}`,
      i < rows.length - 1 ? '    },' : '    }',
    );
  });
  out.push('  ]', '}');
  return out.join('\n');
}
