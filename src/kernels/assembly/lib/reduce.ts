/**
 * Horizontal sums. Kernels keep partial sums in vector lanes and reduce once per output; reducing four vectors at a
 * time gives the four results as one vector, ready for a single store or one vector multiply by per-output scales.
 */

/** [Σa, Σb, Σc, Σd] of four f32x4. */
// @ts-ignore: decorator
@inline export function hsum4F32(a: v128, b: v128, c: v128, d: v128): v128 {
  // ab = [a0+a2, b0+b2, a1+a3, b1+b3], cd likewise; then add their low and high halves
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 4, 1, 5), v128.shuffle<f32>(a, b, 2, 6, 3, 7));
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 4, 1, 5), v128.shuffle<f32>(c, d, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 1, 4, 5), v128.shuffle<f32>(ab, cd, 2, 3, 6, 7));
}

/** [Σa, Σb, Σc, Σd] of four i32x4 (exact). */
// @ts-ignore: decorator
@inline export function hsum4I32(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(v128.shuffle<i32>(a, b, 0, 4, 1, 5), v128.shuffle<i32>(a, b, 2, 6, 3, 7));
  const cd = i32x4.add(v128.shuffle<i32>(c, d, 0, 4, 1, 5), v128.shuffle<i32>(c, d, 2, 6, 3, 7));
  return i32x4.add(v128.shuffle<i32>(ab, cd, 0, 1, 4, 5), v128.shuffle<i32>(ab, cd, 2, 3, 6, 7));
}

/** Σ of the lanes of one f32x4. */
// @ts-ignore: decorator
@inline export function hsumF32(a: v128): f32 {
  const pairs = f32x4.add(a, v128.shuffle<f32>(a, a, 2, 3, 0, 1));
  return f32x4.extract_lane(pairs, 0) + f32x4.extract_lane(pairs, 1);
}

/** Σ of the lanes of one i32x4. */
// @ts-ignore: decorator
@inline export function hsumI32(a: v128): i32 {
  const pairs = i32x4.add(a, v128.shuffle<i32>(a, a, 2, 3, 0, 1));
  return i32x4.extract_lane(pairs, 0) + i32x4.extract_lane(pairs, 1);
}

/** Σ of the two lanes of one f64x2. */
// @ts-ignore: decorator
@inline export function hsumF64(a: v128): f64 {
  return f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
}

/** Adds the four f32 lanes of v to an f64x2 accumulator (the high pair is moved down and promoted). */
// @ts-ignore: decorator
@inline export function addF32x4ToF64x2(acc: v128, v: v128): v128 {
  const low = f64x2.promote_low_f32x4(v);
  const high = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
  return f64x2.add(acc, f64x2.add(low, high));
}
