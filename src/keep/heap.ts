/** A binary min-heap of (deadline, slot) pairs in two parallel arrays: the keeper's next due keys. */
export class DeadlineHeap {
  private deadlines: number[] = [];
  private slots: number[] = [];

  get size(): number {
    return this.deadlines.length;
  }

  /** The earliest deadline, Infinity when empty. */
  peek(): number {
    return this.deadlines.length === 0 ? Infinity : this.deadlines[0]!;
  }

  /** The slot of the earliest deadline (call only when not empty). */
  peekSlot(): number {
    return this.slots[0]!;
  }

  /** Replaces the contents at once (O(n) heapify: a rebuild after a scan). */
  rebuild(deadlines: number[], slots: number[]): void {
    this.deadlines = deadlines;
    this.slots = slots;
    for (let i = (deadlines.length >>> 1) - 1; i >= 0; i--) this.down(i);
  }

  push(deadline: number, slot: number): void {
    this.deadlines.push(deadline);
    this.slots.push(slot);
    this.up(this.deadlines.length - 1);
  }

  /** Removes the earliest pair. */
  pop(): void {
    const last = this.deadlines.length - 1;
    this.swap(0, last);
    this.deadlines.pop();
    this.slots.pop();
    if (last > 0) this.down(0);
  }

  private up(i: number): void {
    const d = this.deadlines;
    while (i > 0) {
      const parent = (i - 1) >>> 1;
      if (d[parent]! <= d[i]!) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const d = this.deadlines;
    const n = d.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let least = i;
      if (l < n && d[l]! < d[least]!) least = l;
      if (r < n && d[r]! < d[least]!) least = r;
      if (least === i) return;
      this.swap(i, least);
      i = least;
    }
  }

  private swap(a: number, b: number): void {
    const d = this.deadlines;
    const s = this.slots;
    const td = d[a]!;
    d[a] = d[b]!;
    d[b] = td;
    const ts = s[a]!;
    s[a] = s[b]!;
    s[b] = ts;
  }
}
