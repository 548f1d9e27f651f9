/**
 * Attention on the generic per-group packed KV storage (contract section 1; layouts in lib/packedGroups.ts and
 * src/kernels/packedKernelExports.ts): scores q·k^ against packed keys and the mix Σ_t p_t·v^_t of packed values.
 *
 * Scores, rows = tokens. With x^ = zero + (c + 0.5)·scale and centred codes c' = c - mid (mid = 2^(b-1)),
 *   q·x^ = base·Σ_d q_d + scale·Σ_d q_d·c'_d,   base = zero + (mid + 0.5)·scale,
 * and the code sum runs on int16 queries (lib/packedQueryPark.ts) with i32x4.dot_i16x8_s: eight multiply-adds per
 * instruction against four for f32 mul+add, and the codes are unpacked once per token for four queries. Rounding q
 * to int16 changes a score by at most scale·step_i/2·Σ_d |c'_d| (step_i = max|q_i|/32767): below 1e-4 of
 * Σ_d |q_d·x^_d| for any realistic row (centring halves |c'| against raw codes).
 * The slice's last pkParkSlots tokens, short slices and widths other than 8-aligned heads use the f32 path (x^
 * decoded exactly, then multiplied by the f32 query); odd head sizes or unaligned element offsets use a scalar path.
 *
 * Mix, rows = head dimensions (f32): tokens are taken four at a time, their x^ decoded for 8 dimensions, and every
 * query's running sums in `out` updated once per four tokens. (An int16 form would need the weights p·scale rounded
 * per query, whose error grows with T for flat attention; the mix stays exact in f32.)
 *
 * Outliers are applied after the dense pass: each one in the head's range adds (value - x^(code))·q_d to the
 * scores, or p_t·(value - x^(code)) to the mix, so the result equals "dequantize, patch, then compute".
 */
import { pkCodesHighF32, pkCodesLowF32, pkHsum4F32, pkHsum4I32, pkHsumF32, pkHsumI32, pkLoadHalf, pkReadCode, pkUnpack8 } from "./lib/packedSimd";
import { pkParkQueries, pkParkSlots, pkParkedRow, pkParkedSteps, pkQueryGroupPad } from "./lib/packedQueryPark";
import {
  PK_MAX_BITS, pkBitsOf, pkGroupIndex, pkOutlierPositions, pkReconstruct, pkScaleOf, pkSlotOf, pkUnpack8AnyWidth, pkZeroOf,
} from "./lib/packedGroups";
import { pkMixFourTokens, pkMixOneToken, pkMixTokenScalar } from "./lib/packedMixTokens";

/** Widest head for the integer path: |Σ_d qi_d·c'_d| ≤ D·32767·128 must fit an i32. */
const INT_DOT_MAX_DIM: i32 = 512;

export function attn_scores_packed(
  begin: i32, end: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize,
  zero: usize, metaStride: i32, metaIndex: i32, elemOffset: i32, groupLen: i32, nOut: i32,
): void {
  const vectorOk = ((D | elemOffset) & 7) == 0;
  const parkSlots = pkParkSlots(nq, D);
  let t = begin;
  if (vectorOk && D <= INT_DOT_MAX_DIM && end - begin > parkSlots) {
    const parkStart = end - parkSlots;
    pkParkQueries(q, out, nq, D, T, parkStart);
    for (; t < parkStart; t++) {
      const m = pkGroupIndex(t, metaStride, metaIndex);
      const width = pkBitsOf(bits, m);
      const step = pkScaleOf(scale, m, width);
      const origin = pkZeroOf(zero, m);
      const codes = pkSlotOf(slot, m);
      switch (width) {
        case 1: scoreCodesInt(1, codes, elemOffset, step, origin, t, parkStart, out, nq, D, T); break;
        case 2: scoreCodesInt(2, codes, elemOffset, step, origin, t, parkStart, out, nq, D, T); break;
        case 3: scoreCodesInt(3, codes, elemOffset, step, origin, t, parkStart, out, nq, D, T); break;
        case 4: scoreCodesInt(4, codes, elemOffset, step, origin, t, parkStart, out, nq, D, T); break;
        case 5: scoreCodesInt(5, codes, elemOffset, step, origin, t, parkStart, out, nq, D, T); break;
        case 6: scoreCodesInt(6, codes, elemOffset, step, origin, t, parkStart, out, nq, D, T); break;
        case 7: scoreCodesInt(7, codes, elemOffset, step, origin, t, parkStart, out, nq, D, T); break;
        case 8: scoreCodesInt(8, codes, elemOffset, step, origin, t, parkStart, out, nq, D, T); break;
        // width 0, and impossible widths (their step is NaN)
        default: scoreCodesInt(0, codes, elemOffset, step, origin, t, parkStart, out, nq, D, T);
      }
    }
  }
  for (; t < end; t++) {
    const m = pkGroupIndex(t, metaStride, metaIndex);
    const width = pkBitsOf(bits, m);
    const step = pkScaleOf(scale, m, width);
    const origin = pkZeroOf(zero, m);
    const codes = pkSlotOf(slot, m);
    if (vectorOk) scoreTokenFloat(width, codes, elemOffset, step, origin, t, q, out, nq, D, T);
    else scoreTokenScalar(width, codes, elemOffset, step, origin, t, q, out, nq, D, T);
  }
  if (nOut > 0) {
    for (t = begin; t < end; t++) {
      patchScoreOutliers(t, q, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset, groupLen, nOut);
    }
  }
}

export function attn_mix_packed(
  begin: i32, end: i32, p: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize,
  zero: usize, metaStride: i32, metaIndex: i32, elemOffset: i32, groupLen: i32, nOut: i32,
): void {
  if (begin >= end) return;
  for (let i = 0; i < nq; i++) memory.fill(out + ((<usize>i * D + begin) << 2), 0, <usize>(end - begin) << 2);
  if (((begin | end | elemOffset) & 7) == 0) {
    let t = 0;
    for (; t + 4 <= T; t += 4) pkMixFourTokens(t, begin, end, p, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
    for (; t < T; t++) pkMixOneToken(t, begin, end, p, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
  } else {
    for (let t = 0; t < T; t++) pkMixTokenScalar(t, begin, end, p, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
  }
  if (nOut > 0) {
    for (let t = 0; t < T; t++) {
      patchMixOutliers(t, begin, end, p, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset, groupLen, nOut);
    }
  }
}

/** Integer path for one token of width B: scores of all nq queries into out[i·T + t]. */
// @ts-ignore: decorator
@inline function scoreCodesInt(
  B: i32, codes: usize, elemOffset: i32, step: f32, origin: f32, t: i32, parkStart: i32, out: usize, nq: i32,
  D: i32, T: i32,
): void {
  const stream = codes + <usize>(elemOffset >> 3) * <usize>B;
  const mid = (1 << B) >> 1;
  const centre = i16x8.splat(<i16>mid);
  const base = origin + (<f32>mid + 0.5) * step;
  const steps = pkParkedSteps(out, parkStart, D);
  const sums = steps + (<usize>pkQueryGroupPad(nq) << 2);
  const rowStride = <usize>T << 2;
  const chunks = D >> 3;
  let i = 0;
  for (; i + 4 <= nq; i += 4) {
    let score = f32x4.mul(f32x4.splat(base), v128.load(sums + (<usize>i << 2)));
    if (B > 0) {
      const r0 = pkParkedRow(out, T, parkStart, i);
      const r1 = r0 + rowStride;
      const r2 = r1 + rowStride;
      const r3 = r2 + rowStride;
      let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
      for (let j = 0; j < chunks; j++) {
        const c = i16x8.sub(pkUnpack8(B, stream + <usize>j * <usize>B), centre);
        const at = <usize>j << 4;
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(c, v128.load(r0 + at)));
        a1 = i32x4.add(a1, i32x4.dot_i16x8_s(c, v128.load(r1 + at)));
        a2 = i32x4.add(a2, i32x4.dot_i16x8_s(c, v128.load(r2 + at)));
        a3 = i32x4.add(a3, i32x4.dot_i16x8_s(c, v128.load(r3 + at)));
      }
      const dots = f32x4.convert_i32x4_s(pkHsum4I32(a0, a1, a2, a3));
      score = f32x4.add(score, f32x4.mul(f32x4.mul(dots, v128.load(steps + (<usize>i << 2))), f32x4.splat(step)));
    }
    storeScores4(out + ((<usize>i * T + t) << 2), rowStride, score);
  }
  for (; i < nq; i++) {
    let score = base * load<f32>(sums + (<usize>i << 2));
    if (B > 0) {
      const row = pkParkedRow(out, T, parkStart, i);
      let a = i32x4.splat(0);
      for (let j = 0; j < chunks; j++) {
        const c = i16x8.sub(pkUnpack8(B, stream + <usize>j * <usize>B), centre);
        a = i32x4.add(a, i32x4.dot_i16x8_s(c, v128.load(row + (<usize>j << 4))));
      }
      score += <f32>pkHsumI32(a) * load<f32>(steps + (<usize>i << 2)) * step;
    }
    store<f32>(out + ((<usize>i * T + t) << 2), score);
  }
}

/** f32 path for one token (any width; D and elemOffset multiples of 8): x^ decoded exactly, times the f32 query. */
// @ts-ignore: decorator
@inline function scoreTokenFloat(
  width: i32, codes: usize, elemOffset: i32, step: f32, origin: f32, t: i32, q: usize, out: usize, nq: i32, D: i32,
  T: i32,
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
      const c = pkUnpack8AnyWidth(width, codes, elemOffset + d);
      const low = f32x4.add(originV, f32x4.mul(f32x4.add(pkCodesLowF32(c), half), stepV));
      const high = f32x4.add(originV, f32x4.mul(f32x4.add(pkCodesHighF32(c), half), stepV));
      const at = <usize>d << 2;
      a0 = f32x4.add(a0, f32x4.add(f32x4.mul(v128.load(q0 + at), low), f32x4.mul(v128.load(q0 + at, 16), high)));
      a1 = f32x4.add(a1, f32x4.add(f32x4.mul(v128.load(q1 + at), low), f32x4.mul(v128.load(q1 + at, 16), high)));
      a2 = f32x4.add(a2, f32x4.add(f32x4.mul(v128.load(q2 + at), low), f32x4.mul(v128.load(q2 + at, 16), high)));
      a3 = f32x4.add(a3, f32x4.add(f32x4.mul(v128.load(q3 + at), low), f32x4.mul(v128.load(q3 + at, 16), high)));
    }
    storeScores4(out + ((<usize>i * T + t) << 2), rowStride, pkHsum4F32(a0, a1, a2, a3));
  }
  for (; i < nq; i++) {
    const row = q + <usize>i * rowBytes;
    let a = f32x4.splat(0);
    for (let d = 0; d < D; d += 8) {
      const c = pkUnpack8AnyWidth(width, codes, elemOffset + d);
      const low = f32x4.add(originV, f32x4.mul(f32x4.add(pkCodesLowF32(c), half), stepV));
      const high = f32x4.add(originV, f32x4.mul(f32x4.add(pkCodesHighF32(c), half), stepV));
      const at = <usize>d << 2;
      a = f32x4.add(a, f32x4.add(f32x4.mul(v128.load(row + at), low), f32x4.mul(v128.load(row + at, 16), high)));
    }
    store<f32>(out + ((<usize>i * T + t) << 2), pkHsumF32(a));
  }
}

/** Scalar path for one token: any D, any element offset. */
// @ts-ignore: decorator
@inline function scoreTokenScalar(
  width: i32, codes: usize, elemOffset: i32, step: f32, origin: f32, t: i32, q: usize, out: usize, nq: i32, D: i32,
  T: i32,
): void {
  const readWidth = <u32>(width > PK_MAX_BITS ? 0 : width);
  for (let i = 0; i < nq; i++) {
    const row = q + ((<usize>i * D) << 2);
    let sum: f32 = 0;
    for (let d = 0; d < D; d++) {
      const code = pkReadCode(codes, <u32>(elemOffset + d), readWidth);
      sum += load<f32>(row + (<usize>d << 2)) * pkReconstruct(code, step, origin);
    }
    store<f32>(out + ((<usize>i * T + t) << 2), sum);
  }
}

// @ts-ignore: decorator
@inline function storeScores4(at: usize, rowStride: usize, score: v128): void {
  store<f32>(at, f32x4.extract_lane(score, 0));
  store<f32>(at + rowStride, f32x4.extract_lane(score, 1));
  store<f32>(at + 2 * rowStride, f32x4.extract_lane(score, 2));
  store<f32>(at + 3 * rowStride, f32x4.extract_lane(score, 3));
}

/** Adds (value - x^(code))·q_i[d] to the scores of token t for each outlier of its group inside the head. */
// @ts-ignore: decorator
@inline function patchScoreOutliers(
  t: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize, zero: usize,
  metaStride: i32, metaIndex: i32, elemOffset: i32, groupLen: i32, nOut: i32,
): void {
  const m = pkGroupIndex(t, metaStride, metaIndex);
  const width = pkBitsOf(bits, m);
  if (width > PK_MAX_BITS) return; // already NaN
  const step = pkScaleOf(scale, m, width);
  const origin = pkZeroOf(zero, m);
  const codes = pkSlotOf(slot, m);
  const positions = pkOutlierPositions(codes, groupLen, width);
  const values = positions + (<usize>nOut << 1);
  for (let o = 0; o < nOut; o++) {
    const position = <i32>load<u16>(positions + (<usize>o << 1));
    const d = position - elemOffset;
    if (<u32>d >= <u32>D) continue;
    const coded = pkReconstruct(pkReadCode(codes, <u32>position, <u32>width), step, origin);
    const delta = pkLoadHalf(values + (<usize>o << 1)) - coded;
    for (let i = 0; i < nq; i++) {
      const at = out + ((<usize>i * T + t) << 2);
      store<f32>(at, load<f32>(at) + delta * load<f32>(q + ((<usize>i * D + d) << 2)));
    }
  }
}

/** Adds p_i[t]·(value - x^(code)) to out[i·D + d] for each outlier of token t's group at a dimension d of the slice. */
// @ts-ignore: decorator
@inline function patchMixOutliers(
  t: i32, begin: i32, end: i32, p: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize,
  scale: usize, zero: usize, metaStride: i32, metaIndex: i32, elemOffset: i32, groupLen: i32, nOut: i32,
): void {
  const m = pkGroupIndex(t, metaStride, metaIndex);
  const width = pkBitsOf(bits, m);
  if (width > PK_MAX_BITS) return;
  const step = pkScaleOf(scale, m, width);
  const origin = pkZeroOf(zero, m);
  const codes = pkSlotOf(slot, m);
  const positions = pkOutlierPositions(codes, groupLen, width);
  const values = positions + (<usize>nOut << 1);
  for (let o = 0; o < nOut; o++) {
    const position = <i32>load<u16>(positions + (<usize>o << 1));
    const d = position - elemOffset;
    if (d < begin || d >= end) continue;
    const coded = pkReconstruct(pkReadCode(codes, <u32>position, <u32>width), step, origin);
    const delta = pkLoadHalf(values + (<usize>o << 1)) - coded;
    for (let i = 0; i < nq; i++) {
      const at = out + ((<usize>i * D + d) << 2);
      store<f32>(at, load<f32>(at) + load<f32>(p + ((<usize>i * T + t) << 2)) * delta);
    }
  }
}
