/**
 * Decode matvec for q8_0 / q4_0 weights in the interleaved layout (lib/quantBlocks) against q8_0 activations:
 * out[r] = Σ_blocks d_w·d_x·Σ_j q_w[j]·q_x[j] for rows r in [begin, end).
 * w: [rows, cols/32] blocks, whole groups of 4 rows interleaved; xq: one token's q8_0 activations (quantize_act_q8_0);
 * out: [rows] f32; cols % 32 == 0.
 *
 * One pass per group of 4 rows walks the group's blocks in order (one sequential stream): each activation block is
 * loaded and sign-extended once for the four rows, each row's block sum stays in i32x4 lanes, the four sums are
 * reduced together into one i32x4, converted to f32 and scaled by the four rows' d_w (one f16x4 load) times the
 * block's d_x, so the accumulator holds the four outputs in its lanes. A range that starts or ends inside a group,
 * and the plain rows after the last whole group, go row by row.
 */
import { Q8_0, Q4_0, blockBytes, blockDot, codeBytes, dotQuantRow, groupBlockBytes, groupScales } from "./lib/quantBlocks";
import { hsum4I32 } from "./lib/reduce";

export function matvec_q8_0(begin: i32, end: i32, w: usize, xq: usize, out: usize, cols: i32, rows: i32): void {
  matvecQuant(Q8_0, begin, end, w, xq, out, cols, rows);
}

export function matvec_q4_0(begin: i32, end: i32, w: usize, xq: usize, out: usize, cols: i32, rows: i32): void {
  matvecQuant(Q4_0, begin, end, w, xq, out, cols, rows);
}

// @ts-ignore: decorator
@inline function matvecQuant(kind: i32, begin: i32, end: i32, w: usize, xq: usize, out: usize, cols: i32, rows: i32): void {
  const groupedEnd = min(end, rows & ~3);
  let r = begin;
  for (; r < groupedEnd && (r & 3) != 0; r++) store<f32>(out + (<usize>r << 2), dotQuantRow(kind, w, r, rows, xq, cols));
  for (; r + 4 <= groupedEnd; r += 4) v128.store(out + (<usize>r << 2), groupDot(kind, w, r, xq, cols));
  for (; r < end; r++) store<f32>(out + (<usize>r << 2), dotQuantRow(kind, w, r, rows, xq, cols));
}

/** [W[r+k]·x for k < 4] of the whole group starting at row r (r % 4 == 0). */
// @ts-ignore: decorator
@inline function groupDot(kind: i32, w: usize, r: i32, xq: usize, cols: i32): v128 {
  const blocks = cols >> 5;
  const step = groupBlockBytes(kind);
  const cb = codeBytes(kind);
  const xScales = xq + <usize>cols;
  let g = w + <usize>r * <usize>blocks * blockBytes(kind);
  let acc = f32x4.splat(0);
  for (let b = 0; b < blocks; b++) {
    const xp = xq + (<usize>b << 5);
    const xa = v128.load(xp);
    const xb = v128.load(xp, 16);
    const x0 = i16x8.extend_low_i8x16_s(xa);
    const x1 = i16x8.extend_high_i8x16_s(xa);
    const x2 = i16x8.extend_low_i8x16_s(xb);
    const x3 = i16x8.extend_high_i8x16_s(xb);
    const codes = g + 8;
    const sums = hsum4I32(
      blockDot(kind, codes, x0, x1, x2, x3),
      blockDot(kind, codes + cb, x0, x1, x2, x3),
      blockDot(kind, codes + 2 * cb, x0, x1, x2, x3),
      blockDot(kind, codes + 3 * cb, x0, x1, x2, x3),
    );
    const scale = f32x4.mul(groupScales(g), f32x4.splat(load<f32>(xScales + (<usize>b << 2))));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(sums), scale));
    g += step;
  }
  return acc;
}
