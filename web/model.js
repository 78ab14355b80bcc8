// The key set the page keeps: a Map by key, and the order of last change. A change appends to
// the order (the entry it had goes stale); a view walks the order from its newest end, so the
// keys changed last come first, and no change costs more than a Map write and a push.

/** A key's identity: its hex for a key that is not UTF-8, else its text. */
export const idOf = (row) => (row.keyHex ? `\0${row.keyHex}` : row.key);

/** The key's text with control characters escaped, as the CLI and the API show bytes that are not text. */
export function shownKey(text) {
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export class KeyModel {
  constructor() {
    this.rows = new Map();
    this.order = [];
    this.seq = 0;
    this.version = 0;
  }

  /** The key set of GET /v1/index: the base, shown in key order below every key changed since. */
  load(index) {
    const at = index.columns.reduce((o, name, i) => ((o[name] = i), o), {});
    const rows = index.rows.map((r) => ({
      key: r[at.key],
      keyHex: r[at.keyHex] ?? undefined,
      epoch: r[at.epoch],
      type: r[at.type],
      length: r[at.length],
      labels: BigInt(r[at.labels]),
      changed: 0,
      seq: 0,
    }));
    rows.sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0)); // walked from the end: ascending
    this.rows = new Map();
    this.order = [];
    for (const row of rows) {
      row.seq = ++this.seq;
      this.rows.set(idOf(row), row);
      this.order.push([idOf(row), row.seq]);
    }
    this.version++;
  }

  /** One `event: change` of /v1/events. Returns the row (undefined once deleted). */
  apply(change, now) {
    const id = idOf(change);
    if (change.deleted) {
      this.rows.delete(id);
      this.version++;
      return undefined;
    }
    let row = this.rows.get(id);
    if (row === undefined) {
      row = { key: change.key, keyHex: change.keyHex };
      this.rows.set(id, row);
    }
    Object.assign(row, { epoch: change.epoch, type: change.type, length: change.length, labels: BigInt(change.labels ?? '0'), changed: now, seq: ++this.seq });
    this.order.push([id, row.seq]);
    if (this.order.length > 2 * this.rows.size + 1024) this.compact();
    this.version++;
    return row;
  }

  compact() {
    this.order = this.order.filter(([id, seq]) => this.rows.get(id)?.seq === seq);
  }

  /** The rows that pass the filter, the most recently changed first. */
  view(prefix, mask) {
    const out = [];
    for (let i = this.order.length - 1; i >= 0; i--) {
      const [id, seq] = this.order[i];
      const row = this.rows.get(id);
      if (row === undefined || row.seq !== seq) continue;
      if (prefix !== '' && !row.key.startsWith(prefix)) continue;
      if (mask !== 0n && (row.labels & mask) !== mask) continue;
      out.push(row);
    }
    return out;
  }
}

/** A labels filter: a u64 mask in decimal or 0x-hex; undefined when it is not one. */
export function parseMask(text) {
  const t = text.trim();
  if (t === '') return 0n;
  if (!/^(0x[0-9a-fA-F]{1,16}|[0-9]{1,20})$/.test(t)) return undefined;
  const mask = BigInt(t);
  return mask > 0xffffffffffffffffn ? undefined : mask;
}
