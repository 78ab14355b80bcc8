/** The k largest numbers seen, in a min-heap: its root is the k-th best so far. */
export class TopK {
  private readonly heap: Float64Array;
  private size = 0;

  constructor(readonly k: number) {
    this.heap = new Float64Array(k);
  }

  /** The k-th largest so far, or -Infinity while fewer than k were offered. */
  get floor(): number {
    return this.size < this.k ? -Infinity : this.heap[0]!;
  }

  offer(value: number): void {
    const h = this.heap;
    if (this.size < this.k) {
      let i = this.size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (h[parent]! <= value) break;
        h[i] = h[parent]!;
        i = parent;
      }
      h[i] = value;
      return;
    }
    if (value <= h[0]!) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= this.k) break;
      const right = left + 1;
      const child = right < this.k && h[right]! < h[left]! ? right : left;
      if (h[child]! >= value) break;
      h[i] = h[child]!;
      i = child;
    }
    h[i] = value;
  }
}
