/**
 * Decode matvec for float weights: out[r] = Σ_c W[r,c]·x[c] for rows r in [begin, end).
 * w: [rows, cols] f32 | f16 | bf16 row-major; x: [cols] f32; out: [rows] f32.
 *
 * Decode reads every weight once per token, so this is memory-bound; the loop keeps four row streams in flight and
 * reuses each load of x for four rows. Two accumulators per row (8 columns per step) hide the add latency, and the
 * four rows' sums are reduced together into one vector store. Any cols and any row range work (scalar tails).
 */
import { F32, F16, BF16, weightBytes, loadWeights4, loadWeight, dotWeightRow } from "./lib/floatWeights";
import { hsum4F32 } from "./lib/reduce";

export function matvec_f32(begin: i32, end: i32, w: usize, x: usize, out: usize, cols: i32): void {
  matvecFloat(F32, begin, end, w, x, out, cols);
}

export function matvec_f16(begin: i32, end: i32, w: usize, x: usize, out: usize, cols: i32): void {
  matvecFloat(F16, begin, end, w, x, out, cols);
}

export function matvec_bf16(begin: i32, end: i32, w: usize, x: usize, out: usize, cols: i32): void {
  matvecFloat(BF16, begin, end, w, x, out, cols);
}

// @ts-ignore: decorator
@inline function matvecFloat(kind: i32, begin: i32, end: i32, w: usize, x: usize, out: usize, cols: i32): void {
  const wb = weightBytes(kind);
  const rowBytes = <usize>cols * wb;
  let r = begin;
  for (; r + 4 <= end; r += 4) {
    const w0 = w + <usize>r * rowBytes;
    const w1 = w0 + rowBytes;
    const w2 = w1 + rowBytes;
    const w3 = w2 + rowBytes;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
    let c = 0;
    for (; c + 8 <= cols; c += 8) {
      const xp = x + (<usize>c << 2);
      const xa = v128.load(xp);
      const xb = v128.load(xp, 16);
      const off = <usize>c * wb;
      const offB = off + 4 * wb;
      a0 = f32x4.add(a0, f32x4.mul(loadWeights4(kind, w0 + off), xa));
      a1 = f32x4.add(a1, f32x4.mul(loadWeights4(kind, w1 + off), xa));
      a2 = f32x4.add(a2, f32x4.mul(loadWeights4(kind, w2 + off), xa));
      a3 = f32x4.add(a3, f32x4.mul(loadWeights4(kind, w3 + off), xa));
      b0 = f32x4.add(b0, f32x4.mul(loadWeights4(kind, w0 + offB), xb));
      b1 = f32x4.add(b1, f32x4.mul(loadWeights4(kind, w1 + offB), xb));
      b2 = f32x4.add(b2, f32x4.mul(loadWeights4(kind, w2 + offB), xb));
      b3 = f32x4.add(b3, f32x4.mul(loadWeights4(kind, w3 + offB), xb));
    }
    if (c + 4 <= cols) {
      const xa = v128.load(x + (<usize>c << 2));
      const off = <usize>c * wb;
      a0 = f32x4.add(a0, f32x4.mul(loadWeights4(kind, w0 + off), xa));
      a1 = f32x4.add(a1, f32x4.mul(loadWeights4(kind, w1 + off), xa));
      a2 = f32x4.add(a2, f32x4.mul(loadWeights4(kind, w2 + off), xa));
      a3 = f32x4.add(a3, f32x4.mul(loadWeights4(kind, w3 + off), xa));
      c += 4;
    }
    let sums = hsum4F32(f32x4.add(a0, b0), f32x4.add(a1, b1), f32x4.add(a2, b2), f32x4.add(a3, b3));
    for (; c < cols; c++) {
      const xc = load<f32>(x + (<usize>c << 2));
      const off = <usize>c * wb;
      let tail = f32x4.splat(loadWeight(kind, w0 + off) * xc);
      tail = f32x4.replace_lane(tail, 1, loadWeight(kind, w1 + off) * xc);
      tail = f32x4.replace_lane(tail, 2, loadWeight(kind, w2 + off) * xc);
      tail = f32x4.replace_lane(tail, 3, loadWeight(kind, w3 + off) * xc);
      sums = f32x4.add(sums, tail);
    }
    v128.store(out + (<usize>r << 2), sums);
  }
  for (; r < end; r++) {
    store<f32>(out + (<usize>r << 2), dotWeightRow(kind, w + <usize>r * rowBytes, x, cols));
  }
}
