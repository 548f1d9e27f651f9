/**
 * Attention on the generic per-group packed KV storage (contract section 1; layouts in lib/packedGroups.ts and
 * src/kernels/packedKernelExports.ts): scores q·k^ against packed keys and the mix Σ_t p_t·v^_t of packed values.
 *
 * Scores, rows = tokens. With x^ = zero + (c + 0.5)·scale and centred codes c - mid (mid = 2^(b-1)),
 *   q·x^ = base·Σ_d q_d + scale·Σ_d q_d·(c_d - mid),   base = zero + (mid + 0.5)·scale,
 * and the code sum runs on int16 queries (lib/packedQueryPark.ts) with i32x4.dot_i16x8_s (lib/packedScoreRuns.ts):
 * eight multiply-adds per instruction against four for f32 mul+add, each unpacked chunk serving up to eight queries.
 * Rounding q to int16 moves a score by at most scale·step/2·Σ_d |c_d - mid| (step = max|q|/32767, ≈ 1.5e-5 of
 * max|q|·Σ|x^ - base|). The slice's last pkParkSlots tokens (they hold the parked queries), short slices and heads
 * wider than 256 take the float path (lib/packedScoreFloatRuns.ts: x^ decoded exactly, times the f32 query); head
 * sizes or element offsets that are not multiples of 8 take the scalar path below.
 *
 * Mix, rows = head dimensions (lib/packedMixTokens.ts): a per-query constant Σ_t p_t·base_t in f32, then the codes
 * four tokens at a time against p·scale rounded to int16 per chunk of 256 tokens (lib/probabilityCodes.ts; the
 * step follows p chunk by chunk, so flat attention over long contexts loses no precision to it). scratch:
 * mix_scratch_bytes(nq, D) bytes for this call.
 *
 * Outliers are applied after the dense pass: each one in the head's range adds (value - x^(code))·q_d to the
 * scores, or p_t·(value - x^(code)) to the mix, so the result equals "dequantize, patch, then compute".
 */
import { pkLoadHalf, pkReadCode } from "./lib/packedSimd";
import { PK_INT_DOT_MAX_DIM, pkParkQueries, pkParkSlots } from "./lib/packedQueryPark";
import { pkScoreRunInt } from "./lib/packedScoreRuns";
import { pkScoreRunFloat } from "./lib/packedScoreFloatRuns";
import {
  PK_MAX_BITS, pkBeginSequence, pkBitsOf, pkGroupIndex, pkOutlierPosition, pkOutlierValues, pkReconstruct, pkScaleOf, pkSlotOf,
  pkZeroOf,
} from "./lib/packedGroups";
import { pkMixBias, pkMixCoded } from "./lib/packedMixTokens";
import { mixScratchBytes, pcAcc } from "./lib/probabilityCodes";

export function attn_scores_packed(
  begin: i32, end: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, blocks: usize, bits: usize, scale: usize,
  zero: usize, elemOffset: i32, groupLen: i32, nOut: i32,
): void {
  pkBeginSequence(blocks, bits, groupLen, nOut);
  const slot = blocks;
  const metaStride = 1;
  const metaIndex = 0;
  const vectorOk = ((D | elemOffset) & 7) == 0;
  const parkSlots = pkParkSlots(D);
  let t = begin;
  if (vectorOk && D <= PK_INT_DOT_MAX_DIM && end - begin > parkSlots) {
    const parkStart = end - parkSlots;
    pkParkQueries(q, out, nq, D, T, parkStart);
    while (t < parkStart) {
      t = pkScoreRunInt(t, parkStart, parkStart, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
    }
  }
  if (vectorOk) {
    while (t < end) t = pkScoreRunFloat(t, end, q, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
  }
  for (; t < end; t++) {
    const m = pkGroupIndex(t, metaStride, metaIndex);
    const width = pkBitsOf(bits, m);
    scoreTokenScalar(width, pkSlotOf(slot, m), elemOffset, pkScaleOf(scale, m, width), pkZeroOf(zero, m), t, q, out, nq, D, T);
  }
  if (nOut > 0) {
    for (t = begin; t < end; t++) {
      patchScoreOutliers(t, q, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset, groupLen, nOut);
    }
  }
}

/** Bytes of the scratch one integer mix call needs (attn_mix_packed, attn_mix_blockq_*; lib/probabilityCodes.ts). */
export function mix_scratch_bytes(nq: i32, D: i32): i32 {
  return mixScratchBytes(nq, D);
}

export function attn_mix_packed(
  begin: i32, end: i32, p: usize, scratch: usize, out: usize, nq: i32, D: i32, T: i32, blocks: usize, bits: usize,
  scale: usize, zero: usize, elemOffset: i32, groupLen: i32, nOut: i32,
): void {
  if (begin >= end) return;
  pkBeginSequence(blocks, bits, groupLen, nOut);
  const slot = blocks;
  const metaStride = 1;
  const metaIndex = 0;
  if (((begin | end | elemOffset) & 7) == 0) {
    pkMixBias(begin, end, p, out, nq, D, T, bits, scale, zero, metaStride, metaIndex);
    const acc = pcAcc(scratch, nq, D);
    for (let i = 0; i < nq; i++) memory.fill(acc + ((<usize>i * D + begin) << 2), 0, <usize>(end - begin) << 2);
    pkMixCoded(begin, end, p, scratch, out, nq, D, T, slot, bits, scale, metaStride, metaIndex, elemOffset);
  } else {
    for (let i = 0; i < nq; i++) memory.fill(out + ((<usize>i * D + begin) << 2), 0, <usize>(end - begin) << 2);
    for (let t = 0; t < T; t++) mixTokenScalar(t, begin, end, p, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset);
  }
  if (nOut > 0) {
    for (let t = 0; t < T; t++) {
      patchMixOutliers(t, begin, end, p, out, nq, D, T, slot, bits, scale, zero, metaStride, metaIndex, elemOffset, groupLen, nOut);
    }
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

/** Scalar mix step for token t: any dimension range and element offset; x^ decoded in full. */
// @ts-ignore: decorator
@inline function mixTokenScalar(
  t: i32, begin: i32, end: i32, p: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize,
  scale: usize, zero: usize, metaStride: i32, metaIndex: i32, elemOffset: i32,
): void {
  const m = pkGroupIndex(t, metaStride, metaIndex);
  const width = pkBitsOf(bits, m);
  const readWidth = <u32>(width > PK_MAX_BITS ? 0 : width);
  const codes = pkSlotOf(slot, m);
  const step = pkScaleOf(scale, m, width);
  const origin = pkZeroOf(zero, m);
  for (let d = begin; d < end; d++) {
    const x = pkReconstruct(pkReadCode(codes, <u32>(elemOffset + d), readWidth), step, origin);
    for (let i = 0; i < nq; i++) {
      const at = out + ((<usize>i * D + d) << 2);
      store<f32>(at, load<f32>(at) + load<f32>(p + ((<usize>i * T + t) << 2)) * x);
    }
  }
}

/** Adds (value - x^(code))·q_i[d] to the scores of token t for each outlier of its group inside the head. */
// @ts-ignore: decorator
@inline function patchScoreOutliers(
  t: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize, scale: usize, zero: usize,
  metaStride: i32, metaIndex: i32, elemOffset: i32, groupLen: i32, nOut: i32,
): void {
  const m = pkGroupIndex(t, metaStride, metaIndex);
  const width = pkBitsOf(bits, m);
  if (width > PK_MAX_BITS) return; // empty (no outliers), or impossible (already NaN)
  const step = pkScaleOf(scale, m, width);
  const origin = pkZeroOf(zero, m);
  const codes = pkSlotOf(slot, m);
  const values = pkOutlierValues(codes, groupLen, width);
  const positions = values + (<usize>nOut << 1);
  for (let o = 0; o < nOut; o++) {
    const position = pkOutlierPosition(positions, o, groupLen);
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
  if (width > PK_MAX_BITS) return; // empty or impossible: no outliers
  const step = pkScaleOf(scale, m, width);
  const origin = pkZeroOf(zero, m);
  const codes = pkSlotOf(slot, m);
  const values = pkOutlierValues(codes, groupLen, width);
  const positions = values + (<usize>nOut << 1);
  for (let o = 0; o < nOut; o++) {
    const position = pkOutlierPosition(positions, o, groupLen);
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
