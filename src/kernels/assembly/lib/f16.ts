/**
 * Half-precision (binary16) and bfloat16 -> float32 conversion. WebAssembly SIMD128 has no f16 instructions, so the
 * conversion is integer bit manipulation plus two exact float operations, exact for all 65536 inputs (zeros,
 * subnormals, normals, ±Inf, NaN):
 *
 *   e = 5-bit exponent, m = 10-bit mantissa. (h & 0x7fff) << 13 puts e and m under the low exponent bits and high
 *   mantissa bits of a float32; adding 113 << 23 turns those bits into u = 2^(e-14) · (1 + m/1024).
 *   normal (e = 1..30):   u is exactly twice the value, so u/2 is the value; u - 2^-14 >= u/2.
 *   zero/subnormal (e = 0): u = 2^-14 + m·2^-24, so u - 2^-14 = m·2^-24 is the value (exact: Sterbenz), and
 *                          u/2 is larger.
 *   So value = min(u/2, u - 2^-14) in both cases, with no lane masks; `pmin` is one instruction.
 *   Inf/NaN (e = 31):      111 << 23 more puts u on exponent 255, and Inf/NaN pass through /2, -2^-14 and pmin.
 *   The sign bit is put back on top.
 * This avoids the usual "magic multiply" (bits · 2^112), which feeds f32 denormals into a multiply: WebAssembly
 * cannot enable flush-to-zero, and measured here a buffer with 1% denormals ran that loop 1.7x slower.
 *
 * Files in lib/ are imported by the kernel files; they are not entry files, so nothing here is exported from the wasm.
 */

/** float32 bits of 2^-14 */
const TWO_POW_MINUS_14: u32 = 113 << 23;
/** the largest shifted magnitude with e < 31 */
const MAX_FINITE_SHIFTED: u32 = (0x7c00 << 13) - 1;
/** moves exponent 31 + 113 to 255 */
const INF_NAN_ADJUST: u32 = 111 << 23;

/** Four halves in the low 16 bits of each u32 lane (upper bits zero) -> f32x4. */
// @ts-ignore: decorator
@inline export function f16x4ToF32(halves: v128): v128 {
  const shifted = i32x4.shl(v128.and(halves, i32x4.splat(0x7fff)), 13);
  const infNan = v128.and(i32x4.gt_s(shifted, i32x4.splat(MAX_FINITE_SHIFTED)), i32x4.splat(INF_NAN_ADJUST));
  const u = i32x4.add(i32x4.add(shifted, i32x4.splat(TWO_POW_MINUS_14)), infNan);
  // pmin(a, b) = b < a ? b : a
  const magnitude = f32x4.pmin(f32x4.mul(u, f32x4.splat(0.5)), f32x4.sub(u, i32x4.splat(TWO_POW_MINUS_14)));
  return v128.or(magnitude, i32x4.shl(v128.and(halves, i32x4.splat(0x8000)), 16));
}

/** 4 consecutive f16 values at p -> f32x4. */
// @ts-ignore: decorator
@inline export function loadF16x4(p: usize): v128 {
  return f16x4ToF32(v128.load16x4_u(p));
}

/** 4 consecutive bf16 values at p -> f32x4 (a bf16 is the top half of a float32). */
// @ts-ignore: decorator
@inline export function loadBf16x4(p: usize): v128 {
  return i32x4.shl(v128.load16x4_u(p), 16);
}

/** Scalar version of f16x4ToF32 (same method). */
// @ts-ignore: decorator
@inline export function f16ToF32(half: u32): f32 {
  const shifted = (half & 0x7fff) << 13;
  const u = reinterpret<f32>(shifted + TWO_POW_MINUS_14 + select<u32>(INF_NAN_ADJUST, 0, shifted > MAX_FINITE_SHIFTED));
  const magnitude = Mathf.min(u * 0.5, u - reinterpret<f32>(TWO_POW_MINUS_14));
  return reinterpret<f32>(reinterpret<u32>(magnitude) | ((half & 0x8000) << 16));
}

/** Scalar f16 at p -> f32. */
// @ts-ignore: decorator
@inline export function loadF16(p: usize): f32 {
  return f16ToF32(<u32>load<u16>(p));
}

/** Scalar bf16 at p -> f32. */
// @ts-ignore: decorator
@inline export function loadBf16(p: usize): f32 {
  return reinterpret<f32>(<u32>load<u16>(p) << 16);
}
