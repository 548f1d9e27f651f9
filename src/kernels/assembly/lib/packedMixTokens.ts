/**
 * The vector path of attn_mix_packed (packedAttention.ts): out[i·D + d] = Σ_t p[i·T + t]·x^_{t,d} for the slice's
 * dimensions d in [begin, end), begin, end and elemOffset multiples of 8.
 *
 * With x^ = base + c·scale (base = zero + 0.5·scale) the sum splits into
 *   Σ_t p_t·base_t          the same for every d: one pass over the tokens in f32 (pkMixBias), which initializes out;
 *   Σ_t p_t·scale_t·c_{t,d}  integer codes times p·scale rounded to int16 per chunk of 256 tokens
 *                            (lib/probabilityCodes.ts), summed with i32x4.dot_i16x8_s over token pairs.
 * Four tokens at a time: their 8-dimension chunks are unpacked once, interleaved into token pairs and used by every
 * query; the running i32 sums of nq queries × the slice's dimensions stay in the scratch (L1). Runs of quads of one
 * width go through that width's own function (constant-width unpacking, see lib/packedScoreRuns.ts for why the
 * functions are separate); quads of mixed widths and the last partial quad unpack with a runtime width.
 */
import { pkUnpack8 } from "./packedSimd";
import { PK_MAX_BITS, pkBitsOf, pkGroupIndex, pkScaleOf, pkSlotOf, pkUnpack8AnyWidth, pkZeroOf } from "./packedGroups";
import { hsumF32 } from "./reduce";
import { MIX_CHUNK, pcAcc, pcAccumulate4, pcCodes, pcFlush, pcMakeCodes, pcScales } from "./probabilityCodes";

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
 * Adds Σ_t p_t·scale_t·c_{t,d} (the coded part) to out for the slice's dimensions, chunk by chunk; the slice's
 * scratch slot is begin/8, acc must be zero at [begin, end) of every query row (it is left so).
 */
export function pkMixCoded(
  begin: i32, end: i32, p: usize, scratch: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize,
  scale: usize, metaStride: i32, metaIndex: i32, elemOffset: i32,
): void {
  const scratchSlot = begin >> 3;
  const scales = pcScales(scratch, nq, D, scratchSlot);
  for (let t0 = 0; t0 < T; t0 += MIX_CHUNK) {
    const t1 = min(T, t0 + MIX_CHUNK);
    for (let t = t0; t < t1; t++) {
      const m = pkGroupIndex(t, metaStride, metaIndex);
      const width = pkBitsOf(bits, m);
      // width 0 has no coded part: a zero scale keeps it out of the chunk's peak
      store<f32>(scales + (<usize>(t - t0) << 2), width == 0 ? 0 : pkScaleOf(scale, m, width));
    }
    pcMakeCodes(scratch, scratchSlot, p, nq, D, T, t0, t1);
    const codes = pcCodes(scratch, nq, scratchSlot) - (<usize>t0 << 1); // indexed by t
    let t = t0;
    while (t + 4 <= t1) t = quads(t, t1, begin, end, codes, scratch, nq, D, slot, bits, metaStride, metaIndex, elemOffset);
    if (t < t1) tailQuad(t, t1, begin, end, codes, scratch, nq, D, slot, bits, metaStride, metaIndex, elemOffset);
    pcFlush(scratch, scratchSlot, out, nq, D, begin, end);
  }
}

/**
 * Adds the integer sums of tokens t..t+3 (widths read at m0..m3; B ≥ 0 a constant width for all four, or -1 for
 * runtime widths) for the slice's dimensions.
 */
// @ts-ignore: decorator
@inline function mixQuad(
  B: i32, t: i32, begin: i32, end: i32, codes: usize, scratch: usize, nq: i32, D: i32, slot: usize, bits: usize,
  metaStride: i32, metaIndex: i32, elemOffset: i32,
): void {
  const m0 = pkGroupIndex(t, metaStride, metaIndex);
  const m1 = m0 + <usize>metaStride;
  const m2 = m1 + <usize>metaStride;
  const m3 = m2 + <usize>metaStride;
  const w0 = pkBitsOf(bits, m0), w1 = pkBitsOf(bits, m1), w2 = pkBitsOf(bits, m2), w3 = pkBitsOf(bits, m3);
  const c0 = pkSlotOf(slot, m0), c1 = pkSlotOf(slot, m1), c2 = pkSlotOf(slot, m2), c3 = pkSlotOf(slot, m3);
  const acc = pcAcc(scratch, nq, D);
  const pc = codes + (<usize>t << 1);
  for (let d = begin; d < end; d += 8) {
    const e = elemOffset + d;
    const k0 = B >= 0 ? pkUnpack8(B, c0 + <usize>(e >> 3) * <usize>B) : pkUnpack8AnyWidth(w0, c0, e);
    const k1 = B >= 0 ? pkUnpack8(B, c1 + <usize>(e >> 3) * <usize>B) : pkUnpack8AnyWidth(w1, c1, e);
    const k2 = B >= 0 ? pkUnpack8(B, c2 + <usize>(e >> 3) * <usize>B) : pkUnpack8AnyWidth(w2, c2, e);
    const k3 = B >= 0 ? pkUnpack8(B, c3 + <usize>(e >> 3) * <usize>B) : pkUnpack8AnyWidth(w3, c3, e);
    pcAccumulate4(pc, acc + (<usize>d << 2), nq, D,
      v128.shuffle<i16>(k0, k1, 0, 8, 1, 9, 2, 10, 3, 11), v128.shuffle<i16>(k0, k1, 4, 12, 5, 13, 6, 14, 7, 15),
      v128.shuffle<i16>(k2, k3, 0, 8, 1, 9, 2, 10, 3, 11), v128.shuffle<i16>(k2, k3, 4, 12, 5, 13, 6, 14, 7, 15));
  }
}

/** The last 1..3 tokens [t, t1) of a chunk: the missing tokens of the quad count as zero codes (their P is 0). */
function tailQuad(
  t: i32, t1: i32, begin: i32, end: i32, codes: usize, scratch: usize, nq: i32, D: i32, slot: usize, bits: usize,
  metaStride: i32, metaIndex: i32, elemOffset: i32,
): void {
  const acc = pcAcc(scratch, nq, D);
  const pc = codes + (<usize>t << 1);
  for (let d = begin; d < end; d += 8) {
    const e = elemOffset + d;
    const k0 = unpackOrZero(t, t1, slot, bits, metaStride, metaIndex, e);
    const k1 = unpackOrZero(t + 1, t1, slot, bits, metaStride, metaIndex, e);
    const k2 = unpackOrZero(t + 2, t1, slot, bits, metaStride, metaIndex, e);
    pcAccumulate4(pc, acc + (<usize>d << 2), nq, D,
      v128.shuffle<i16>(k0, k1, 0, 8, 1, 9, 2, 10, 3, 11), v128.shuffle<i16>(k0, k1, 4, 12, 5, 13, 6, 14, 7, 15),
      v128.shuffle<i16>(k2, k2, 0, 8, 1, 9, 2, 10, 3, 11), v128.shuffle<i16>(k2, k2, 4, 12, 5, 13, 6, 14, 7, 15));
  }
}

/** Token t's codes for elements e..e+7 as i16x8, or zeros when t is past the chunk's last token. */
// @ts-ignore: decorator
@inline function unpackOrZero(t: i32, t1: i32, slot: usize, bits: usize, metaStride: i32, metaIndex: i32, e: i32): v128 {
  if (t >= t1) return i16x8.splat(0);
  const m = pkGroupIndex(t, metaStride, metaIndex);
  return pkUnpack8AnyWidth(pkBitsOf(bits, m), pkSlotOf(slot, m), e);
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
  B: i32, t: i32, limit: i32, begin: i32, end: i32, codes: usize, scratch: usize, nq: i32, D: i32, slot: usize,
  bits: usize, metaStride: i32, metaIndex: i32, elemOffset: i32,
): i32 {
  do {
    // width 0 has no coded part: x^ = base, already in out
    if (B > 0) mixQuad(B, t, begin, end, codes, scratch, nq, D, slot, bits, metaStride, metaIndex, elemOffset);
    t += 4;
  } while (t + 4 <= limit && quadOfWidth(B, t, bits, metaStride, metaIndex));
  return t;
}

/**
 * Adds the tokens from t on, four at a time: a run of quads of t's width up to `limit`, or one quad of mixed (or
 * impossible) widths. Returns the first token not done; call while t + 4 ≤ limit.
 */
function quads(
  t: i32, limit: i32, begin: i32, end: i32, codes: usize, scratch: usize, nq: i32, D: i32, slot: usize, bits: usize,
  metaStride: i32, metaIndex: i32, elemOffset: i32,
): i32 {
  const width = pkBitsOf(bits, pkGroupIndex(t, metaStride, metaIndex));
  if (width <= PK_MAX_BITS && quadOfWidth(width, t, bits, metaStride, metaIndex)) {
    switch (width) {
      case 0: return mixRun(0, t, limit, begin, end, codes, scratch, nq, D, slot, bits, metaStride, metaIndex, elemOffset);
      case 1: return runOfWidth1(t, limit, begin, end, codes, scratch, nq, D, slot, bits, metaStride, metaIndex, elemOffset);
      case 2: return runOfWidth2(t, limit, begin, end, codes, scratch, nq, D, slot, bits, metaStride, metaIndex, elemOffset);
      case 3: return runOfWidth3(t, limit, begin, end, codes, scratch, nq, D, slot, bits, metaStride, metaIndex, elemOffset);
      case 4: return runOfWidth4(t, limit, begin, end, codes, scratch, nq, D, slot, bits, metaStride, metaIndex, elemOffset);
      case 5: return runOfWidth5(t, limit, begin, end, codes, scratch, nq, D, slot, bits, metaStride, metaIndex, elemOffset);
      case 6: return runOfWidth6(t, limit, begin, end, codes, scratch, nq, D, slot, bits, metaStride, metaIndex, elemOffset);
      case 7: return runOfWidth7(t, limit, begin, end, codes, scratch, nq, D, slot, bits, metaStride, metaIndex, elemOffset);
      default: return runOfWidth8(t, limit, begin, end, codes, scratch, nq, D, slot, bits, metaStride, metaIndex, elemOffset);
    }
  }
  mixQuad(-1, t, begin, end, codes, scratch, nq, D, slot, bits, metaStride, metaIndex, elemOffset);
  return t + 4;
}

function runOfWidth1(t: i32, limit: i32, begin: i32, end: i32, codes: usize, scratch: usize, nq: i32, D: i32, slot: usize, bits: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return mixRun(1, t, limit, begin, end, codes, scratch, nq, D, slot, bits, metaStride, metaIndex, elemOffset);
}
function runOfWidth2(t: i32, limit: i32, begin: i32, end: i32, codes: usize, scratch: usize, nq: i32, D: i32, slot: usize, bits: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return mixRun(2, t, limit, begin, end, codes, scratch, nq, D, slot, bits, metaStride, metaIndex, elemOffset);
}
function runOfWidth3(t: i32, limit: i32, begin: i32, end: i32, codes: usize, scratch: usize, nq: i32, D: i32, slot: usize, bits: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return mixRun(3, t, limit, begin, end, codes, scratch, nq, D, slot, bits, metaStride, metaIndex, elemOffset);
}
function runOfWidth4(t: i32, limit: i32, begin: i32, end: i32, codes: usize, scratch: usize, nq: i32, D: i32, slot: usize, bits: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return mixRun(4, t, limit, begin, end, codes, scratch, nq, D, slot, bits, metaStride, metaIndex, elemOffset);
}
function runOfWidth5(t: i32, limit: i32, begin: i32, end: i32, codes: usize, scratch: usize, nq: i32, D: i32, slot: usize, bits: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return mixRun(5, t, limit, begin, end, codes, scratch, nq, D, slot, bits, metaStride, metaIndex, elemOffset);
}
function runOfWidth6(t: i32, limit: i32, begin: i32, end: i32, codes: usize, scratch: usize, nq: i32, D: i32, slot: usize, bits: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return mixRun(6, t, limit, begin, end, codes, scratch, nq, D, slot, bits, metaStride, metaIndex, elemOffset);
}
function runOfWidth7(t: i32, limit: i32, begin: i32, end: i32, codes: usize, scratch: usize, nq: i32, D: i32, slot: usize, bits: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return mixRun(7, t, limit, begin, end, codes, scratch, nq, D, slot, bits, metaStride, metaIndex, elemOffset);
}
function runOfWidth8(t: i32, limit: i32, begin: i32, end: i32, codes: usize, scratch: usize, nq: i32, D: i32, slot: usize, bits: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return mixRun(8, t, limit, begin, end, codes, scratch, nq, D, slot, bits, metaStride, metaIndex, elemOffset);
}
