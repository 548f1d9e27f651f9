/**
 * The float path of attn_scores_packed (packedAttention.ts), for the tokens the integer path does not take: the
 * slice's last pkParkSlots tokens (their output slots hold the parked int16 queries meanwhile), short slices, and heads
 * wider than the integer path's bound. x^ = zero + (c + 0.5)·scale is decoded exactly for 8 dimensions at a time and
 * multiplied by the f32 query, four queries per decoded chunk. Like the integer path (lib/packedScoreRuns.ts), every
 * width has its own function that scores a run of consecutive tokens of that width.
 */
import { pkCodesHighF32, pkCodesLowF32, pkUnpack8 } from "./packedSimd";
import { PK_MAX_BITS, pkBitsOf, pkGroupIndex, pkScaleOf, pkSlotOf, pkZeroOf } from "./packedGroups";
import { hsum4F32, hsumF32 } from "./reduce";

/**
 * Scores tokens t, t+1, ... (< end) while they have the width of token t; returns the first token not scored.
 * D and elemOffset must be multiples of 8. Width 0 and impossible widths (NaN scale) share the width-0 run.
 */
export function pkScoreRunFloat(
  t: i32, end: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize,
  zero: usize, metaStride: i32, metaIndex: i32, elemOffset: i32,
): i32 {
  switch (pkBitsOf(bits, pkGroupIndex(t, metaStride, metaIndex))) {
    case 1: return floatRunOfWidth1(t, end, q, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
    case 2: return floatRunOfWidth2(t, end, q, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
    case 3: return floatRunOfWidth3(t, end, q, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
    case 4: return floatRunOfWidth4(t, end, q, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
    case 5: return floatRunOfWidth5(t, end, q, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
    case 6: return floatRunOfWidth6(t, end, q, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
    case 7: return floatRunOfWidth7(t, end, q, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
    case 8: return floatRunOfWidth8(t, end, q, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
    default: return floatRunOfWidth0(t, end, q, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
  }
}

function floatRunOfWidth0(t: i32, end: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize, zero: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return floatRun(0, t, end, q, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
}
function floatRunOfWidth1(t: i32, end: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize, zero: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return floatRun(1, t, end, q, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
}
function floatRunOfWidth2(t: i32, end: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize, zero: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return floatRun(2, t, end, q, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
}
function floatRunOfWidth3(t: i32, end: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize, zero: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return floatRun(3, t, end, q, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
}
function floatRunOfWidth4(t: i32, end: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize, zero: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return floatRun(4, t, end, q, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
}
function floatRunOfWidth5(t: i32, end: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize, zero: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return floatRun(5, t, end, q, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
}
function floatRunOfWidth6(t: i32, end: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize, zero: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return floatRun(6, t, end, q, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
}
function floatRunOfWidth7(t: i32, end: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize, zero: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return floatRun(7, t, end, q, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
}
function floatRunOfWidth8(t: i32, end: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize, zero: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return floatRun(8, t, end, q, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
}

// @ts-ignore: decorator
@inline function floatRun(
  B: i32, t: i32, end: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize,
  zero: usize, metaStride: i32, metaIndex: i32, elemOffset: i32,
): i32 {
  do {
    const m = pkGroupIndex(t, metaStride, metaIndex);
    const width = pkBitsOf(bits, m);
    if (B == 0 ? width != 0 && width <= PK_MAX_BITS : width != B) break;
    const codes = pkSlotOf(slot, m) + <usize>(elemOffset >> 3) * <usize>B;
    scoreTokenFloat(B, codes, pkScaleOf(scale, m, width), pkZeroOf(zero, m), t, q, out, nq, D, T);
    t++;
  } while (t < end);
  return t;
}

/** Scores of all nq queries for token t, its head's codes (width B) at `codes`. */
// @ts-ignore: decorator
@inline function scoreTokenFloat(
  B: i32, codes: usize, step: f32, origin: f32, t: i32, q: usize, out: usize, nq: i32, D: i32, T: i32,
): void {
  const stepV = f32x4.splat(step);
  const originV = f32x4.splat(origin);
  const half = f32x4.splat(0.5);
  const rowBytes = <usize>D << 2;
  const rowStride = <usize>T << 2;
  let i = 0;
  for (; i + 4 <= nq; i += 4) {
    const q0 = q + <usize>i * rowBytes;
    const q1 = q0 + rowBytes;
    const q2 = q1 + rowBytes;
    const q3 = q2 + rowBytes;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let d = 0; d < D; d += 8) {
      const c = pkUnpack8(B, codes + <usize>(d >> 3) * <usize>B);
      const low = f32x4.add(originV, f32x4.mul(f32x4.add(pkCodesLowF32(c), half), stepV));
      const high = f32x4.add(originV, f32x4.mul(f32x4.add(pkCodesHighF32(c), half), stepV));
      const at = <usize>d << 2;
      a0 = f32x4.add(a0, f32x4.add(f32x4.mul(v128.load(q0 + at), low), f32x4.mul(v128.load(q0 + at, 16), high)));
      a1 = f32x4.add(a1, f32x4.add(f32x4.mul(v128.load(q1 + at), low), f32x4.mul(v128.load(q1 + at, 16), high)));
      a2 = f32x4.add(a2, f32x4.add(f32x4.mul(v128.load(q2 + at), low), f32x4.mul(v128.load(q2 + at, 16), high)));
      a3 = f32x4.add(a3, f32x4.add(f32x4.mul(v128.load(q3 + at), low), f32x4.mul(v128.load(q3 + at, 16), high)));
    }
    const score = hsum4F32(a0, a1, a2, a3);
    const o = out + ((<usize>i * T + t) << 2);
    store<f32>(o, f32x4.extract_lane(score, 0));
    store<f32>(o + rowStride, f32x4.extract_lane(score, 1));
    store<f32>(o + 2 * rowStride, f32x4.extract_lane(score, 2));
    store<f32>(o + 3 * rowStride, f32x4.extract_lane(score, 3));
  }
  for (; i < nq; i++) {
    const row = q + <usize>i * rowBytes;
    let a = f32x4.splat(0);
    for (let d = 0; d < D; d += 8) {
      const c = pkUnpack8(B, codes + <usize>(d >> 3) * <usize>B);
      const low = f32x4.add(originV, f32x4.mul(f32x4.add(pkCodesLowF32(c), half), stepV));
      const high = f32x4.add(originV, f32x4.mul(f32x4.add(pkCodesHighF32(c), half), stepV));
      const at = <usize>d << 2;
      a = f32x4.add(a, f32x4.add(f32x4.mul(v128.load(row + at), low), f32x4.mul(v128.load(row + at, 16), high)));
    }
    store<f32>(out + ((<usize>i * T + t) << 2), hsumF32(a));
  }
}
