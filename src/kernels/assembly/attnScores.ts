/**
 * Attention logits over a full-precision cache: rows = cached tokens t in [begin, end);
 * out[i·T + t] = q_i · k_t for the nq query rows q: [nq, headDim] f32; key t starts at element t·kStride of k
 * (f32 or f16 elements); out: [nq, T] f32. Any headDim (vector chunks of 4, scalar tail).
 *
 * f32: four keys per step, one query at a time: four independent accumulators, the keys stay in L1 for the next
 *      query, and the four logits are contiguous in out (one vector store).
 * f16: one key at a time, up to four queries at a time: converting the key dominates, so each converted chunk is
 *      used by four queries (nq = query heads per KV head x tokens of the block).
 */
import { loadF16x4, loadF16 } from "./lib/f16";
import { hsum4F32, hsumF32 } from "./lib/reduce";

export function attn_scores_f32(begin: i32, end: i32, q: usize, k: usize, out: usize, nq: i32, headDim: i32, kStride: i32, T: i32): void {
  const keyBytes = <usize>kStride << 2;
  const queryBytes = <usize>headDim << 2;
  const outRowBytes = <usize>T << 2;
  let t = begin;
  for (; t + 4 <= end; t += 4) {
    const k0 = k + <usize>t * keyBytes;
    const k1 = k0 + keyBytes;
    const k2 = k1 + keyBytes;
    const k3 = k2 + keyBytes;
    for (let i = 0; i < nq; i++) {
      const qi = q + <usize>i * queryBytes;
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let d = 0;
      for (; d + 4 <= headDim; d += 4) {
        const o = <usize>d << 2;
        const qv = v128.load(qi + o);
        a0 = f32x4.add(a0, f32x4.mul(qv, v128.load(k0 + o)));
        a1 = f32x4.add(a1, f32x4.mul(qv, v128.load(k1 + o)));
        a2 = f32x4.add(a2, f32x4.mul(qv, v128.load(k2 + o)));
        a3 = f32x4.add(a3, f32x4.mul(qv, v128.load(k3 + o)));
      }
      let s = hsum4F32(a0, a1, a2, a3);
      for (; d < headDim; d++) {
        const o = <usize>d << 2;
        let kd = f32x4.splat(load<f32>(k0 + o));
        kd = f32x4.replace_lane(kd, 1, load<f32>(k1 + o));
        kd = f32x4.replace_lane(kd, 2, load<f32>(k2 + o));
        kd = f32x4.replace_lane(kd, 3, load<f32>(k3 + o));
        s = f32x4.add(s, f32x4.mul(v128.load32_splat(qi + o), kd));
      }
      v128.store(out + <usize>i * outRowBytes + (<usize>t << 2), s);
    }
  }
  for (; t < end; t++) {
    const kt = k + <usize>t * keyBytes;
    for (let i = 0; i < nq; i++) {
      const qi = q + <usize>i * queryBytes;
      let a = f32x4.splat(0);
      let d = 0;
      for (; d + 4 <= headDim; d += 4) a = f32x4.add(a, f32x4.mul(v128.load(qi + (<usize>d << 2)), v128.load(kt + (<usize>d << 2))));
      let s = hsumF32(a);
      for (; d < headDim; d++) s += load<f32>(qi + (<usize>d << 2)) * load<f32>(kt + (<usize>d << 2));
      store<f32>(out + <usize>i * outRowBytes + (<usize>t << 2), s);
    }
  }
}

export function attn_scores_f16(begin: i32, end: i32, q: usize, k: usize, out: usize, nq: i32, headDim: i32, kStride: i32, T: i32): void {
  const keyBytes = <usize>kStride << 1;
  for (let t = begin; t < end; t++) {
    const kt = k + <usize>t * keyBytes;
    const outT = out + (<usize>t << 2);
    let i = 0;
    for (; i + 4 <= nq; i += 4) scoresF16(4, kt, q, outT, i, headDim, T);
    if (i + 2 <= nq) {
      scoresF16(2, kt, q, outT, i, headDim, T);
      i += 2;
    }
    if (i < nq) scoresF16(1, kt, q, outT, i, headDim, T);
  }
}

/** Logits of `queries` (1, 2 or 4; a constant) query rows from row i against one f16 key kt; out[(i+j)·T] (outT). */
// @ts-ignore: decorator
@inline function scoresF16(queries: i32, kt: usize, q: usize, outT: usize, i: i32, headDim: i32, T: i32): void {
  const queryBytes = <usize>headDim << 2;
  const q0 = q + <usize>i * queryBytes;
  const q1 = q0 + queryBytes;
  const q2 = q1 + queryBytes;
  const q3 = q2 + queryBytes;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let d = 0;
  for (; d + 4 <= headDim; d += 4) {
    const kv = loadF16x4(kt + (<usize>d << 1));
    const o = <usize>d << 2;
    a0 = f32x4.add(a0, f32x4.mul(kv, v128.load(q0 + o)));
    if (queries >= 2) a1 = f32x4.add(a1, f32x4.mul(kv, v128.load(q1 + o)));
    if (queries == 4) {
      a2 = f32x4.add(a2, f32x4.mul(kv, v128.load(q2 + o)));
      a3 = f32x4.add(a3, f32x4.mul(kv, v128.load(q3 + o)));
    }
  }
  // lane j = logit of query i + j
  let s = hsum4F32(a0, a1, a2, a3);
  for (; d < headDim; d++) {
    const kd = f32x4.splat(loadF16(kt + (<usize>d << 1)));
    const o = <usize>d << 2;
    let qd = f32x4.splat(load<f32>(q0 + o));
    if (queries >= 2) qd = f32x4.replace_lane(qd, 1, load<f32>(q1 + o));
    if (queries == 4) {
      qd = f32x4.replace_lane(qd, 2, load<f32>(q2 + o));
      qd = f32x4.replace_lane(qd, 3, load<f32>(q3 + o));
    }
    s = f32x4.add(s, f32x4.mul(kd, qd));
  }
  const outRowBytes = <usize>T << 2;
  const o0 = outT + <usize>i * outRowBytes;
  store<f32>(o0, f32x4.extract_lane(s, 0));
  if (queries >= 2) store<f32>(o0 + outRowBytes, f32x4.extract_lane(s, 1));
  if (queries == 4) {
    store<f32>(o0 + 2 * outRowBytes, f32x4.extract_lane(s, 2));
    store<f32>(o0 + 3 * outRowBytes, f32x4.extract_lane(s, 3));
  }
}
