/**
 * Decode matvec for Q4_K / Q5_K / Q6_K weights read in their stored super-blocks (no dequantized copy), against q8
 * activations: out[r] = Σ_c W[r,c]·x[c] for rows r in [begin, end) (formulas: lib/kQuantBlocks.ts).
 * w: [rows, cols/256] super-blocks, whole groups of 4 rows interleaved; xq: one token's q8 activations; out: [rows] f32;
 * cols % 256 == 0.
 *
 * One pass per group of 4 rows walks the group's super-blocks in order (one sequential stream). Per super-block the
 * four rows' 6-bit scales and mins are unpacked with SIMD and turned into f32x4 vectors across the rows
 * (d·sc_j and dmin·m_j for rows 0..3); per activation block jb its codes are extended once for the four rows, each
 * row's integer sum stays in i32x4 lanes, the four are reduced together into one i32x4 (one lane per row), and
 * acc += f32(sums)·(d·sc_j)·sx - (dmin·m_j)·S keeps the four outputs in the accumulator's lanes. A range that starts
 * or ends inside a group, and the plain rows after the last whole group, go row by row.
 */
import { Q4_K, Q5_K, Q6_K, blockDotK, dotKRow, gatherF16x4, kBlockBytes, unpackScalesMins16 } from "./lib/kQuantBlocks";
import { hsum4I32 } from "./lib/reduce";

export function matvec_q4_k(begin: i32, end: i32, w: usize, xq: usize, out: usize, cols: i32, rows: i32): void {
  matvecK(Q4_K, begin, end, w, xq, out, cols, rows);
}

export function matvec_q5_k(begin: i32, end: i32, w: usize, xq: usize, out: usize, cols: i32, rows: i32): void {
  matvecK(Q5_K, begin, end, w, xq, out, cols, rows);
}

export function matvec_q6_k(begin: i32, end: i32, w: usize, xq: usize, out: usize, cols: i32, rows: i32): void {
  matvecK(Q6_K, begin, end, w, xq, out, cols, rows);
}

// @ts-ignore: decorator
@inline function matvecK(kind: i32, begin: i32, end: i32, w: usize, xq: usize, out: usize, cols: i32, rows: i32): void {
  const groupedEnd = min(end, rows & ~3);
  const rowBytes = <usize>(cols >> 8) * kBlockBytes(kind);
  let r = begin;
  for (; r < groupedEnd && (r & 3) != 0; r++) store<f32>(out + (<usize>r << 2), dotKRow(kind, w, r, rows, xq, cols));
  for (; r + 4 <= groupedEnd; r += 4) {
    v128.store(out + (<usize>r << 2), groupDotK(kind, w + <usize>r * rowBytes, xq, cols));
  }
  for (; r < end; r++) store<f32>(out + (<usize>r << 2), dotKRow(kind, w, r, rows, xq, cols));
}

/** [W[k]·x for k < 4] of the interleaved group at g. */
// @ts-ignore: decorator
@inline export function groupDotK(kind: i32, g: usize, xq: usize, cols: i32): v128 {
  const bb = kBlockBytes(kind);
  const xScales = xq + <usize>cols;
  const xSums = xScales + (<usize>(cols >> 5) << 2);
  let acc = f32x4.splat(0);
  let b0 = g;
  for (let sb = 0; sb < (cols >> 8); sb++) {
    const xb = xq + (<usize>sb << 8);
    const sx = xScales + (<usize>sb << 5);
    const ss = xSums + (<usize>sb << 5);
    if (kind == Q6_K) {
      const d = gatherF16x4(b0 + 208, bb);
      for (let jb = 0; jb < 8; jb++) acc = f32x4.add(acc, q6Block(b0, bb, xb, sx, d, jb));
    } else {
      const d = gatherF16x4(b0, bb);
      const dmin = gatherF16x4(b0 + 2, bb);
      // rows' [sc_0..7, m_0..7] bytes, transposed to j-major: sc03 = [sc_0 of rows 0..3, sc_1 of rows 0..3, ...]
      const u0 = unpackScalesMins16(b0);
      const u1 = unpackScalesMins16(b0 + bb);
      const u2 = unpackScalesMins16(b0 + 2 * bb);
      const u3 = unpackScalesMins16(b0 + 3 * bb);
      const scPairs01 = v128.shuffle<u8>(u0, u1, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
      const scPairs23 = v128.shuffle<u8>(u2, u3, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
      const mPairs01 = v128.shuffle<u8>(u0, u1, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
      const mPairs23 = v128.shuffle<u8>(u2, u3, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
      const sc03 = v128.shuffle<u16>(scPairs01, scPairs23, 0, 8, 1, 9, 2, 10, 3, 11);
      const sc47 = v128.shuffle<u16>(scPairs01, scPairs23, 4, 12, 5, 13, 6, 14, 7, 15);
      const m03 = v128.shuffle<u16>(mPairs01, mPairs23, 0, 8, 1, 9, 2, 10, 3, 11);
      const m47 = v128.shuffle<u16>(mPairs01, mPairs23, 4, 12, 5, 13, 6, 14, 7, 15);
      let lo = i16x8.extend_low_i8x16_u(sc03);
      let hi = i16x8.extend_high_i8x16_u(sc03);
      let mlo = i16x8.extend_low_i8x16_u(m03);
      let mhi = i16x8.extend_high_i8x16_u(m03);
      acc = f32x4.add(acc, kBlock(kind, b0, bb, xb, sx, ss, 0, rowScale(lo, d, 0), rowScale(mlo, dmin, 0)));
      acc = f32x4.add(acc, kBlock(kind, b0, bb, xb, sx, ss, 1, rowScale(lo, d, 1), rowScale(mlo, dmin, 1)));
      acc = f32x4.add(acc, kBlock(kind, b0, bb, xb, sx, ss, 2, rowScale(hi, d, 0), rowScale(mhi, dmin, 0)));
      acc = f32x4.add(acc, kBlock(kind, b0, bb, xb, sx, ss, 3, rowScale(hi, d, 1), rowScale(mhi, dmin, 1)));
      lo = i16x8.extend_low_i8x16_u(sc47);
      hi = i16x8.extend_high_i8x16_u(sc47);
      mlo = i16x8.extend_low_i8x16_u(m47);
      mhi = i16x8.extend_high_i8x16_u(m47);
      acc = f32x4.add(acc, kBlock(kind, b0, bb, xb, sx, ss, 4, rowScale(lo, d, 0), rowScale(mlo, dmin, 0)));
      acc = f32x4.add(acc, kBlock(kind, b0, bb, xb, sx, ss, 5, rowScale(lo, d, 1), rowScale(mlo, dmin, 1)));
      acc = f32x4.add(acc, kBlock(kind, b0, bb, xb, sx, ss, 6, rowScale(hi, d, 0), rowScale(mhi, dmin, 0)));
      acc = f32x4.add(acc, kBlock(kind, b0, bb, xb, sx, ss, 7, rowScale(hi, d, 1), rowScale(mhi, dmin, 1)));
    }
    b0 += bb << 2;
  }
  return acc;
}

/** f32x4 of d_k · (the 6-bit value of row k) from i16 lanes [4·half .. 4·half+3] of `v`. */
// @ts-ignore: decorator
@inline function rowScale(v: v128, d: v128, half: i32): v128 {
  const wide = half == 0 ? i32x4.extend_low_i16x8_u(v) : i32x4.extend_high_i16x8_u(v);
  return f32x4.mul(f32x4.convert_i32x4_s(wide), d);
}

/** Q4_K/Q5_K block jb of the four rows: f32x4 of (d·sc_j)·sx·Σ q·c - (dmin·m_j)·S, one lane per row. */
// @ts-ignore: decorator
@inline function kBlock(kind: i32, b0: usize, bb: usize, xb: usize, sx: usize, ss: usize, jb: i32, dsc: v128, dm: v128): v128 {
  const xp = xb + (<usize>jb << 5);
  const xa = v128.load(xp);
  const xc = v128.load(xp, 16);
  const x0 = i16x8.extend_low_i8x16_s(xa);
  const x1 = i16x8.extend_high_i8x16_s(xa);
  const x2 = i16x8.extend_low_i8x16_s(xc);
  const x3 = i16x8.extend_high_i8x16_s(xc);
  const sums = hsum4I32(
    blockDotK(kind, b0, jb, x0, x1, x2, x3),
    blockDotK(kind, b0 + bb, jb, x0, x1, x2, x3),
    blockDotK(kind, b0 + 2 * bb, jb, x0, x1, x2, x3),
    blockDotK(kind, b0 + 3 * bb, jb, x0, x1, x2, x3),
  );
  const scaled = f32x4.mul(f32x4.convert_i32x4_s(sums), f32x4.mul(dsc, f32x4.splat(load<f32>(sx + (<usize>jb << 2)))));
  return f32x4.sub(scaled, f32x4.mul(dm, f32x4.splat(load<f32>(ss + (<usize>jb << 2)))));
}

/** Q6_K block jb of the four rows: f32x4 of d·sx·Σ sc·(q-32)·c, one lane per row. */
// @ts-ignore: decorator
@inline function q6Block(b0: usize, bb: usize, xb: usize, sx: usize, d: v128, jb: i32): v128 {
  const xp = xb + (<usize>jb << 5);
  const xa = v128.load(xp);
  const xc = v128.load(xp, 16);
  const x0 = i16x8.extend_low_i8x16_s(xa);
  const x1 = i16x8.extend_high_i8x16_s(xa);
  const x2 = i16x8.extend_low_i8x16_s(xc);
  const x3 = i16x8.extend_high_i8x16_s(xc);
  const sums = hsum4I32(
    blockDotK(Q6_K, b0, jb, x0, x1, x2, x3),
    blockDotK(Q6_K, b0 + bb, jb, x0, x1, x2, x3),
    blockDotK(Q6_K, b0 + 2 * bb, jb, x0, x1, x2, x3),
    blockDotK(Q6_K, b0 + 3 * bb, jb, x0, x1, x2, x3),
  );
  return f32x4.mul(f32x4.convert_i32x4_s(sums), f32x4.mul(d, f32x4.splat(load<f32>(sx + (<usize>jb << 2)))));
}
