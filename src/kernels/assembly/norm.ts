/**
 * rmsnorm: rows = tokens t in [begin, end). out[t] = x[t] · 1/sqrt(mean(x[t]²) + eps) ⊙ weight;
 * x, out: [nTok, dim] f32 (out may alias x: every read of a row happens before its first write); weight: [dim] f32.
 *
 * The sum of squares is accumulated in f64 lanes (exact squares of f32 values, and no growth of rounding error with
 * dim); the cost is negligible next to the matvecs around it.
 */
import { hsumF64 } from "./lib/reduce";

export function rmsnorm(begin: i32, end: i32, x: usize, weight: usize, out: usize, dim: i32, eps: f32): void {
  const rowBytes = <usize>dim << 2;
  for (let t = begin; t < end; t++) {
    const xt = x + <usize>t * rowBytes;
    const ot = out + <usize>t * rowBytes;
    let acc = f64x2.splat(0);
    let i = 0;
    for (; i + 4 <= dim; i += 4) acc = addSquares(acc, v128.load(xt + (<usize>i << 2)));
    let sumSquares = hsumF64(acc);
    for (; i < dim; i++) {
      const v = <f64>load<f32>(xt + (<usize>i << 2));
      sumSquares += v * v;
    }
    const scale = <f32>(1.0 / Math.sqrt(sumSquares / <f64>dim + <f64>eps));
    const s = f32x4.splat(scale);
    i = 0;
    for (; i + 4 <= dim; i += 4) {
      const o = <usize>i << 2;
      v128.store(ot + o, f32x4.mul(f32x4.mul(v128.load(xt + o), s), v128.load(weight + o)));
    }
    for (; i < dim; i++) {
      const o = <usize>i << 2;
      store<f32>(ot + o, load<f32>(xt + o) * scale * load<f32>(weight + o));
    }
  }
}

/** acc + the squares of the four f32 lanes of v, in f64. */
// @ts-ignore: decorator
@inline function addSquares(acc: v128, v: v128): v128 {
  const low = f64x2.promote_low_f32x4(v);
  const high = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
  return f64x2.add(acc, f64x2.add(f64x2.mul(low, low), f64x2.mul(high, high)));
}
