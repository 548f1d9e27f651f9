/**
 * Float weight storage kinds shared by the f32/f16/bf16 matvec and matmul kernels. A kernel body is written once
 * as an @inline function taking `kind`; each exported kernel passes a constant, and the optimizer folds the branches
 * below away, so every export is a specialised loop with no per-element dispatch.
 */
import { loadF16x4, loadBf16x4, loadF16, loadBf16 } from "./f16";
import { hsumF32 } from "./reduce";

export const F32: i32 = 0;
export const F16: i32 = 1;
export const BF16: i32 = 2;

/** Bytes of one stored weight. */
// @ts-ignore: decorator
@inline export function weightBytes(kind: i32): usize {
  return kind == F32 ? 4 : 2;
}

/** 4 consecutive weights at p as f32x4. */
// @ts-ignore: decorator
@inline export function loadWeights4(kind: i32, p: usize): v128 {
  if (kind == F32) return v128.load(p);
  if (kind == F16) return loadF16x4(p);
  return loadBf16x4(p);
}

/** One weight at p. */
// @ts-ignore: decorator
@inline export function loadWeight(kind: i32, p: usize): f32 {
  if (kind == F32) return load<f32>(p);
  if (kind == F16) return loadF16(p);
  return loadBf16(p);
}

/** Σ_c w[c]·x[c] for one weight row w (kind) and x: [cols] f32; two accumulators to hide the add latency. */
// @ts-ignore: decorator
@inline export function dotWeightRow(kind: i32, w: usize, x: usize, cols: i32): f32 {
  const wb = weightBytes(kind);
  let a = f32x4.splat(0);
  let b = f32x4.splat(0);
  let c = 0;
  for (; c + 8 <= cols; c += 8) {
    const xp = x + (<usize>c << 2);
    const wp = w + <usize>c * wb;
    a = f32x4.add(a, f32x4.mul(loadWeights4(kind, wp), v128.load(xp)));
    b = f32x4.add(b, f32x4.mul(loadWeights4(kind, wp + 4 * wb), v128.load(xp, 16)));
  }
  if (c + 4 <= cols) {
    a = f32x4.add(a, f32x4.mul(loadWeights4(kind, w + <usize>c * wb), v128.load(x + (<usize>c << 2))));
    c += 4;
  }
  let sum = hsumF32(f32x4.add(a, b));
  for (; c < cols; c++) sum += loadWeight(kind, w + <usize>c * wb) * load<f32>(x + (<usize>c << 2));
  return sum;
}
