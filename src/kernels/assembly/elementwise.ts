/**
 * Elementwise kernels over element ranges [begin, end) (the pool splits elements, not rows).
 *   swiglu: gate[i] = silu(gate[i]) · up[i], silu(g) = g / (1 + e^-g)   (gate, up: [n] f32; gate is overwritten)
 *   add:    x[i] += y[i]                                                (x, y: [n] f32; the residual connection)
 *   add_bias (rows, not elements): x[t, i] += bias[i]                   (a projection's bias, every token)
 */
import { expF32x4, expF32 } from "./lib/exp";

export function swiglu(begin: i32, end: i32, gate: usize, up: usize): void {
  const one = f32x4.splat(1);
  let i = begin;
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    const g = v128.load(gate + o);
    // for g < -88.37, e^-g is +Infinity and g / Infinity = -0: the true value is below 4e-37 in magnitude
    const silu = f32x4.div(g, f32x4.add(one, expF32x4(f32x4.neg(g))));
    v128.store(gate + o, f32x4.mul(silu, v128.load(up + o)));
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    const g = load<f32>(gate + o);
    store<f32>(gate + o, (g / (1 + expF32(-g))) * load<f32>(up + o));
  }
}

export function add(begin: i32, end: i32, x: usize, y: usize): void {
  let i = begin;
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    v128.store(x + o, f32x4.add(v128.load(x + o), v128.load(y + o)));
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    store<f32>(x + o, load<f32>(x + o) + load<f32>(y + o));
  }
}

/** rows t in [begin, end): x[t, i] += bias[i] for i < cols (x: [nTok, cols] f32, bias: [cols] f32; QKV bias). */
export function add_bias(begin: i32, end: i32, x: usize, bias: usize, cols: i32): void {
  const rowBytes = <usize>cols << 2;
  for (let t = begin; t < end; t++) {
    const xt = x + <usize>t * rowBytes;
    let i = 0;
    for (; i + 4 <= cols; i += 4) {
      const o = <usize>i << 2;
      v128.store(xt + o, f32x4.add(v128.load(xt + o), v128.load(bias + o)));
    }
    for (; i < cols; i++) {
      const o = <usize>i << 2;
      store<f32>(xt + o, load<f32>(xt + o) + load<f32>(bias + o));
    }
  }
}
