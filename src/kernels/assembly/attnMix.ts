/**
 * Attention output over a full-precision cache: rows = head dimensions d in [begin, end);
 * out[i·headDim + d] = Σ_t p[i·T + t] · v_t[d] for the nq probability rows p: [nq, T] f32; value t starts at element
 * t·vStride of v (f32 or f16 elements); out: [nq, headDim] f32. Splitting by dimension lets threads share one
 * (query, cache) pair without combining partial sums; any range works (vector chunks, scalar tail).
 *
 * f32: 16 dimensions (four vectors) per pass over the tokens, two tokens per step (eight accumulators).
 * f16: 8 dimensions per pass and up to four queries at a time, so each converted value chunk serves four queries.
 */
import { f16x4ToF32, loadF16x4, loadF16 } from "./lib/f16";

export function attn_mix_f32(begin: i32, end: i32, p: usize, v: usize, out: usize, nq: i32, headDim: i32, vStride: i32, T: i32): void {
  const valueBytes = <usize>vStride << 2;
  for (let i = 0; i < nq; i++) {
    const pi = p + <usize>i * (<usize>T << 2);
    const oi = out + <usize>i * (<usize>headDim << 2);
    let d = begin;
    for (; d + 16 <= end; d += 16) {
      const vd = v + (<usize>d << 2);
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
      let t = 0;
      for (; t + 2 <= T; t += 2) {
        const va = vd + <usize>t * valueBytes;
        const vb = va + valueBytes;
        const pa = v128.load32_splat(pi + (<usize>t << 2));
        const pb = v128.load32_splat(pi + (<usize>t << 2), 4);
        a0 = f32x4.add(a0, f32x4.mul(pa, v128.load(va)));
        a1 = f32x4.add(a1, f32x4.mul(pa, v128.load(va, 16)));
        a2 = f32x4.add(a2, f32x4.mul(pa, v128.load(va, 32)));
        a3 = f32x4.add(a3, f32x4.mul(pa, v128.load(va, 48)));
        b0 = f32x4.add(b0, f32x4.mul(pb, v128.load(vb)));
        b1 = f32x4.add(b1, f32x4.mul(pb, v128.load(vb, 16)));
        b2 = f32x4.add(b2, f32x4.mul(pb, v128.load(vb, 32)));
        b3 = f32x4.add(b3, f32x4.mul(pb, v128.load(vb, 48)));
      }
      if (t < T) {
        const va = vd + <usize>t * valueBytes;
        const pa = v128.load32_splat(pi + (<usize>t << 2));
        a0 = f32x4.add(a0, f32x4.mul(pa, v128.load(va)));
        a1 = f32x4.add(a1, f32x4.mul(pa, v128.load(va, 16)));
        a2 = f32x4.add(a2, f32x4.mul(pa, v128.load(va, 32)));
        a3 = f32x4.add(a3, f32x4.mul(pa, v128.load(va, 48)));
      }
      const od = oi + (<usize>d << 2);
      v128.store(od, f32x4.add(a0, b0));
      v128.store(od, f32x4.add(a1, b1), 16);
      v128.store(od, f32x4.add(a2, b2), 32);
      v128.store(od, f32x4.add(a3, b3), 48);
    }
    for (; d + 4 <= end; d += 4) {
      const vd = v + (<usize>d << 2);
      let a = f32x4.splat(0);
      for (let t = 0; t < T; t++) {
        a = f32x4.add(a, f32x4.mul(v128.load32_splat(pi + (<usize>t << 2)), v128.load(vd + <usize>t * valueBytes)));
      }
      v128.store(oi + (<usize>d << 2), a);
    }
    for (; d < end; d++) {
      const vd = v + (<usize>d << 2);
      let s: f32 = 0;
      for (let t = 0; t < T; t++) s += load<f32>(pi + (<usize>t << 2)) * load<f32>(vd + <usize>t * valueBytes);
      store<f32>(oi + (<usize>d << 2), s);
    }
  }
}

export function attn_mix_f16(begin: i32, end: i32, p: usize, v: usize, out: usize, nq: i32, headDim: i32, vStride: i32, T: i32): void {
  let i = 0;
  for (; i + 4 <= nq; i += 4) mixF16(4, begin, end, p, v, out, i, headDim, vStride, T);
  if (i + 2 <= nq) {
    mixF16(2, begin, end, p, v, out, i, headDim, vStride, T);
    i += 2;
  }
  if (i < nq) mixF16(1, begin, end, p, v, out, i, headDim, vStride, T);
}

/** Dimensions [begin, end) of `queries` (1, 2 or 4; a constant) output rows from row i. */
// @ts-ignore: decorator
@inline function mixF16(queries: i32, begin: i32, end: i32, p: usize, v: usize, out: usize, i: i32, headDim: i32, vStride: i32, T: i32): void {
  const valueBytes = <usize>vStride << 1;
  const probRowBytes = <usize>T << 2;
  const outRowBytes = <usize>headDim << 2;
  const p0 = p + <usize>i * probRowBytes;
  const p1 = p0 + probRowBytes;
  const p2 = p1 + probRowBytes;
  const p3 = p2 + probRowBytes;
  const o0 = out + <usize>i * outRowBytes;
  let d = begin;
  for (; d + 8 <= end; d += 8) {
    const vd = v + (<usize>d << 1);
    // aj / bj: dimensions d..d+3 / d+4..d+7 of query i + j
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
    for (let t = 0; t < T; t++) {
      const halves = v128.load(vd + <usize>t * valueBytes);
      const lo = f16x4ToF32(i32x4.extend_low_i16x8_u(halves));
      const hi = f16x4ToF32(i32x4.extend_high_i16x8_u(halves));
      const po = <usize>t << 2;
      const w0 = v128.load32_splat(p0 + po);
      a0 = f32x4.add(a0, f32x4.mul(w0, lo));
      b0 = f32x4.add(b0, f32x4.mul(w0, hi));
      if (queries >= 2) {
        const w1 = v128.load32_splat(p1 + po);
        a1 = f32x4.add(a1, f32x4.mul(w1, lo));
        b1 = f32x4.add(b1, f32x4.mul(w1, hi));
      }
      if (queries == 4) {
        const w2 = v128.load32_splat(p2 + po);
        const w3 = v128.load32_splat(p3 + po);
        a2 = f32x4.add(a2, f32x4.mul(w2, lo));
        b2 = f32x4.add(b2, f32x4.mul(w2, hi));
        a3 = f32x4.add(a3, f32x4.mul(w3, lo));
        b3 = f32x4.add(b3, f32x4.mul(w3, hi));
      }
    }
    const od = o0 + (<usize>d << 2);
    v128.store(od, a0);
    v128.store(od, b0, 16);
    if (queries >= 2) {
      v128.store(od + outRowBytes, a1);
      v128.store(od + outRowBytes, b1, 16);
    }
    if (queries == 4) {
      v128.store(od + 2 * outRowBytes, a2);
      v128.store(od + 2 * outRowBytes, b2, 16);
      v128.store(od + 3 * outRowBytes, a3);
      v128.store(od + 3 * outRowBytes, b3, 16);
    }
  }
  for (; d + 4 <= end; d += 4) {
    const vd = v + (<usize>d << 1);
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let t = 0; t < T; t++) {
      const vals = loadF16x4(vd + <usize>t * valueBytes);
      const po = <usize>t << 2;
      a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(p0 + po), vals));
      if (queries >= 2) a1 = f32x4.add(a1, f32x4.mul(v128.load32_splat(p1 + po), vals));
      if (queries == 4) {
        a2 = f32x4.add(a2, f32x4.mul(v128.load32_splat(p2 + po), vals));
        a3 = f32x4.add(a3, f32x4.mul(v128.load32_splat(p3 + po), vals));
      }
    }
    const od = o0 + (<usize>d << 2);
    v128.store(od, a0);
    if (queries >= 2) v128.store(od + outRowBytes, a1);
    if (queries == 4) {
      v128.store(od + 2 * outRowBytes, a2);
      v128.store(od + 3 * outRowBytes, a3);
    }
  }
  for (; d < end; d++) {
    const vd = v + (<usize>d << 1);
    let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
    for (let t = 0; t < T; t++) {
      const val = loadF16(vd + <usize>t * valueBytes);
      const po = <usize>t << 2;
      s0 += load<f32>(p0 + po) * val;
      if (queries >= 2) s1 += load<f32>(p1 + po) * val;
      if (queries == 4) {
        s2 += load<f32>(p2 + po) * val;
        s3 += load<f32>(p3 + po) * val;
      }
    }
    const od = o0 + (<usize>d << 2);
    store<f32>(od, s0);
    if (queries >= 2) store<f32>(od + outRowBytes, s1);
    if (queries == 4) {
      store<f32>(od + 2 * outRowBytes, s2);
      store<f32>(od + 3 * outRowBytes, s3);
    }
  }
}
