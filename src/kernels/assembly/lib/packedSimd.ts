/**
 * Small SIMD helpers of the packed-attention kernels (packedAttention.ts, kiviAttention.ts, blockqAttention.ts):
 * binary16 -> float32, horizontal sums, and the unpacking of LSB-first bit-packed codes (src/quant/bitpack.ts).
 * Everything is @inline and prefixed `pk`, so nothing here is exported from the wasm module or clashes with the
 * other kernels' helpers. No static data: every constant is an instruction immediate.
 */

/** float32 bits of 2^-24, the unit of a binary16 subnormal. */
const HALF_SUBNORMAL_UNIT: f32 = 5.9604644775390625e-8;
/** Moves a binary16 exponent (bias 15) to float32's bias 127 once the field sits at bit 23. */
const HALF_REBIAS: u32 = 112 << 23;

/**
 * binary16 bits (low 16 bits of h) -> float32, exact for every input. Normal numbers (the common case: a branch
 * that predicts well) are a shift and a rebias; zero and subnormals are m·2^-24 computed from the integer m, so no
 * float32 denormal is ever produced or consumed (WebAssembly cannot flush them, and they are slow); Inf/NaN keep
 * their payload.
 */
// @ts-ignore: decorator
@inline export function pkHalfToF32(h: u32): f32 {
  const magnitude = h & 0x7fff;
  const sign = (h & 0x8000) << 16;
  if (magnitude - 0x0400 < 0x7800) return reinterpret<f32>(((magnitude << 13) + HALF_REBIAS) | sign);
  return halfToF32Rare(magnitude, sign);
}

/** Zero, subnormal, Inf or NaN half (magnitude bits and the sign already in place). */
function halfToF32Rare(magnitude: u32, sign: u32): f32 {
  // Inf/NaN: rebiasing twice lifts exponent 31 + 112 to 255, keeping the NaN payload
  if (magnitude >= 0x7c00) return reinterpret<f32>(((magnitude << 13) + 2 * HALF_REBIAS) | sign);
  return reinterpret<f32>(reinterpret<u32>(<f32>magnitude * HALF_SUBNORMAL_UNIT) | sign);
}

/** Four binary16 values in the low halves of the u32 lanes of `halves` -> f32x4 (same method as pkHalfToF32). */
// @ts-ignore: decorator
@inline export function pkHalf4ToF32(halves: v128): v128 {
  const magnitude = v128.and(halves, i32x4.splat(0x7fff));
  const sign = i32x4.shl(v128.and(halves, i32x4.splat(0x8000)), 16);
  const normal = i32x4.add(i32x4.shl(magnitude, 13), i32x4.splat(HALF_REBIAS));
  const allNormal = i32x4.all_true(v128.and(
    i32x4.gt_s(magnitude, i32x4.splat(0x03ff)), i32x4.lt_s(magnitude, i32x4.splat(0x7c00)),
  ));
  if (allNormal) return v128.or(normal, sign);
  return half4ToF32Rare(magnitude, sign, normal);
}

/** pkHalf4ToF32 when a lane is zero, subnormal, Inf or NaN. */
function half4ToF32Rare(magnitude: v128, sign: v128, normal: v128): v128 {
  const isInfNan = i32x4.gt_s(magnitude, i32x4.splat(0x7bff));
  const wide = i32x4.add(normal, v128.and(isInfNan, i32x4.splat(HALF_REBIAS)));
  const subnormal = f32x4.mul(f32x4.convert_i32x4_s(magnitude), f32x4.splat(HALF_SUBNORMAL_UNIT));
  return v128.or(v128.bitselect(subnormal, wide, i32x4.lt_s(magnitude, i32x4.splat(0x0400))), sign);
}

/** binary16 at p -> f32. */
// @ts-ignore: decorator
@inline export function pkLoadHalf(p: usize): f32 {
  return pkHalfToF32(<u32>load<u16>(p));
}

/** 4 consecutive binary16 at p -> f32x4. */
// @ts-ignore: decorator
@inline export function pkLoadHalf4(p: usize): v128 {
  return pkHalf4ToF32(v128.load16x4_u(p));
}





/**
 * The 8 codes of width B (0..8, a compile-time constant at every call site) that start at byte p, as u16 lanes in
 * element order. Eight B-bit codes fill exactly B bytes, so code block j of a stream starts at byte j·B.
 *
 * Lane i needs stream bits [i·B, i·B + B): they lie in bytes k = floor(i·B/8) and k+1 (only when s + B > 8, with
 * s = i·B mod 8). A swizzle puts those two bytes in the lane (high byte zero when unused), a multiply by 2^(16-s-B)
 * shifts the code to the top of the 16-bit lane (dropping the bits above it), and a logical shift right by 16-B
 * brings it down. The 8 bytes are loaded so that they END at p + B: a load never touches a byte after the block,
 * only up to 8-B bytes before it, which are always in memory (the heap starts above a reserved first page).
 */
// @ts-ignore: decorator
@inline export function pkUnpack8(B: i32, p: usize): v128 {
  if (B == 0) return i16x8.splat(0);
  if (B == 8) return v128.load8x8_u(p);
  const raw = v128.load64_zero(p - <usize>(8 - B));
  // swizzle lane indices are offset by 8-B (where the block starts inside `raw`); -1 selects zero
  if (B == 1) return i16x8.shr_u(i16x8.mul(i8x16.swizzle(raw, i8x16(7, -1, 7, -1, 7, -1, 7, -1, 7, -1, 7, -1, 7, -1, 7, -1)), i16x8(-32768, 16384, 8192, 4096, 2048, 1024, 512, 256)), 15);
  if (B == 2) return i16x8.shr_u(i16x8.mul(i8x16.swizzle(raw, i8x16(6, -1, 6, -1, 6, -1, 6, -1, 7, -1, 7, -1, 7, -1, 7, -1)), i16x8(16384, 4096, 1024, 256, 16384, 4096, 1024, 256)), 14);
  if (B == 3) return i16x8.shr_u(i16x8.mul(i8x16.swizzle(raw, i8x16(5, -1, 5, -1, 5, 6, 6, -1, 6, -1, 6, 7, 7, -1, 7, -1)), i16x8(8192, 1024, 128, 4096, 512, 64, 2048, 256)), 13);
  if (B == 4) return i16x8.shr_u(i16x8.mul(i8x16.swizzle(raw, i8x16(4, -1, 4, -1, 5, -1, 5, -1, 6, -1, 6, -1, 7, -1, 7, -1)), i16x8(4096, 256, 4096, 256, 4096, 256, 4096, 256)), 12);
  if (B == 5) return i16x8.shr_u(i16x8.mul(i8x16.swizzle(raw, i8x16(3, -1, 3, 4, 4, -1, 4, 5, 5, 6, 6, -1, 6, 7, 7, -1)), i16x8(2048, 64, 512, 16, 128, 1024, 32, 256)), 11);
  if (B == 6) return i16x8.shr_u(i16x8.mul(i8x16.swizzle(raw, i8x16(2, -1, 2, 3, 3, 4, 4, -1, 5, -1, 5, 6, 6, 7, 7, -1)), i16x8(1024, 16, 64, 256, 1024, 16, 64, 256)), 10);
  return i16x8.shr_u(i16x8.mul(i8x16.swizzle(raw, i8x16(1, -1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, -1)), i16x8(512, 4, 8, 16, 32, 64, 128, 256)), 9);
}

/** Code `index` of a stream of `bits`-bit codes starting at byte p (any width 0..8; reads only its own bytes). */
// @ts-ignore: decorator
@inline export function pkReadCode(p: usize, index: u32, bits: u32): u32 {
  if (bits == 0) return 0;
  const first = index * bits;
  const at = p + <usize>(first >> 3);
  const shift = first & 7;
  let window = <u32>load<u8>(at);
  if (shift + bits > 8) window |= <u32>load<u8>(at, 1) << 8;
  return (window >> shift) & ((1 << bits) - 1);
}

/** Integer codes of u16 lanes -> two f32x4 (lanes 0..3, 4..7); codes are < 2^15, so the signed widening is exact. */
// @ts-ignore: decorator
@inline export function pkCodesLowF32(codes: v128): v128 {
  return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(codes));
}

// @ts-ignore: decorator
@inline export function pkCodesHighF32(codes: v128): v128 {
  return f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(codes));
}
