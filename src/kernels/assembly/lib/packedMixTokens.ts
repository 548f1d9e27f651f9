/**
 * The vector path of attn_mix_packed (packedAttention.ts): out[i·D + d] = Σ_t p[i·T + t]·x^_{t,d} for the slice's
 * dimensions d in [begin, end), begin, end and elemOffset multiples of 8.
 *
 * With x^ = base + c·scale (base = zero + 0.5·scale) the sum splits into
 *   Σ_t p_t·base_t          the same for every d: one pass over the tokens (pkMixBias), which initializes out;
 *   Σ_t p_t·scale_t·c_{t,d}  decoded codes times the token's scale, accumulated into out.
 * The running sums of nq queries × the slice's dimensions do not fit in registers, so they stay in `out` (L1) and are
 * read and written once per FOUR tokens: the four tokens' 8-dimension chunks (8 vectors) are decoded once and used by
 * every query. Runs of quads of one width go through that width's own function (constant-width unpacking, see
 * lib/packedScoreRuns.ts for why the functions are separate); quads of mixed widths and the last T mod 4 tokens
 * unpack with a runtime width.
 */
import { pkCodesHighF32, pkCodesLowF32, pkUnpack8 } from "./packedSimd";
import { PK_MAX_BITS, pkBitsOf, pkGroupIndex, pkScaleOf, pkSlotOf, pkUnpack8AnyWidth, pkZeroOf } from "./packedGroups";
import { hsumF32 } from "./reduce";

/** Sets out[i·D + d] (d in [begin, end)) to Σ_t p_it·(zero_t + 0.5·scale_t), summing in out[i·D + begin ..+4] first. */
export function pkMixBias(
  begin: i32, end: i32, p: usize, out: usize, nq: i32, D: i32, T: i32, bits: usize, scale: usize, zero: usize,
  metaStride: i32, metaIndex: i32,
): void {
  const outRow = <usize>D << 2;
  const pRow = <usize>T << 2;
  const first = out + (<usize>begin << 2);
  for (let i = 0; i < nq; i++) v128.store(first + <usize>i * outRow, f32x4.splat(0));
  let t = 0;
  for (; t < T; t += 4) {
    // lanes k: base of token t + k (zero past T, where p is not read either)
    let base = f32x4.splat(0);
    for (let k = 0; k < 4 && t + k < T; k++) {
      const m = pkGroupIndex(t + k, metaStride, metaIndex);
      const b = pkZeroOf(zero, m) + 0.5 * pkScaleOf(scale, m, pkBitsOf(bits, m));
      base = v128.bitselect(f32x4.splat(b), base, i32x4.eq(i32x4(0, 1, 2, 3), i32x4.splat(k)));
    }
    const weights = p + (<usize>t << 2);
    for (let i = 0; i < nq; i++) {
      const at = first + <usize>i * outRow;
      const w = weights + <usize>i * pRow;
      // a partial quad reads only the p entries that exist
      const pw = t + 4 <= T ? v128.load(w) : loadPartial(w, T - t);
      v128.store(at, f32x4.add(v128.load(at), f32x4.mul(pw, base)));
    }
  }
  for (let i = 0; i < nq; i++) {
    const at = first + <usize>i * outRow;
    const bias = f32x4.splat(hsumF32(v128.load(at)));
    for (let d = begin; d < end; d += 4) v128.store(out + ((<usize>i * D + d) << 2), bias);
  }
}

/** The first n (1..3) f32 at p, zeros above. */
// @ts-ignore: decorator
@inline function loadPartial(p: usize, n: i32): v128 {
  let v = v128.load32_zero(p);
  if (n > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (n > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

/**
 * sums_i[0..8) += Σ_k weights_i[k]·(x_k, y_k) for the queries i < nq, four tokens k: weights_i at weights + i·pRow
 * (f32, consecutive tokens), sums_i at sums + i·outRow (8 f32, the low 4 then the high 4 dimensions).
 */
// @ts-ignore: decorator
@inline export function pkMixAccumulate4(
  weights: usize, sums: usize, nq: i32, pRow: usize, outRow: usize,
  x0: v128, y0: v128, x1: v128, y1: v128, x2: v128, y2: v128, x3: v128, y3: v128,
): void {
  for (let i = 0; i < nq; i++) {
    const p0 = v128.load32_splat(weights);
    const p1 = v128.load32_splat(weights, 4);
    const p2 = v128.load32_splat(weights, 8);
    const p3 = v128.load32_splat(weights, 12);
    const low = f32x4.add(f32x4.add(f32x4.mul(p0, x0), f32x4.mul(p1, x1)), f32x4.add(f32x4.mul(p2, x2), f32x4.mul(p3, x3)));
    const high = f32x4.add(f32x4.add(f32x4.mul(p0, y0), f32x4.mul(p1, y1)), f32x4.add(f32x4.mul(p2, y2), f32x4.mul(p3, y3)));
    v128.store(sums, f32x4.add(v128.load(sums), low));
    v128.store(sums, f32x4.add(v128.load(sums, 16), high), 16);
    weights += pRow;
    sums += outRow;
  }
}

/** pkMixAccumulate4 for one token. */
// @ts-ignore: decorator
@inline export function pkMixAccumulate1(weights: usize, sums: usize, nq: i32, pRow: usize, outRow: usize, x: v128, y: v128): void {
  for (let i = 0; i < nq; i++) {
    const w = v128.load32_splat(weights);
    v128.store(sums, f32x4.add(v128.load(sums), f32x4.mul(w, x)));
    v128.store(sums, f32x4.add(v128.load(sums, 16), f32x4.mul(w, y)), 16);
    weights += pRow;
    sums += outRow;
  }
}

/** Lane k of v in every lane. */
// @ts-ignore: decorator
@inline function lane(v: v128, k: i32): v128 {
  if (k == 0) return v128.shuffle<f32>(v, v, 0, 0, 0, 0);
  if (k == 1) return v128.shuffle<f32>(v, v, 1, 1, 1, 1);
  if (k == 2) return v128.shuffle<f32>(v, v, 2, 2, 2, 2);
  return v128.shuffle<f32>(v, v, 3, 3, 3, 3);
}

/**
 * Adds the coded part of tokens t..t+3 (widths w0..w3; B ≥ 0 a constant width for all four, or -1 for runtime
 * widths) for the slice's dimensions.
 */
// @ts-ignore: decorator
@inline function mixQuad(
  B: i32, t: i32, begin: i32, end: i32, p: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize,
  scale: usize, metaStride: i32, metaIndex: i32, elemOffset: i32,
): void {
  const m0 = pkGroupIndex(t, metaStride, metaIndex);
  const m1 = m0 + <usize>metaStride;
  const m2 = m1 + <usize>metaStride;
  const m3 = m2 + <usize>metaStride;
  const w0 = pkBitsOf(bits, m0), w1 = pkBitsOf(bits, m1), w2 = pkBitsOf(bits, m2), w3 = pkBitsOf(bits, m3);
  let scales = f32x4.splat(pkScaleOf(scale, m0, w0));
  scales = f32x4.replace_lane(scales, 1, pkScaleOf(scale, m1, w1));
  scales = f32x4.replace_lane(scales, 2, pkScaleOf(scale, m2, w2));
  scales = f32x4.replace_lane(scales, 3, pkScaleOf(scale, m3, w3));
  const c0 = pkSlotOf(slot, m0), c1 = pkSlotOf(slot, m1), c2 = pkSlotOf(slot, m2), c3 = pkSlotOf(slot, m3);
  const pRow = <usize>T << 2;
  const outRow = <usize>D << 2;
  for (let d = begin; d < end; d += 8) {
    const e = elemOffset + d;
    const k0 = B >= 0 ? pkUnpack8(B, c0 + <usize>(e >> 3) * <usize>B) : pkUnpack8AnyWidth(w0, c0, e);
    const k1 = B >= 0 ? pkUnpack8(B, c1 + <usize>(e >> 3) * <usize>B) : pkUnpack8AnyWidth(w1, c1, e);
    const k2 = B >= 0 ? pkUnpack8(B, c2 + <usize>(e >> 3) * <usize>B) : pkUnpack8AnyWidth(w2, c2, e);
    const k3 = B >= 0 ? pkUnpack8(B, c3 + <usize>(e >> 3) * <usize>B) : pkUnpack8AnyWidth(w3, c3, e);
    const s0 = lane(scales, 0), s1 = lane(scales, 1), s2 = lane(scales, 2), s3 = lane(scales, 3);
    pkMixAccumulate4(
      p + (<usize>t << 2), out + (<usize>d << 2), nq, pRow, outRow,
      f32x4.mul(pkCodesLowF32(k0), s0), f32x4.mul(pkCodesHighF32(k0), s0),
      f32x4.mul(pkCodesLowF32(k1), s1), f32x4.mul(pkCodesHighF32(k1), s1),
      f32x4.mul(pkCodesLowF32(k2), s2), f32x4.mul(pkCodesHighF32(k2), s2),
      f32x4.mul(pkCodesLowF32(k3), s3), f32x4.mul(pkCodesHighF32(k3), s3),
    );
  }
}

/** True when tokens t..t+3 all have width B. */
// @ts-ignore: decorator
@inline function quadOfWidth(B: i32, t: i32, bits: usize, metaStride: i32, metaIndex: i32): bool {
  const m = pkGroupIndex(t, metaStride, metaIndex);
  const stride = <usize>metaStride;
  return pkBitsOf(bits, m) == B && pkBitsOf(bits, m + stride) == B && pkBitsOf(bits, m + 2 * stride) == B &&
    pkBitsOf(bits, m + 3 * stride) == B;
}

// @ts-ignore: decorator
@inline function mixRun(
  B: i32, t: i32, begin: i32, end: i32, p: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize,
  scale: usize, metaStride: i32, metaIndex: i32, elemOffset: i32,
): i32 {
  do {
    // width 0 has no coded part: x^ = base, already in out
    if (B > 0) mixQuad(B, t, begin, end, p, out, nq, D, T, slot, bits, scale, metaStride, metaIndex, elemOffset);
    t += 4;
  } while (t + 4 <= T && quadOfWidth(B, t, bits, metaStride, metaIndex));
  return t;
}

/**
 * Adds the coded part of the tokens from t on, four at a time, to out: a run of quads of t's width, or one quad of
 * mixed (or impossible) widths. Returns the first token not done; call while t + 4 ≤ T.
 */
export function pkMixQuads(
  t: i32, begin: i32, end: i32, p: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize,
  scale: usize, metaStride: i32, metaIndex: i32, elemOffset: i32,
): i32 {
  const width = pkBitsOf(bits, pkGroupIndex(t, metaStride, metaIndex));
  if (width <= PK_MAX_BITS && quadOfWidth(width, t, bits, metaStride, metaIndex)) {
    switch (width) {
      case 0: return mixRun(0, t, begin, end, p, out, nq, D, T, slot, bits, scale, metaStride, metaIndex, elemOffset);
      case 1: return runOfWidth1(t, begin, end, p, out, nq, D, T, slot, bits, scale, metaStride, metaIndex, elemOffset);
      case 2: return runOfWidth2(t, begin, end, p, out, nq, D, T, slot, bits, scale, metaStride, metaIndex, elemOffset);
      case 3: return runOfWidth3(t, begin, end, p, out, nq, D, T, slot, bits, scale, metaStride, metaIndex, elemOffset);
      case 4: return runOfWidth4(t, begin, end, p, out, nq, D, T, slot, bits, scale, metaStride, metaIndex, elemOffset);
      case 5: return runOfWidth5(t, begin, end, p, out, nq, D, T, slot, bits, scale, metaStride, metaIndex, elemOffset);
      case 6: return runOfWidth6(t, begin, end, p, out, nq, D, T, slot, bits, scale, metaStride, metaIndex, elemOffset);
      case 7: return runOfWidth7(t, begin, end, p, out, nq, D, T, slot, bits, scale, metaStride, metaIndex, elemOffset);
      default: return runOfWidth8(t, begin, end, p, out, nq, D, T, slot, bits, scale, metaStride, metaIndex, elemOffset);
    }
  }
  mixedQuad(t, begin, end, p, out, nq, D, T, slot, bits, scale, metaStride, metaIndex, elemOffset);
  return t + 4;
}

function mixedQuad(t: i32, begin: i32, end: i32, p: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): void {
  mixQuad(-1, t, begin, end, p, out, nq, D, T, slot, bits, scale, metaStride, metaIndex, elemOffset);
}
function runOfWidth1(t: i32, begin: i32, end: i32, p: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return mixRun(1, t, begin, end, p, out, nq, D, T, slot, bits, scale, metaStride, metaIndex, elemOffset);
}
function runOfWidth2(t: i32, begin: i32, end: i32, p: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return mixRun(2, t, begin, end, p, out, nq, D, T, slot, bits, scale, metaStride, metaIndex, elemOffset);
}
function runOfWidth3(t: i32, begin: i32, end: i32, p: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return mixRun(3, t, begin, end, p, out, nq, D, T, slot, bits, scale, metaStride, metaIndex, elemOffset);
}
function runOfWidth4(t: i32, begin: i32, end: i32, p: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return mixRun(4, t, begin, end, p, out, nq, D, T, slot, bits, scale, metaStride, metaIndex, elemOffset);
}
function runOfWidth5(t: i32, begin: i32, end: i32, p: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return mixRun(5, t, begin, end, p, out, nq, D, T, slot, bits, scale, metaStride, metaIndex, elemOffset);
}
function runOfWidth6(t: i32, begin: i32, end: i32, p: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return mixRun(6, t, begin, end, p, out, nq, D, T, slot, bits, scale, metaStride, metaIndex, elemOffset);
}
function runOfWidth7(t: i32, begin: i32, end: i32, p: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return mixRun(7, t, begin, end, p, out, nq, D, T, slot, bits, scale, metaStride, metaIndex, elemOffset);
}
function runOfWidth8(t: i32, begin: i32, end: i32, p: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return mixRun(8, t, begin, end, p, out, nq, D, T, slot, bits, scale, metaStride, metaIndex, elemOffset);
}

/** Adds the coded part of token t alone (the last T mod 4 tokens). */
export function pkMixOneToken(
  t: i32, begin: i32, end: i32, p: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize,
  scale: usize, metaStride: i32, metaIndex: i32, elemOffset: i32,
): void {
  const m = pkGroupIndex(t, metaStride, metaIndex);
  const width = pkBitsOf(bits, m);
  const codes = pkSlotOf(slot, m);
  const step = f32x4.splat(pkScaleOf(scale, m, width));
  const pRow = <usize>T << 2;
  const outRow = <usize>D << 2;
  for (let d = begin; d < end; d += 8) {
    const k = pkUnpack8AnyWidth(width, codes, elemOffset + d);
    const x = f32x4.mul(pkCodesLowF32(k), step);
    const y = f32x4.mul(pkCodesHighF32(k), step);
    pkMixAccumulate1(p + (<usize>t << 2), out + (<usize>d << 2), nq, pRow, outRow, x, y);
  }
}
