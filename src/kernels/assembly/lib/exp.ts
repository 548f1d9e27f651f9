/**
 * e^x on four f32 lanes, for softmax and SiLU. Relative error < 5e-7 on [-87, 88.37] (bounded by f32 rounding of the
 * polynomial; the truncation error of the series is < 1e-8).
 *
 * Method: x = n·ln2 + r with n = nearest(x·log2 e), so |r| <= ln2/2. n·ln2 is subtracted in two parts (Cody-Waite):
 * LN2_HI has 9 significant bits, so n·LN2_HI is exact for |n| <= 2^15 and r keeps full precision. e^r is the Taylor
 * series to degree 7 (error r^8/8! < 6e-9 for |r| <= 0.347); 2^n is built directly in the exponent field.
 *
 * Edges: x < -87 gives 0 (e^-87 = 1.6e-38 is at the bottom of the normal range; flushing below it means the result
 * is never an f32 denormal, which would slow every later operation on it); x > 88.37 gives +Infinity (2^n would no
 * longer fit the exponent field; e^88.37 = 2.4e38, 70% of the largest float); -Infinity -> 0; NaN -> NaN.
 */

const LOG2E: f32 = 1.44269504;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const LOWEST: f32 = -87.0;
const HIGHEST: f32 = 88.37;
/** 1.5·2^23: adding it rounds an f32 of magnitude < 2^22 to an integer, half to even */
const ROUNDING_SHIFT: f32 = 12582912;

// @ts-ignore: decorator
@inline export function expF32x4(x: v128): v128 {
  // n = nearest(x·log2 e) by adding 1.5·2^23: the sum's low mantissa bits are n as an integer (for |x·log2 e| < 2^22;
  // larger |x| is replaced below). Two instructions, where nearest + trunc_sat cost V8 about ten.
  const shifted = f32x4.add(f32x4.mul(x, f32x4.splat(LOG2E)), f32x4.splat(ROUNDING_SHIFT));
  const n = f32x4.sub(shifted, f32x4.splat(ROUNDING_SHIFT));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  // Horner: 1 + r(1 + r(1/2 + r(1/6 + r(1/24 + r(1/120 + r(1/720 + r/5040))))))
  let p = f32x4.splat(<f32>(1.0 / 5040.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 720.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 120.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 24.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 6.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>0.5));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>1.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>1.0));
  // 2^n as float bits; lanes out of range are replaced below, so their garbage exponent does not matter
  const scale = i32x4.shl(i32x4.add(i32x4.sub(shifted, f32x4.splat(ROUNDING_SHIFT)), i32x4.splat(127)), 23);
  let y = f32x4.mul(p, scale);
  y = v128.andnot(y, f32x4.lt(x, f32x4.splat(LOWEST)));
  return v128.bitselect(f32x4.splat(Infinity), y, f32x4.gt(x, f32x4.splat(HIGHEST)));
}

/** Scalar e^x with exactly the vector's arithmetic (for row tails, so every element gets the same function). */
// @ts-ignore: decorator
@inline export function expF32(x: f32): f32 {
  return f32x4.extract_lane(expF32x4(f32x4.splat(x)), 0);
}
