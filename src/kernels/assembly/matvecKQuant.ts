/**
 * Decode matvec for Q4_K / Q5_K / Q6_K weights read in their stored super-blocks (no dequantized copy), against q8
 * activations: out[r] = Σ_c W[r,c]·x[c] for rows r in [begin, end) (formulas: lib/kQuantBlocks.ts).
 * w: [rows, cols/256] super-blocks, whole groups of 4 rows interleaved; xq: one token's q8_k activations; out: [rows] f32;
 * cols % 256 == 0.
 *
 * One pass per group of 4 rows walks the group's super-blocks in order (one sequential stream). Per super-block the
 * four rows' 6-bit scales and mins are unpacked with SIMD and transposed to i32x4 vectors across the rows (sc_j of
 * rows 0..3); per activation block jb its codes are extended once for the four rows, each row's integer sum stays in
 * i32x4 lanes, the four are reduced together into one i32x4 (one lane per row) and multiplied by sc_j, all in
 * integers; the mins' Σ_j m_j·S_j is one i16 dot per row. Per super-block two f32 products, (dx·d)·Σ and (dx·dmin)·Σ,
 * keep the four outputs in the accumulator's lanes. A range that starts or ends inside a group, and the plain rows
 * after the last whole group, go row by row.
 */
import { Q4_K, Q5_K, Q6_K, XK_BLOCK, XK_D, XK_SUMS, blockDotK, dotKRow, gatherF16x4, kBlockBytes, unpackScalesMins16 } from "./lib/kQuantBlocks";
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
  let acc = f32x4.splat(0);
  let b0 = g;
  for (let sb = 0; sb < (cols >> 8); sb++) {
    const xs = xq + <usize>sb * XK_BLOCK;
    const dx = f32x4.splat(load<f32>(xs + XK_D));
    if (kind == Q6_K) {
      let isum = q6Block(b0, bb, xs, 0);
      for (let jb = 1; jb < 8; jb++) isum = i32x4.add(isum, q6Block(b0, bb, xs, jb));
      acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(isum), f32x4.mul(gatherF16x4(b0 + 208, bb), dx)));
    } else {
      // rows' [sc_0..7, m_0..7] bytes, transposed to j-major: sc03 = [sc_0 of rows 0..3, sc_1 of rows 0..3, ...]
      const u0 = unpackScalesMins16(b0);
      const u1 = unpackScalesMins16(b0 + bb);
      const u2 = unpackScalesMins16(b0 + 2 * bb);
      const u3 = unpackScalesMins16(b0 + 3 * bb);
      const scPairs01 = v128.shuffle<u8>(u0, u1, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
      const scPairs23 = v128.shuffle<u8>(u2, u3, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
      const sc03 = v128.shuffle<u16>(scPairs01, scPairs23, 0, 8, 1, 9, 2, 10, 3, 11);
      const sc47 = v128.shuffle<u16>(scPairs01, scPairs23, 4, 12, 5, 13, 6, 14, 7, 15);
      // one block per iteration (a loop, not 8 unrolled copies: the smaller function runs faster in V8, as for
      // Q6_K); block jb's four scales are bytes 4(jb & 3)..+3 of sc03 or sc47, picked with a swizzle
      let isum = i32x4.splat(0);
      for (let jb = 0; jb < 8; jb++) {
        const picked = i8x16.swizzle(jb < 4 ? sc03 : sc47, i8x16.add(i8x16.splat(<i8>((jb & 3) << 2)), i8x16(0, 1, 2, 3, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)));
        isum = i32x4.add(isum, kBlock(kind, b0, bb, xs, jb, i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(picked))));
      }
      // Σ_j m_j·S_j per row: each row's 8 mins (bytes 8..15) against the 8 sub-block sums, pairwise in i32 lanes
      const sums = v128.load(xs + XK_SUMS);
      const mins = hsum4I32(
        i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(u0), sums), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(u1), sums),
        i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(u2), sums), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(u3), sums),
      );
      const scaled = f32x4.mul(f32x4.convert_i32x4_s(isum), f32x4.mul(gatherF16x4(b0, bb), dx));
      acc = f32x4.add(acc, f32x4.sub(scaled, f32x4.mul(f32x4.convert_i32x4_s(mins), f32x4.mul(gatherF16x4(b0 + 2, bb), dx))));
    }
    b0 += bb << 2;
  }
  return acc;
}

/** Q4_K/Q5_K block jb of the four rows: i32x4 of sc_j·Σ q·c, one lane per row (sc: the rows' sub-block scales). */
// @ts-ignore: decorator
@inline function kBlock(kind: i32, b0: usize, bb: usize, xs: usize, jb: i32, sc: v128): v128 {
  return i32x4.mul(fourRowSums(kind, b0, bb, xs, jb), sc);
}

/** Q6_K block jb of the four rows: i32x4 of Σ sc·(q-32)·c, one lane per row. */
// @ts-ignore: decorator
@inline function q6Block(b0: usize, bb: usize, xs: usize, jb: i32): v128 {
  return fourRowSums(Q6_K, b0, bb, xs, jb);
}

/** The four rows' integer sums of block jb against the activation block at xs + 32·jb (one lane per row). */
// @ts-ignore: decorator
@inline function fourRowSums(kind: i32, b0: usize, bb: usize, xs: usize, jb: i32): v128 {
  const xp = xs + (<usize>jb << 5);
  const xa = v128.load(xp);
  const xc = v128.load(xp, 16);
  const x0 = i16x8.extend_low_i8x16_s(xa);
  const x1 = i16x8.extend_high_i8x16_s(xa);
  const x2 = i16x8.extend_low_i8x16_s(xc);
  const x3 = i16x8.extend_high_i8x16_s(xc);
  return hsum4I32(
    blockDotK(kind, b0, jb, x0, x1, x2, x3),
    blockDotK(kind, b0 + bb, jb, x0, x1, x2, x3),
    blockDotK(kind, b0 + 2 * bb, jb, x0, x1, x2, x3),
    blockDotK(kind, b0 + 3 * bb, jb, x0, x1, x2, x3),
  );
}
