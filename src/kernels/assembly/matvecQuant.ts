/**
 * Decode matvec for q8_0 / q4_0 weights against q8 activations (see lib/quantBlocks for the layouts):
 * out[r] = Σ_blocks d_w·d_x·Σ_j q_w[j]·q_x[j] for rows r in [begin, end).
 * w: [rows, cols/32] blocks; xq: one token's q8 activations (quantize_act_q8); out: [rows] f32; cols % 32 == 0.
 *
 * Four rows per step share each activation block, loaded and sign-extended once. Each row's block sum stays in
 * i32x4 lanes; the four rows' sums are reduced together into one i32x4, converted to f32 and scaled by the four rows'
 * d_w times the block's d_x in one vector multiply, so the accumulator holds the four outputs in its lanes.
 */
import { Q8_0, Q4_0, blockBytes, blockDot, blockScales4, dotQuantRow } from "./lib/quantBlocks";
import { hsum4I32 } from "./lib/reduce";

export function matvec_q8_0(begin: i32, end: i32, w: usize, xq: usize, out: usize, cols: i32): void {
  matvecQuant(Q8_0, begin, end, w, xq, out, cols);
}

export function matvec_q4_0(begin: i32, end: i32, w: usize, xq: usize, out: usize, cols: i32): void {
  matvecQuant(Q4_0, begin, end, w, xq, out, cols);
}

// @ts-ignore: decorator
@inline function matvecQuant(kind: i32, begin: i32, end: i32, w: usize, xq: usize, out: usize, cols: i32): void {
  const bb = blockBytes(kind);
  const blocks = cols >> 5;
  const rowBytes = <usize>blocks * bb;
  const scales = xq + <usize>cols;
  let r = begin;
  for (; r + 4 <= end; r += 4) {
    const w0 = w + <usize>r * rowBytes;
    const w1 = w0 + rowBytes;
    const w2 = w1 + rowBytes;
    const w3 = w2 + rowBytes;
    let acc = f32x4.splat(0);
    for (let b = 0; b < blocks; b++) {
      const xp = xq + (<usize>b << 5);
      const xa = v128.load(xp);
      const xb = v128.load(xp, 16);
      const x0 = i16x8.extend_low_i8x16_s(xa);
      const x1 = i16x8.extend_high_i8x16_s(xa);
      const x2 = i16x8.extend_low_i8x16_s(xb);
      const x3 = i16x8.extend_high_i8x16_s(xb);
      const off = <usize>b * bb;
      const sums = hsum4I32(
        blockDot(kind, w0 + off, x0, x1, x2, x3),
        blockDot(kind, w1 + off, x0, x1, x2, x3),
        blockDot(kind, w2 + off, x0, x1, x2, x3),
        blockDot(kind, w3 + off, x0, x1, x2, x3),
      );
      const scale = f32x4.mul(blockScales4(w0 + off, w1 + off, w2 + off, w3 + off), f32x4.splat(load<f32>(scales + (<usize>b << 2))));
      acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(sums), scale));
    }
    v128.store(out + (<usize>r << 2), acc);
  }
  for (; r < end; r++) {
    store<f32>(out + (<usize>r << 2), dotQuantRow(kind, w + <usize>r * rowBytes, xq, cols));
  }
}
