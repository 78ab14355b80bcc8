/**
 * The fast pass: dot product and squared norm of one stored vector in float64, straight over the
 * mapping's Float32Array view (the embedding at slot offset 128 is 4-byte aligned), four sums at a
 * time. Float64 sums of float32 products stay within ~1e-12 of the true value; C's float32 sums
 * within ~2e-4 (768 × 2⁻²⁴ per norm), so a margin of SIMILARITY_MARGIN decides who C's formula
 * must rescore (scan.ts).
 */
import { SPLINTER_EMBED_DIM } from '../../layout/constants.js';

/** A module constant: an imported binding can cost a getter call per use under a CommonJS transform (tsx). */
const DIM = SPLINTER_EMBED_DIM;

/** Above C's worst float32 error on a cosine of 768 terms (~1.5e-4), with room. */
export const SIMILARITY_MARGIN = 1e-3;
/** A squared norm this large may overflow C's float32 sums (partial sums stay below qq + vv, ×2 for distance). */
export const OVERFLOW_GUARD = 1e37;
/** Norm products below this go to C's formula: its 1e-9 cut-off and float32 underflow decide there. */
export const SMALL_GUARD = 1e-6;

/** Writes dot(query, f32[at…]) into out[0] and the stored vector's squared norm into out[1]. */
export function dotAndNorm(query: Float32Array, f32: Float32Array, at: number, out: Float64Array): void {
  let d0 = 0, d1 = 0, d2 = 0, d3 = 0;
  let n0 = 0, n1 = 0, n2 = 0, n3 = 0;
  for (let i = 0; i < DIM; i += 4) {
    const v0 = f32[at + i]!, v1 = f32[at + i + 1]!, v2 = f32[at + i + 2]!, v3 = f32[at + i + 3]!;
    d0 += query[i]! * v0;
    d1 += query[i + 1]! * v1;
    d2 += query[i + 2]! * v2;
    d3 += query[i + 3]! * v3;
    n0 += v0 * v0;
    n1 += v1 * v1;
    n2 += v2 * v2;
    n3 += v3 * v3;
  }
  out[0] = d0 + d1 + d2 + d3;
  out[1] = n0 + n1 + n2 + n3;
}

/** dot(query, f32[at…]) alone, for a vector whose squared norm is known (norm-cache.ts). */
export function dotOnly(query: Float32Array, f32: Float32Array, at: number): number {
  let d0 = 0, d1 = 0, d2 = 0, d3 = 0;
  for (let i = 0; i < DIM; i += 4) {
    d0 += query[i]! * f32[at + i]!;
    d1 += query[i + 1]! * f32[at + i + 1]!;
    d2 += query[i + 2]! * f32[at + i + 2]!;
    d3 += query[i + 3]! * f32[at + i + 3]!;
  }
  return d0 + d1 + d2 + d3;
}

/** The squared norm of the query, in float64. */
export function squaredNorm(v: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  return sum;
}
