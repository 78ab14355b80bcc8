/**
 * C's scoring, to the bit: float32 sums accumulated in index order (a compiler without -ffast-math
 * keeps that order), sqrtf of each norm, similarity 0 when the product of the norms is below 1e-9.
 * Math.fround after every operation is what makes each step a float32 step.
 */
const f = Math.fround;
const TINY_DENOM = f(1e-9);

/** cosine_similarity of C's search, over `n` floats of `a` from `aAt` and of `b` from `bAt`. */
export function cSimilarity(a: Float32Array, aAt: number, b: Float32Array, bAt: number, n: number): number {
  let dot = 0;
  let magA = 0;
  let magB = 0;
  for (let i = 0; i < n; i++) {
    const x = a[aAt + i]!;
    const y = b[bAt + i]!;
    dot = f(dot + f(x * y));
    magA = f(magA + f(x * x));
    magB = f(magB + f(y * y));
  }
  const denom = f(f(Math.sqrt(magA)) * f(Math.sqrt(magB)));
  if (denom < TINY_DENOM) return 0;
  return f(dot / denom);
}

/** euclidean_distance of C's search. */
export function cDistance(a: Float32Array, aAt: number, b: Float32Array, bAt: number, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const diff = f(a[aAt + i]! - b[bAt + i]!);
    sum = f(sum + f(diff * diff));
  }
  return f(Math.sqrt(sum));
}
