/**
 * Prefill matmul for Q4_K / Q5_K / Q6_K weights in their stored super-blocks: out[t, r] = Σ_c W[r,c]·x[t,c] for weight
 * rows r in [begin, end). w: [rows, cols/256] super-blocks, whole groups of 4 rows interleaved (lib/kQuantBlocks);
 * xq: [nTok, q8KActivationBytes(cols)] (q8_k activations); out: [nTok, rows] f32; cols % 256 == 0.
 *
 * Register tile: 4 weight rows x 4 tokens, as matmulQuant.ts. Per activation block jb the four tokens' codes are
 * extended once for the four rows, and each row's codes are decoded once for the four tokens (Q6_K's codes are
 * multiplied by their sub-block scale in i16 here: |sc·(q-32)| <= 128·32 fits), so the per-row decode work is shared
 * by four dot products. Each row's four token sums are reduced into one i32x4, multiplied by sc_j and summed over
 * the super-block in integers; per super-block the row's (d·dx_t)·Σ minus (dmin·dx_t)·Σ_j m_j·S_t,j (lib/kQuantBlocks)
 * goes into the f32 accumulator. Rows outside whole groups use the single-row dot, leftover tokens
 * (nTok % 4) the matvec kernel.
 */
import { Q4_K, Q5_K, Q6_K, XK_BLOCK, XK_D, XK_SUMS, codes8, dotKRow, gatherF16x4, kBlockBytes, scaleOrMin, unpackScalesMins16 } from "./lib/kQuantBlocks";
import { hsum4I32 } from "./lib/reduce";
import { matvec_q4_k, matvec_q5_k, matvec_q6_k } from "./matvecKQuant";

/** Tokens whose activations are reused from cache across all row groups of a slice. */
const TOKEN_CHUNK = 32;

export function matmul_q4_k(begin: i32, end: i32, w: usize, xq: usize, out: usize, cols: i32, rows: i32, nTok: i32): void {
  matmulK(Q4_K, begin, end, w, xq, out, cols, rows, nTok);
}

export function matmul_q5_k(begin: i32, end: i32, w: usize, xq: usize, out: usize, cols: i32, rows: i32, nTok: i32): void {
  matmulK(Q5_K, begin, end, w, xq, out, cols, rows, nTok);
}

export function matmul_q6_k(begin: i32, end: i32, w: usize, xq: usize, out: usize, cols: i32, rows: i32, nTok: i32): void {
  matmulK(Q6_K, begin, end, w, xq, out, cols, rows, nTok);
}

// @ts-ignore: decorator
@inline function matmulK(kind: i32, begin: i32, end: i32, w: usize, xq: usize, out: usize, cols: i32, rows: i32, nTok: i32): void {
  const rowBytes = <usize>(cols >> 8) * kBlockBytes(kind);
  const tokenBytes = <usize>(cols >> 8) * XK_BLOCK; // q8KActivationBytes(cols)
  const outRowBytes = <usize>rows << 2;
  const tiledTokens = nTok & ~3;
  const groupedEnd = min(end, rows & ~3);
  for (let t0 = 0; t0 < tiledTokens; t0 += TOKEN_CHUNK) {
    const t1 = min(t0 + TOKEN_CHUNK, tiledTokens);
    let r = begin;
    for (; r < groupedEnd && (r & 3) != 0; r++) singleRow(kind, w, r, rows, xq, tokenBytes, out, outRowBytes, cols, t0, t1);
    for (; r + 4 <= groupedEnd; r += 4) {
      for (let t = t0; t < t1; t += 4) {
        tileK(kind, w + <usize>r * rowBytes, xq + <usize>t * tokenBytes, tokenBytes, out + <usize>t * outRowBytes + (<usize>r << 2), outRowBytes, cols);
      }
    }
    for (; r < end; r++) singleRow(kind, w, r, rows, xq, tokenBytes, out, outRowBytes, cols, t0, t1);
  }
  for (let t = tiledTokens; t < nTok; t++) {
    const xt = xq + <usize>t * tokenBytes;
    const outT = out + <usize>t * outRowBytes;
    if (kind == Q4_K) matvec_q4_k(begin, end, w, xt, outT, cols, rows);
    else if (kind == Q5_K) matvec_q5_k(begin, end, w, xt, outT, cols, rows);
    else matvec_q6_k(begin, end, w, xt, outT, cols, rows);
  }
}

// @ts-ignore: decorator
@inline function singleRow(kind: i32, w: usize, r: i32, rows: i32, xq: usize, tokenBytes: usize, out: usize, outRowBytes: usize, cols: i32, t0: i32, t1: i32): void {
  for (let t = t0; t < t1; t++) {
    store<f32>(out + <usize>t * outRowBytes + (<usize>r << 2), dotKRow(kind, w, r, rows, xq + <usize>t * tokenBytes, cols));
  }
}

/** The interleaved group at g (rows k < 4) x tokens xq + j·tokenBytes (j < 4); writes out[j·rows + k]. */
// @ts-ignore: decorator
@inline function tileK(kind: i32, g: usize, xq: usize, tokenBytes: usize, out: usize, outRowBytes: usize, cols: i32): void {
  const bb = kBlockBytes(kind);
  const xq1 = xq + tokenBytes;
  const xq2 = xq1 + tokenBytes;
  const xq3 = xq2 + tokenBytes;
  let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0), acc2 = f32x4.splat(0), acc3 = f32x4.splat(0);
  let b0 = g;
  for (let sb = 0; sb < (cols >> 8); sb++) {
    const xo = <usize>sb * XK_BLOCK;
    // integer sums per row (lanes: tokens 0..3)
    let i0 = i32x4.splat(0), i1 = i32x4.splat(0), i2 = i32x4.splat(0), i3 = i32x4.splat(0);
    for (let jb = 0; jb < 8; jb++) {
      const bo = xo + (<usize>jb << 5);
      let v = v128.load(xq + bo);
      const t00 = i16x8.extend_low_i8x16_s(v), t01 = i16x8.extend_high_i8x16_s(v);
      v = v128.load(xq + bo, 16);
      const t02 = i16x8.extend_low_i8x16_s(v), t03 = i16x8.extend_high_i8x16_s(v);
      v = v128.load(xq1 + bo);
      const t10 = i16x8.extend_low_i8x16_s(v), t11 = i16x8.extend_high_i8x16_s(v);
      v = v128.load(xq1 + bo, 16);
      const t12 = i16x8.extend_low_i8x16_s(v), t13 = i16x8.extend_high_i8x16_s(v);
      v = v128.load(xq2 + bo);
      const t20 = i16x8.extend_low_i8x16_s(v), t21 = i16x8.extend_high_i8x16_s(v);
      v = v128.load(xq2 + bo, 16);
      const t22 = i16x8.extend_low_i8x16_s(v), t23 = i16x8.extend_high_i8x16_s(v);
      v = v128.load(xq3 + bo);
      const t30 = i16x8.extend_low_i8x16_s(v), t31 = i16x8.extend_high_i8x16_s(v);
      v = v128.load(xq3 + bo, 16);
      const t32 = i16x8.extend_low_i8x16_s(v), t33 = i16x8.extend_high_i8x16_s(v);
      i0 = i32x4.add(i0, rowTile(kind, b0, jb, t00, t01, t02, t03, t10, t11, t12, t13, t20, t21, t22, t23, t30, t31, t32, t33));
      i1 = i32x4.add(i1, rowTile(kind, b0 + bb, jb, t00, t01, t02, t03, t10, t11, t12, t13, t20, t21, t22, t23, t30, t31, t32, t33));
      i2 = i32x4.add(i2, rowTile(kind, b0 + 2 * bb, jb, t00, t01, t02, t03, t10, t11, t12, t13, t20, t21, t22, t23, t30, t31, t32, t33));
      i3 = i32x4.add(i3, rowTile(kind, b0 + 3 * bb, jb, t00, t01, t02, t03, t10, t11, t12, t13, t20, t21, t22, t23, t30, t31, t32, t33));
    }
    let dx = f32x4.splat(load<f32>(xq + xo + XK_D));
    dx = f32x4.replace_lane(dx, 1, load<f32>(xq1 + xo + XK_D));
    dx = f32x4.replace_lane(dx, 2, load<f32>(xq2 + xo + XK_D));
    dx = f32x4.replace_lane(dx, 3, load<f32>(xq3 + xo + XK_D));
    const d = gatherF16x4(b0 + (kind == Q6_K ? 208 : 0), bb);
    acc0 = f32x4.add(acc0, f32x4.mul(f32x4.convert_i32x4_s(i0), f32x4.mul(v128.shuffle<f32>(d, d, 0, 0, 0, 0), dx)));
    acc1 = f32x4.add(acc1, f32x4.mul(f32x4.convert_i32x4_s(i1), f32x4.mul(v128.shuffle<f32>(d, d, 1, 1, 1, 1), dx)));
    acc2 = f32x4.add(acc2, f32x4.mul(f32x4.convert_i32x4_s(i2), f32x4.mul(v128.shuffle<f32>(d, d, 2, 2, 2, 2), dx)));
    acc3 = f32x4.add(acc3, f32x4.mul(f32x4.convert_i32x4_s(i3), f32x4.mul(v128.shuffle<f32>(d, d, 3, 3, 3, 3), dx)));
    if (kind != Q6_K) {
      const s0 = v128.load(xq + xo + XK_SUMS), s1 = v128.load(xq1 + xo + XK_SUMS);
      const s2 = v128.load(xq2 + xo + XK_SUMS), s3 = v128.load(xq3 + xo + XK_SUMS);
      const dmin = gatherF16x4(b0 + 2, bb);
      acc0 = f32x4.sub(acc0, minTerm(b0, v128.shuffle<f32>(dmin, dmin, 0, 0, 0, 0), dx, s0, s1, s2, s3));
      acc1 = f32x4.sub(acc1, minTerm(b0 + bb, v128.shuffle<f32>(dmin, dmin, 1, 1, 1, 1), dx, s0, s1, s2, s3));
      acc2 = f32x4.sub(acc2, minTerm(b0 + 2 * bb, v128.shuffle<f32>(dmin, dmin, 2, 2, 2, 2), dx, s0, s1, s2, s3));
      acc3 = f32x4.sub(acc3, minTerm(b0 + 3 * bb, v128.shuffle<f32>(dmin, dmin, 3, 3, 3, 3), dx, s0, s1, s2, s3));
    }
    b0 += bb << 2;
  }
  // transpose (rows x tokens -> tokens x rows) so each token's four outputs go out in one store
  const lo01 = v128.shuffle<f32>(acc0, acc1, 0, 4, 1, 5);
  const hi01 = v128.shuffle<f32>(acc0, acc1, 2, 6, 3, 7);
  const lo23 = v128.shuffle<f32>(acc2, acc3, 0, 4, 1, 5);
  const hi23 = v128.shuffle<f32>(acc2, acc3, 2, 6, 3, 7);
  v128.store(out, v128.shuffle<f32>(lo01, lo23, 0, 1, 4, 5));
  v128.store(out + outRowBytes, v128.shuffle<f32>(lo01, lo23, 2, 3, 6, 7));
  v128.store(out + 2 * outRowBytes, v128.shuffle<f32>(hi01, hi23, 0, 1, 4, 5));
  v128.store(out + 3 * outRowBytes, v128.shuffle<f32>(hi01, hi23, 2, 3, 6, 7));
}

/** One row's (dx·dmin)·Σ_j m_j·S_j for four tokens (sums s0..s3: each token's 8 sub-block sums, i16). */
// @ts-ignore: decorator
@inline function minTerm(blk: usize, dmin: v128, dx: v128, s0: v128, s1: v128, s2: v128, s3: v128): v128 {
  const m = i16x8.extend_high_i8x16_u(unpackScalesMins16(blk));
  const mins = hsum4I32(i32x4.dot_i16x8_s(m, s0), i32x4.dot_i16x8_s(m, s1), i32x4.dot_i16x8_s(m, s2), i32x4.dot_i16x8_s(m, s3));
  return f32x4.mul(f32x4.convert_i32x4_s(mins), f32x4.mul(dmin, dx));
}

/**
 * One row's block jb (codes decoded once) against four tokens: i32x4 over the tokens of sc_j·Σ q·c_t
 * (Q6_K: Σ sc·(q-32)·c_t, the codes multiplied by their sub-block scale in i16: |sc·(q-32)| <= 128·32 fits).
 */
// @ts-ignore: decorator
@inline function rowTile(
  kind: i32, blk: usize, jb: i32,
  t00: v128, t01: v128, t02: v128, t03: v128, t10: v128, t11: v128, t12: v128, t13: v128,
  t20: v128, t21: v128, t22: v128, t23: v128, t30: v128, t31: v128, t32: v128, t33: v128,
): v128 {
  let a0 = codes8(kind, blk, jb, 0), a1 = codes8(kind, blk, jb, 1), a2 = codes8(kind, blk, jb, 2), a3 = codes8(kind, blk, jb, 3);
  if (kind == Q6_K) {
    const scales = blk + 192 + <usize>(jb << 1);
    const first = i16x8.splat(<i16>load<i8>(scales));
    const second = i16x8.splat(<i16>load<i8>(scales, 1));
    a0 = i16x8.mul(a0, first);
    a1 = i16x8.mul(a1, first);
    a2 = i16x8.mul(a2, second);
    a3 = i16x8.mul(a3, second);
  }
  const sums = hsum4I32(
    dot4(a0, a1, a2, a3, t00, t01, t02, t03),
    dot4(a0, a1, a2, a3, t10, t11, t12, t13),
    dot4(a0, a1, a2, a3, t20, t21, t22, t23),
    dot4(a0, a1, a2, a3, t30, t31, t32, t33),
  );
  return kind == Q6_K ? sums : i32x4.mul(sums, i32x4.splat(scaleOrMin(blk, jb)));
}

// @ts-ignore: decorator
@inline function dot4(a0: v128, a1: v128, a2: v128, a3: v128, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  let s = i32x4.dot_i16x8_s(a0, x0);
  s = i32x4.add(s, i32x4.dot_i16x8_s(a1, x1));
  s = i32x4.add(s, i32x4.dot_i16x8_s(a2, x2));
  return i32x4.add(s, i32x4.dot_i16x8_s(a3, x3));
}
