/**
 * q8_0 / q4_0 weight blocks dotted with q8 activations (one block = 32 elements), shared by the quantized matvec and
 * matmul kernels; like floatWeights, `kind` is a constant at every call site and folds away.
 *
 * Block layouts (ggml):
 *   q8_0: 34 bytes = f16 scale d, then 32 int8 codes q[0..31];            value = d·q
 *   q4_0: 18 bytes = f16 scale d, then 16 bytes; byte j holds element j in its low nibble and element j+16 in its
 *         high nibble;                                                     value = d·(nibble - 8)
 * q8 activations of one token (see kernelExports.q8ActivationBytes): cols int8 codes, then cols/32 f32 scales.
 *
 * Integer dot: both sides are sign-extended to i16 (i16x8.extend_*_i8x16_s) and multiplied pairwise into i32 lanes
 * (i32x4.dot_i16x8_s); a block's sum is at most 32·128·128 = 2^19, exact in i32 and in f32. Relaxed SIMD's
 * i8 dot is not used: it returned wrong results on Node 20.
 */
import { f16ToF32, f16x4ToF32 } from "./f16";
import { hsumI32 } from "./reduce";

export const Q8_0: i32 = 0;
export const Q4_0: i32 = 1;

/** Bytes of one 32-element weight block. */
// @ts-ignore: decorator
@inline export function blockBytes(kind: i32): usize {
  return kind == Q8_0 ? 34 : 18;
}

/** The weight block's codes 0..15 as i8x16. */
// @ts-ignore: decorator
@inline export function codesLow(kind: i32, wb: usize): v128 {
  if (kind == Q8_0) return v128.load(wb, 2);
  return i8x16.sub(v128.and(v128.load(wb, 2), i8x16.splat(0x0f)), i8x16.splat(8));
}

/** The weight block's codes 16..31 as i8x16. */
// @ts-ignore: decorator
@inline export function codesHigh(kind: i32, wb: usize): v128 {
  if (kind == Q8_0) return v128.load(wb, 18);
  // a 16-bit shift moves each byte's high nibble down; the mask drops the bits that crossed from the next byte
  return i8x16.sub(v128.and(i16x8.shr_u(v128.load(wb, 2), 4), i8x16.splat(0x0f)), i8x16.splat(8));
}

/** i32x4 partial sums of Σ_j a[j]·x[j] for 32 codes each given as four i16x8 (elements 0-7, 8-15, 16-23, 24-31). */
// @ts-ignore: decorator
@inline export function dotExtended(a0: v128, a1: v128, a2: v128, a3: v128, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  let s = i32x4.dot_i16x8_s(a0, x0);
  s = i32x4.add(s, i32x4.dot_i16x8_s(a1, x1));
  s = i32x4.add(s, i32x4.dot_i16x8_s(a2, x2));
  return i32x4.add(s, i32x4.dot_i16x8_s(a3, x3));
}

/**
 * i32x4 partial sums of Σ_j q_w[j]·q_x[j] over the weight block at wb; x0..x3: the block's activation codes as
 * i16x8 (extended once by the caller and reused for several rows).
 */
// @ts-ignore: decorator
@inline export function blockDot(kind: i32, wb: usize, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const low = codesLow(kind, wb);
  const high = codesHigh(kind, wb);
  return dotExtended(
    i16x8.extend_low_i8x16_s(low), i16x8.extend_high_i8x16_s(low),
    i16x8.extend_low_i8x16_s(high), i16x8.extend_high_i8x16_s(high),
    x0, x1, x2, x3,
  );
}

/** The f16 scale of the weight block at wb. */
// @ts-ignore: decorator
@inline export function blockScale(wb: usize): f32 {
  return f16ToF32(<u32>load<u16>(wb));
}

/** The f16 scales of four weight blocks as f32x4. */
// @ts-ignore: decorator
@inline export function blockScales4(b0: usize, b1: usize, b2: usize, b3: usize): v128 {
  let halves = i32x4.splat(<i32>load<u16>(b0));
  halves = i32x4.replace_lane(halves, 1, <i32>load<u16>(b1));
  halves = i32x4.replace_lane(halves, 2, <i32>load<u16>(b2));
  halves = i32x4.replace_lane(halves, 3, <i32>load<u16>(b3));
  return f16x4ToF32(halves);
}

/** Σ_c W[c]·x[c] of one quantized weight row against one token's q8 activations xq (scales at xq + cols). */
// @ts-ignore: decorator
@inline export function dotQuantRow(kind: i32, w: usize, xq: usize, cols: i32): f32 {
  const bb = blockBytes(kind);
  const scales = xq + <usize>cols;
  const blocks = cols >> 5;
  let acc: f32 = 0;
  for (let b = 0; b < blocks; b++) {
    const xp = xq + (<usize>b << 5);
    const xa = v128.load(xp);
    const xb = v128.load(xp, 16);
    const wb = w + <usize>b * bb;
    const s = blockDot(kind, wb, i16x8.extend_low_i8x16_s(xa), i16x8.extend_high_i8x16_s(xa),
      i16x8.extend_low_i8x16_s(xb), i16x8.extend_high_i8x16_s(xb));
    acc += <f32>hsumI32(s) * (blockScale(wb) * load<f32>(scales + (<usize>b << 2)));
  }
  return acc;
}
