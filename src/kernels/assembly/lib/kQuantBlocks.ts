/**
 * Q4_K / Q5_K / Q6_K super-blocks (256 values; byte layouts in format/gguf/kQuants.ts) dotted with q8_k activations,
 * shared by the K-quant matvec and matmul kernels; `kind` and the block index `jb` are constants at every call site
 * (the callers unroll), so the branches fold away.
 *
 * The activations are llama.cpp's Q8_K (quantize_act_q8_k): per super-block of 256 values int8 codes c, one f32
 * scale dx and the sums S_j of the codes of each 32-value sub-block j. A super-block's dot product is then one
 * integer sum per weight row and two f32 products, as ggml's vec_dot_q*_K_q8_K computes it:
 *   Q4_K/Q5_K:  Σ_i w_i·x_i = (dx·d)·Σ_j sc_j·Σ_{i∈j} q_i·c_i - (dx·dmin)·Σ_j m_j·S_j      (q in 0..15 / 0..31)
 *   Q6_K:       Σ_i w_i·x_i = (dx·d)·Σ_{j<16} sc_j·Σ_{i∈j} (q_i-32)·c_i                   (sub-blocks of 16)
 * The integer sums are exact in i32 (|Σ| <= 8·63·32·31·127 for Q5_K, 16·128·16·32·127 for Q6_K). Codes are read 8
 * at a time straight into i16 lanes (v128.load8x8_u, then a mask or shift picks the nibble) and multiplied pairwise
 * with the sign-extended activations by i32x4.dot_i16x8_s.
 *
 * Matrices are read with whole groups of 4 rows interleaved super-block by super-block (the 4 rows' blocks of
 * super-block sb one after another at group + sb·4·blockBytes; interleave_rows_q*_k), so a 4-row pass streams one
 * sequence of bytes as the q8_0 kernels do; rows after the last whole group stay plain.
 */
import { f16ToF32, f16x4ToF32 } from "./f16";
import { hsumI32 } from "./reduce";

export const Q4_K: i32 = 0;
export const Q5_K: i32 = 1;
export const Q6_K: i32 = 2;

/** Bytes of one q8_k activation super-block, and the offsets of its i16 sub-block sums and its f32 scale. */
export const XK_BLOCK: usize = 288;
export const XK_SUMS: usize = 256;
export const XK_D: usize = 272;

// @ts-ignore: decorator
@inline export function kBlockBytes(kind: i32): usize {
  return kind == Q4_K ? 144 : kind == Q5_K ? 176 : 210;
}

/** Offset of the f16 super-block scale d in a block. */
// @ts-ignore: decorator
@inline function dOffset(kind: i32): usize {
  return kind == Q6_K ? 208 : 0;
}

/** i16x8 codes of values 32·jb + 8·p .. 32·jb + 8·p + 7 of the block at blk (Q6_K: q - 32, so -32..31). */
// @ts-ignore: decorator
@inline export function codes8(kind: i32, blk: usize, jb: i32, p: i32): v128 {
  if (kind == Q6_K) {
    const n = <usize>(jb >> 2);
    const i = jb & 3;
    const low = v128.load8x8_u(blk + (n << 6) + <usize>((i & 1) << 5) + <usize>(p << 3));
    const nibble = i < 2 ? v128.and(low, i16x8.splat(15)) : i16x8.shr_u(low, 4);
    const qh = v128.load8x8_u(blk + 128 + (n << 5) + <usize>(p << 3));
    const high = i16x8.shl(v128.and(i16x8.shr_u(qh, 2 * i), i16x8.splat(3)), 4);
    return i16x8.sub(v128.or(nibble, high), i16x8.splat(32));
  }
  const qs = blk + (kind == Q5_K ? 48 : 16) + <usize>((jb >> 1) << 5) + <usize>(p << 3);
  const bytes = v128.load8x8_u(qs);
  const q = jb & 1 ? i16x8.shr_u(bytes, 4) : v128.and(bytes, i16x8.splat(15));
  if (kind == Q4_K) return q;
  // bit jb of qh[l] is bit 4 of the code: (qh << 4) >> jb, masked to 16
  const qh = v128.load8x8_u(blk + 16 + <usize>(p << 3));
  return v128.or(q, v128.and(i16x8.shr_u(i16x8.shl(qh, 4), jb), i16x8.splat(16)));
}

/**
 * Integer partial sums (i32x4) of one row's block jb against the block's extended activation codes x0..x3 (values
 * 0-7, 8-15, 16-23, 24-31). Q6_K: each half already multiplied by its sub-block scale.
 */
// @ts-ignore: decorator
@inline export function blockDotK(kind: i32, blk: usize, jb: i32, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const a = i32x4.add(i32x4.dot_i16x8_s(codes8(kind, blk, jb, 0), x0), i32x4.dot_i16x8_s(codes8(kind, blk, jb, 1), x1));
  const b = i32x4.add(i32x4.dot_i16x8_s(codes8(kind, blk, jb, 2), x2), i32x4.dot_i16x8_s(codes8(kind, blk, jb, 3), x3));
  if (kind != Q6_K) return i32x4.add(a, b);
  const scales = blk + 192 + <usize>(jb << 1);
  return i32x4.add(i32x4.mul(a, i32x4.splat(<i32>load<i8>(scales))), i32x4.mul(b, i32x4.splat(<i32>load<i8>(scales, 1))));
}

/** Q4_K/Q5_K: the 6-bit scale (min: j + 8) j of the block at blk (ggml's get_scale_min_k4), scalar. */
// @ts-ignore: decorator
@inline export function scaleOrMin(blk: usize, j: i32): i32 {
  const s = blk + 4;
  if (j < 4) return <i32>load<u8>(s + <usize>j) & 63;
  if (j < 8) return (<i32>load<u8>(s + <usize>j + 4) & 15) | ((<i32>load<u8>(s + <usize>j - 4) >> 6) << 4);
  if (j < 12) return <i32>load<u8>(s + <usize>j - 4) & 63;
  return (<i32>load<u8>(s + <usize>j - 4) >> 4) | ((<i32>load<u8>(s + <usize>j - 8) >> 6) << 4);
}

/**
 * Σ_c W[r,c]·x[c] for one row whose super-blocks start at `first` and follow each other every `stride` bytes (a plain
 * row: stride = blockBytes; a row inside an interleaved group: 4·blockBytes), against one token's q8_k activations.
 */
export function rowDotK(kind: i32, first: usize, stride: usize, xq: usize, cols: i32): f32 {
  let acc: f32 = 0;
  let blk = first;
  for (let sb = 0; sb < (cols >> 8); sb++) {
    const xs = xq + <usize>sb * XK_BLOCK;
    let isum = i32x4.splat(0);
    for (let jb = 0; jb < 8; jb++) {
      const xp = xs + (<usize>jb << 5);
      const xa = v128.load(xp);
      const xc = v128.load(xp, 16);
      const part = blockDotK(kind, blk, jb, i16x8.extend_low_i8x16_s(xa), i16x8.extend_high_i8x16_s(xa),
        i16x8.extend_low_i8x16_s(xc), i16x8.extend_high_i8x16_s(xc));
      isum = i32x4.add(isum, kind == Q6_K ? part : i32x4.mul(part, i32x4.splat(scaleOrMin(blk, jb))));
    }
    const dx = load<f32>(xs + XK_D);
    const d = f16ToF32(<u32>load<u16>(blk + dOffset(kind)));
    acc += <f32>hsumI32(isum) * (dx * d);
    if (kind != Q6_K) {
      let mins = 0;
      for (let j = 0; j < 8; j++) mins += scaleOrMin(blk, j + 8) * <i32>load<i16>(xs + XK_SUMS + (<usize>j << 1));
      acc -= <f32>mins * (dx * f16ToF32(<u32>load<u16>(blk, 2)));
    }
    blk += stride;
  }
  return acc;
}

/** Σ_c W[r,c]·x[c] of weight row r (either layout) against one token's activations. */
// @ts-ignore: decorator
@inline export function dotKRow(kind: i32, w: usize, r: i32, rows: i32, xq: usize, cols: i32): f32 {
  const bb = kBlockBytes(kind);
  const rowBytes = <usize>(cols >> 8) * bb;
  if (r < (rows & ~3)) {
    const group = w + <usize>(r >> 2) * (rowBytes << 2);
    return rowDotK(kind, group + <usize>(r & 3) * bb, bb << 2, xq, cols);
  }
  return rowDotK(kind, w + <usize>r * rowBytes, bb, xq, cols);
}

/** The f16 at p + k·stride for k < 4, as f32x4 (the four rows' d or dmin of a group's super-block). */
// @ts-ignore: decorator
@inline export function gatherF16x4(p: usize, stride: usize): v128 {
  let h = i32x4.splat(<i32>load<u16>(p));
  h = i32x4.replace_lane(h, 1, <i32>load<u16>(p + stride));
  h = i32x4.replace_lane(h, 2, <i32>load<u16>(p + 2 * stride));
  h = i32x4.replace_lane(h, 3, <i32>load<u16>(p + 3 * stride));
  return f16x4ToF32(h);
}

/**
 * Q4_K/Q5_K: a block's 12 packed scale bytes (at blk + 4) unpacked with SIMD to 16 bytes [sc_0..sc_7, m_0..m_7]
 * (the same formula as scaleOrMin, for all 16 lanes at once).
 */
// @ts-ignore: decorator
@inline export function unpackScalesMins16(blk: usize): v128 {
  const b = v128.load(blk, 4); // 12 scale bytes + the first 4 code bytes, which no lane below selects
  const p = v128.shuffle<u8>(b, b, 0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11);
  const q = v128.shuffle<u8>(b, b, 0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 4, 5, 6, 7);
  // (q >> 6) << 4 per byte: keep bits 6-7, then a 16-bit shift by 2 (the masked bits cannot cross bytes)
  const top = i16x8.shr_u(v128.and(q, i8x16.splat(<i8>0xc0)), 2);
  const nibbleLow = v128.and(p, i8x16.splat(15));
  const nibbleHigh = v128.and(i16x8.shr_u(p, 4), i8x16.splat(15));
  // lanes 4-7 take the low nibble, 12-15 the high one; both get the top bits
  const upper = v128.or(v128.bitselect(nibbleLow, nibbleHigh, i32x4(0, -1, 0, 0)), top);
  return v128.bitselect(v128.and(p, i8x16.splat(63)), upper, i32x4(-1, 0, -1, 0));
}
