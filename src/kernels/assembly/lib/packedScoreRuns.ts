/**
 * The integer path of attn_scores_packed (packedAttention.ts): scores of tokens whose head values are packed codes
 * of width B, against the int16 query rows parked by pkParkQueries (lib/packedQueryPark.ts).
 *
 *   score_i = base·Σ_d q_id + scale·step_i·Σ_d qi_id·(c_d - mid),   base = zero + (mid + 0.5)·scale, mid = 2^(B-1)
 *
 * (the centred sum comes from raw codes and the parked Σ qi, exactly; centring halves the error of the rounded
 * query against raw codes: ≤ scale·step_i/2·Σ_d |c_d - mid|).
 *
 * Each width has its own wasm function (runOfWidthB) that scores a RUN of consecutive tokens of that width: with the
 * width a compile-time constant the unpacking is a few instructions with immediate constants, and keeping the nine
 * bodies out of one function matters (inlined side by side behind a switch, V8's register allocation of the shared
 * loop made every width twice as slow). Mixed widths cost one call per run.
 */
import { pkUnpack8 } from "./packedSimd";
import { PK_PARKED_ARRAY_BYTES, pkChunksPerRow, pkParkedRow, pkParkedSteps } from "./packedQueryPark";
import { PK_MAX_BITS, pkBitsOf, pkGroupIndex, pkScaleOf, pkSlotOf, pkZeroOf } from "./packedGroups";
import { hsum4I32, hsumI32 } from "./reduce";

/**
 * Scores tokens t, t+1, ... (< end) while they have the width of token t; returns the first token not scored.
 * Width 0 and impossible widths (> 8, whose scale reads as NaN) share the width-0 run.
 */
export function pkScoreRunInt(
  t: i32, end: i32, parkStart: i32, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize,
  zero: usize, metaStride: i32, metaIndex: i32, elemOffset: i32,
): i32 {
  switch (pkBitsOf(bits, pkGroupIndex(t, metaStride, metaIndex))) {
    case 1: return runOfWidth1(t, end, parkStart, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
    case 2: return runOfWidth2(t, end, parkStart, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
    case 3: return runOfWidth3(t, end, parkStart, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
    case 4: return runOfWidth4(t, end, parkStart, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
    case 5: return runOfWidth5(t, end, parkStart, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
    case 6: return runOfWidth6(t, end, parkStart, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
    case 7: return runOfWidth7(t, end, parkStart, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
    case 8: return runOfWidth8(t, end, parkStart, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
    default: return runOfWidth0(t, end, parkStart, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
  }
}

function runOfWidth0(t: i32, end: i32, parkStart: i32, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize, zero: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return scoreRun(0, t, end, parkStart, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
}
function runOfWidth1(t: i32, end: i32, parkStart: i32, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize, zero: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return scoreRun(1, t, end, parkStart, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
}
function runOfWidth2(t: i32, end: i32, parkStart: i32, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize, zero: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return scoreRun(2, t, end, parkStart, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
}
function runOfWidth3(t: i32, end: i32, parkStart: i32, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize, zero: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return scoreRun(3, t, end, parkStart, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
}
function runOfWidth4(t: i32, end: i32, parkStart: i32, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize, zero: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return scoreRun(4, t, end, parkStart, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
}
function runOfWidth5(t: i32, end: i32, parkStart: i32, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize, zero: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return scoreRun(5, t, end, parkStart, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
}
function runOfWidth6(t: i32, end: i32, parkStart: i32, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize, zero: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return scoreRun(6, t, end, parkStart, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
}
function runOfWidth7(t: i32, end: i32, parkStart: i32, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize, zero: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return scoreRun(7, t, end, parkStart, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
}
function runOfWidth8(t: i32, end: i32, parkStart: i32, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize, zero: usize, metaStride: i32, metaIndex: i32, elemOffset: i32): i32 {
  return scoreRun(8, t, end, parkStart, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
}

// @ts-ignore: decorator
@inline function scoreRun(
  B: i32, t: i32, end: i32, parkStart: i32, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize,
  scale: usize, zero: usize, metaStride: i32, metaIndex: i32, elemOffset: i32,
): i32 {
  do {
    const m = pkGroupIndex(t, metaStride, metaIndex);
    const width = pkBitsOf(bits, m);
    if (B == 0 ? width != 0 && width <= PK_MAX_BITS : width != B) break;
    scoreToken(B, pkSlotOf(slot, m), elemOffset, pkScaleOf(scale, m, width), pkZeroOf(zero, m), t, parkStart, out, nq, D, T);
    t++;
  } while (t < end);
  return t;
}

/** Scores of all nq queries for token t (codes of width B at `codes`) into out[i·T + t]. */
// @ts-ignore: decorator
@inline function scoreToken(
  B: i32, codes: usize, elemOffset: i32, step: f32, origin: f32, t: i32, parkStart: i32, out: usize, nq: i32,
  D: i32, T: i32,
): void {
  const stream = codes + <usize>(elemOffset >> 3) * <usize>B;
  const mid = (1 << B) >> 1;
  const base = origin + (<f32>mid + 0.5) * step;
  const rowStride = <usize>T << 2;
  const chunks = D >> 3;
  let i = 0;
  for (; i + 8 <= nq; i += 8) {
    let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
    let a4 = i32x4.splat(0), a5 = i32x4.splat(0), a6 = i32x4.splat(0), a7 = i32x4.splat(0);
    if (B > 0) {
      const perRow = pkChunksPerRow(8, D);
      let rowStart = pkParkedRow(out, T, parkStart, i);
      let block = rowStart;
      let left = perRow;
      for (let j = 0; j < chunks; j++) {
        const c = pkUnpack8(B, stream + <usize>j * <usize>B);
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(c, v128.load(block)));
        a1 = i32x4.add(a1, i32x4.dot_i16x8_s(c, v128.load(block, 16)));
        a2 = i32x4.add(a2, i32x4.dot_i16x8_s(c, v128.load(block, 32)));
        a3 = i32x4.add(a3, i32x4.dot_i16x8_s(c, v128.load(block, 48)));
        a4 = i32x4.add(a4, i32x4.dot_i16x8_s(c, v128.load(block, 64)));
        a5 = i32x4.add(a5, i32x4.dot_i16x8_s(c, v128.load(block, 80)));
        a6 = i32x4.add(a6, i32x4.dot_i16x8_s(c, v128.load(block, 96)));
        a7 = i32x4.add(a7, i32x4.dot_i16x8_s(c, v128.load(block, 112)));
        block += 128;
        if (--left == 0) {
          rowStart += rowStride;
          block = rowStart;
          left = perRow;
        }
      }
    }
    const steps = pkParkedSteps(out, T, parkStart, i, D);
    storeScores4(out, T, t, i, assemble4(hsum4I32(a0, a1, a2, a3), mid, base, step, steps));
    storeScores4(out, T, t, i + 4, assemble4(hsum4I32(a4, a5, a6, a7), mid, base, step, steps + 16));
  }
  for (; i + 4 <= nq; i += 4) {
    let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
    if (B > 0) {
      const perRow = pkChunksPerRow(4, D);
      let rowStart = pkParkedRow(out, T, parkStart, i);
      let block = rowStart;
      let left = perRow;
      for (let j = 0; j < chunks; j++) {
        const c = pkUnpack8(B, stream + <usize>j * <usize>B);
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(c, v128.load(block)));
        a1 = i32x4.add(a1, i32x4.dot_i16x8_s(c, v128.load(block, 16)));
        a2 = i32x4.add(a2, i32x4.dot_i16x8_s(c, v128.load(block, 32)));
        a3 = i32x4.add(a3, i32x4.dot_i16x8_s(c, v128.load(block, 48)));
        block += 64;
        if (--left == 0) {
          rowStart += rowStride;
          block = rowStart;
          left = perRow;
        }
      }
    }
    storeScores4(out, T, t, i, assemble4(hsum4I32(a0, a1, a2, a3), mid, base, step, pkParkedSteps(out, T, parkStart, i, D)));
  }
  for (; i < nq; i++) {
    let a = i32x4.splat(0);
    if (B > 0) {
      // a group of one keeps its whole row in its own parking
      const row = pkParkedRow(out, T, parkStart, i);
      for (let j = 0; j < chunks; j++) {
        a = i32x4.add(a, i32x4.dot_i16x8_s(pkUnpack8(B, stream + <usize>j * <usize>B), v128.load(row + (<usize>j << 4))));
      }
    }
    const at = pkParkedSteps(out, T, parkStart, i, D);
    let score = base * load<f32>(at + PK_PARKED_ARRAY_BYTES);
    if (B > 0) score += <f32>(hsumI32(a) - mid * load<i32>(at + 2 * PK_PARKED_ARRAY_BYTES)) * load<f32>(at) * step;
    store<f32>(out + ((<usize>i * T + t) << 2), score);
  }
}

/**
 * Scores of four queries from their raw code sums: base·Σq + scale·step·(Σ qi·c - mid·Σ qi), the centring done
 * exactly in i32 (at: their entries of the parked step array; sum and isum follow, see packedQueryPark.ts).
 */
// @ts-ignore: decorator
@inline function assemble4(dots: v128, mid: i32, base: f32, scale: f32, at: usize): v128 {
  const constant = f32x4.mul(f32x4.splat(base), v128.load(at + PK_PARKED_ARRAY_BYTES));
  if (mid == 0) return constant; // width 0: no coded part (and no 0·scale term, NaN for an infinite scale)
  const centred = i32x4.sub(dots, i32x4.mul(v128.load(at + 2 * PK_PARKED_ARRAY_BYTES), i32x4.splat(mid)));
  const coded = f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(centred), v128.load(at)), f32x4.splat(scale));
  return f32x4.add(constant, coded);
}

// @ts-ignore: decorator
@inline function storeScores4(out: usize, T: i32, t: i32, i: i32, score: v128): void {
  const rowStride = <usize>T << 2;
  const at = out + ((<usize>i * T + t) << 2);
  store<f32>(at, f32x4.extract_lane(score, 0));
  store<f32>(at + rowStride, f32x4.extract_lane(score, 1));
  store<f32>(at + 2 * rowStride, f32x4.extract_lane(score, 2));
  store<f32>(at + 3 * rowStride, f32x4.extract_lane(score, 3));
}
