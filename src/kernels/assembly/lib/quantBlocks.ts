/**
 * q8_0 / q4_0 weight blocks dotted with q8_0 activations (one block = 32 elements), shared by the quantized matvec and
 * matmul kernels; like floatWeights, `kind` is a constant at every call site and folds away.
 *
 * Block layouts (ggml):
 *   q8_0: 34 bytes = f16 scale d, then 32 int8 codes q[0..31];            value = d·q
 *   q4_0: 18 bytes = f16 scale d, then 16 bytes; byte j holds element j in its low nibble and element j+16 in its
 *         high nibble;                                                     value = d·(nibble - 8)
 * q8_0 activations of one token (see kernelExports.q8_0ActivationBytes): cols int8 codes, then cols/32 f32 scales
 * (llama.cpp's f16 block scales, held as f32).
 *
 * Weight matrices are read in the interleaved layout (rewritten in place at load by weightLayout.ts): every whole
 * group of 4 rows keeps its 4·rowBytes bytes but orders them block by block,
 *   group block b = [d of row 0, 1, 2, 3 as f16: 8 bytes][codes of row 0][row 1][row 2][row 3]
 * (codes: 32 bytes q8_0, 16 bytes q4_0; group block = 136 / 72 bytes). A 4-row decode pass then reads one
 * sequential stream: measured 18.4 GB/s from DRAM against 6.6 GB/s for four plain rows read side by side (the
 * hardware prefetcher loses track of four interleaved 34-byte-block streams). Rows after the last whole group
 * (rows % 4 of them) keep the plain layout, at their plain place r·rowBytes.
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

/** Bytes of one block's codes. */
// @ts-ignore: decorator
@inline export function codeBytes(kind: i32): usize {
  return kind == Q8_0 ? 32 : 16;
}

/** Bytes of one block of an interleaved group of 4 rows: 4 f16 scales, then 4 rows' codes. */
// @ts-ignore: decorator
@inline export function groupBlockBytes(kind: i32): usize {
  return 8 + (codeBytes(kind) << 2);
}

/** Codes 0..15 of the block whose codes start at `codes`, as i8x16. */
// @ts-ignore: decorator
@inline export function codesLow(kind: i32, codes: usize): v128 {
  if (kind == Q8_0) return v128.load(codes);
  return i8x16.sub(v128.and(v128.load(codes), i8x16.splat(0x0f)), i8x16.splat(8));
}

/** Codes 16..31 of the block whose codes start at `codes`, as i8x16. */
// @ts-ignore: decorator
@inline export function codesHigh(kind: i32, codes: usize): v128 {
  if (kind == Q8_0) return v128.load(codes, 16);
  // a 16-bit shift moves each byte's high nibble down; the mask drops the bits that crossed from the next byte
  return i8x16.sub(v128.and(i16x8.shr_u(v128.load(codes), 4), i8x16.splat(0x0f)), i8x16.splat(8));
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
 * i32x4 partial sums of Σ_j q_w[j]·q_x[j] over the block whose codes start at `codes`; x0..x3: the block's
 * activation codes as i16x8 (extended once by the caller and reused for several rows).
 */
// @ts-ignore: decorator
@inline export function blockDot(kind: i32, codes: usize, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const low = codesLow(kind, codes);
  const high = codesHigh(kind, codes);
  return dotExtended(
    i16x8.extend_low_i8x16_s(low), i16x8.extend_high_i8x16_s(low),
    i16x8.extend_low_i8x16_s(high), i16x8.extend_high_i8x16_s(high),
    x0, x1, x2, x3,
  );
}

/** The four f16 scales at p (an interleaved group block) as f32x4. */
// @ts-ignore: decorator
@inline export function groupScales(p: usize): v128 {
  return f16x4ToF32(v128.load16x4_u(p));
}

/**
 * Σ_c W[r,c]·x[c] of weight row r against one token's q8_0 activations xq (scales at xq + cols), in either layout:
 * rows inside a whole group are read across the group's blocks, the others as plain rows.
 */
// @ts-ignore: decorator
@inline export function dotQuantRow(kind: i32, w: usize, r: i32, rows: i32, xq: usize, cols: i32): f32 {
  const blocks = cols >> 5;
  const rowBytes = <usize>blocks * blockBytes(kind);
  let scale: usize, codes: usize, step: usize;
  if (r < (rows & ~3)) {
    const lane = <usize>(r & 3);
    const group = w + <usize>(r >> 2) * (rowBytes << 2);
    scale = group + (lane << 1);
    codes = group + 8 + lane * codeBytes(kind);
    step = groupBlockBytes(kind);
  } else {
    scale = w + <usize>r * rowBytes;
    codes = scale + 2;
    step = blockBytes(kind);
  }
  const xScales = xq + <usize>cols;
  let acc: f32 = 0;
  for (let b = 0; b < blocks; b++) {
    const xa = v128.load(xq + (<usize>b << 5));
    const xb = v128.load(xq + (<usize>b << 5), 16);
    const s = blockDot(kind, codes, i16x8.extend_low_i8x16_s(xa), i16x8.extend_high_i8x16_s(xa),
      i16x8.extend_low_i8x16_s(xb), i16x8.extend_high_i8x16_s(xb));
    acc += <f32>hsumI32(s) * (f16ToF32(<u32>load<u16>(scale)) * load<f32>(xScales + (<usize>b << 2)));
    scale += step;
    codes += step;
  }
  return acc;
}
