/**
 * softmax: rows r in [begin, end) of x: [rows, cols] f32, in place. p_i = e^(x_i - max) / Σ_j e^(x_j - max).
 *
 * e^ is lib/exp (relative error < 5e-7, results never denormal); the sum is accumulated in f64 lanes. -Infinity
 * entries (masked positions) become exactly 0. A row that is entirely -Infinity has no probability mass to spread:
 * it becomes all zeros. NaN anywhere in a row makes the whole row NaN (the engine's non-finite check sees it).
 */
import { expF32x4, expF32 } from "./lib/exp";
import { addF32x4ToF64x2, hsumF64 } from "./lib/reduce";

export function softmax(begin: i32, end: i32, x: usize, cols: i32): void {
  const rowBytes = <usize>cols << 2;
  for (let r = begin; r < end; r++) {
    const row = x + <usize>r * rowBytes;
    const max = rowMax(row, cols);
    if (max == -Infinity) {
      memory.fill(row, 0, rowBytes);
      continue;
    }
    const m = f32x4.splat(max);
    let acc = f64x2.splat(0);
    let i = 0;
    for (; i + 4 <= cols; i += 4) {
      const p = row + (<usize>i << 2);
      const e = expF32x4(f32x4.sub(v128.load(p), m));
      v128.store(p, e);
      acc = addF32x4ToF64x2(acc, e);
    }
    let sum = hsumF64(acc);
    for (; i < cols; i++) {
      const p = row + (<usize>i << 2);
      const e = expF32(load<f32>(p) - max);
      store<f32>(p, e);
      sum += <f64>e;
    }
    const inv = f32x4.splat(<f32>(1.0 / sum));
    i = 0;
    for (; i + 4 <= cols; i += 4) {
      const p = row + (<usize>i << 2);
      v128.store(p, f32x4.mul(v128.load(p), inv));
    }
    const invScalar = f32x4.extract_lane(inv, 0);
    for (; i < cols; i++) {
      const p = row + (<usize>i << 2);
      store<f32>(p, load<f32>(p) * invScalar);
    }
  }
}

/** The row's maximum; NaN if any element is NaN (f32x4.max and f32.max propagate NaN). */
// @ts-ignore: decorator
@inline function rowMax(row: usize, cols: i32): f32 {
  let mv = f32x4.splat(-Infinity);
  let i = 0;
  for (; i + 4 <= cols; i += 4) mv = f32x4.max(mv, v128.load(row + (<usize>i << 2)));
  let max = Mathf.max(Mathf.max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)),
    Mathf.max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  for (; i < cols; i++) max = Mathf.max(max, load<f32>(row + (<usize>i << 2)));
  return max;
}
