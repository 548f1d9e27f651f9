/**
 * Prefill matmul for Q4_K / Q5_K / Q6_K weights in their stored super-blocks: out[t, r] = Σ_c W[r,c]·x[t,c] for weight
 * rows r in [begin, end). w: [rows, cols/256] super-blocks, whole groups of 4 rows interleaved (lib/kQuantBlocks);
 * xq: [nTok, q8ActivationBytes(cols)]; out: [nTok, rows] f32; cols % 256 == 0.
 *
 * Register tile: 4 weight rows x 4 tokens, as matmulQuant.ts. Per activation block jb the four tokens' codes are
 * extended once for the four rows, and each row's codes are decoded once for the four tokens (Q6_K's codes are
 * multiplied by their sub-block scale in i16 here: |sc·(q-32)| <= 128·32 fits), so the per-row decode work is shared
 * by four dot products. Each row's four token sums are reduced into one i32x4 and scaled by (d·sc_j)_row·[sx_t],
 * minus (dmin·m_j)_row·[S_t] for the mins. Rows outside whole groups use the single-row dot, leftover tokens
 * (nTok % 4) the matvec kernel.
 */
import { Q4_K, Q5_K, Q6_K, codes8, dotKRow, gatherF16x4, kBlockBytes, scaleOrMin } from "./lib/kQuantBlocks";
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
  const tokenBytes = <usize>cols + (<usize>cols >> 2); // q8ActivationBytes(cols)
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
  const scalesAt = <usize>cols;
  const sumsAt = scalesAt + (<usize>(cols >> 5) << 2);
  const xq1 = xq + tokenBytes;
  const xq2 = xq1 + tokenBytes;
  const xq3 = xq2 + tokenBytes;
  let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0), acc2 = f32x4.splat(0), acc3 = f32x4.splat(0);
  let b0 = g;
  for (let sb = 0; sb < (cols >> 8); sb++) {
    const d = gatherF16x4(b0 + (kind == Q6_K ? 208 : 0), bb);
    const dmin = kind == Q6_K ? f32x4.splat(0) : gatherF16x4(b0 + 2, bb);
    for (let jb = 0; jb < 8; jb++) {
      const b = (sb << 3) + jb;
      const xo = <usize>b << 5;
      let v = v128.load(xq + xo);
      const t00 = i16x8.extend_low_i8x16_s(v), t01 = i16x8.extend_high_i8x16_s(v);
      v = v128.load(xq + xo, 16);
      const t02 = i16x8.extend_low_i8x16_s(v), t03 = i16x8.extend_high_i8x16_s(v);
      v = v128.load(xq1 + xo);
      const t10 = i16x8.extend_low_i8x16_s(v), t11 = i16x8.extend_high_i8x16_s(v);
      v = v128.load(xq1 + xo, 16);
      const t12 = i16x8.extend_low_i8x16_s(v), t13 = i16x8.extend_high_i8x16_s(v);
      v = v128.load(xq2 + xo);
      const t20 = i16x8.extend_low_i8x16_s(v), t21 = i16x8.extend_high_i8x16_s(v);
      v = v128.load(xq2 + xo, 16);
      const t22 = i16x8.extend_low_i8x16_s(v), t23 = i16x8.extend_high_i8x16_s(v);
      v = v128.load(xq3 + xo);
      const t30 = i16x8.extend_low_i8x16_s(v), t31 = i16x8.extend_high_i8x16_s(v);
      v = v128.load(xq3 + xo, 16);
      const t32 = i16x8.extend_low_i8x16_s(v), t33 = i16x8.extend_high_i8x16_s(v);
      const so = <usize>b << 2;
      let sx = f32x4.splat(load<f32>(xq + scalesAt + so));
      sx = f32x4.replace_lane(sx, 1, load<f32>(xq1 + scalesAt + so));
      sx = f32x4.replace_lane(sx, 2, load<f32>(xq2 + scalesAt + so));
      sx = f32x4.replace_lane(sx, 3, load<f32>(xq3 + scalesAt + so));
      let ss = f32x4.splat(0);
      if (kind != Q6_K) {
        ss = f32x4.splat(load<f32>(xq + sumsAt + so));
        ss = f32x4.replace_lane(ss, 1, load<f32>(xq1 + sumsAt + so));
        ss = f32x4.replace_lane(ss, 2, load<f32>(xq2 + sumsAt + so));
        ss = f32x4.replace_lane(ss, 3, load<f32>(xq3 + sumsAt + so));
      }
      acc0 = f32x4.add(acc0, rowTile(kind, b0, jb, f32x4.extract_lane(d, 0), f32x4.extract_lane(dmin, 0), sx, ss,
        t00, t01, t02, t03, t10, t11, t12, t13, t20, t21, t22, t23, t30, t31, t32, t33));
      acc1 = f32x4.add(acc1, rowTile(kind, b0 + bb, jb, f32x4.extract_lane(d, 1), f32x4.extract_lane(dmin, 1), sx, ss,
        t00, t01, t02, t03, t10, t11, t12, t13, t20, t21, t22, t23, t30, t31, t32, t33));
      acc2 = f32x4.add(acc2, rowTile(kind, b0 + 2 * bb, jb, f32x4.extract_lane(d, 2), f32x4.extract_lane(dmin, 2), sx, ss,
        t00, t01, t02, t03, t10, t11, t12, t13, t20, t21, t22, t23, t30, t31, t32, t33));
      acc3 = f32x4.add(acc3, rowTile(kind, b0 + 3 * bb, jb, f32x4.extract_lane(d, 3), f32x4.extract_lane(dmin, 3), sx, ss,
        t00, t01, t02, t03, t10, t11, t12, t13, t20, t21, t22, t23, t30, t31, t32, t33));
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

/**
 * One row's block jb (codes decoded once) against four tokens: f32x4 over the tokens of
 * (d·sc_j)·sx_t·Σ q·c_t - (dmin·m_j)·S_t (Q6_K: d·sx_t·Σ sc·(q-32)·c_t).
 */
// @ts-ignore: decorator
@inline function rowTile(
  kind: i32, blk: usize, jb: i32, d: f32, dmin: f32, sx: v128, ss: v128,
  t00: v128, t01: v128, t02: v128, t03: v128, t10: v128, t11: v128, t12: v128, t13: v128,
  t20: v128, t21: v128, t22: v128, t23: v128, t30: v128, t31: v128, t32: v128, t33: v128,
): v128 {
  let a0 = codes8(kind, blk, jb, 0), a1 = codes8(kind, blk, jb, 1), a2 = codes8(kind, blk, jb, 2), a3 = codes8(kind, blk, jb, 3);
  let scale = d;
  let minTerm = f32x4.splat(0);
  if (kind == Q6_K) {
    const scales = blk + 192 + <usize>(jb << 1);
    const first = i16x8.splat(<i16>load<i8>(scales));
    const second = i16x8.splat(<i16>load<i8>(scales, 1));
    a0 = i16x8.mul(a0, first);
    a1 = i16x8.mul(a1, first);
    a2 = i16x8.mul(a2, second);
    a3 = i16x8.mul(a3, second);
  } else {
    scale = d * <f32>scaleOrMin(blk, jb);
    minTerm = f32x4.mul(f32x4.splat(dmin * <f32>scaleOrMin(blk, jb + 8)), ss);
  }
  const sums = hsum4I32(
    dot4(a0, a1, a2, a3, t00, t01, t02, t03),
    dot4(a0, a1, a2, a3, t10, t11, t12, t13),
    dot4(a0, a1, a2, a3, t20, t21, t22, t23),
    dot4(a0, a1, a2, a3, t30, t31, t32, t33),
  );
  return f32x4.sub(f32x4.mul(f32x4.convert_i32x4_s(sums), f32x4.mul(sx, f32x4.splat(scale))), minTerm);
}

// @ts-ignore: decorator
@inline function dot4(a0: v128, a1: v128, a2: v128, a3: v128, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  let s = i32x4.dot_i16x8_s(a0, x0);
  s = i32x4.add(s, i32x4.dot_i16x8_s(a1, x1));
  s = i32x4.add(s, i32x4.dot_i16x8_s(a2, x2));
  return i32x4.add(s, i32x4.dot_i16x8_s(a3, x3));
}
