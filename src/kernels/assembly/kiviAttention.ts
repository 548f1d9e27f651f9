/**
 * attn_scores_kivi: scores against KIVI keys, quantized per channel in blocks of 32 tokens (contract section 2;
 * layout in src/kernels/packedKernelExports.ts):
 *   block: [codes 32 × ceil(D·b/8) bytes, token-major][scale D × f16][zero D × f16],  x^_{r,d} = zero_d + (c + 0.5)·scale_d
 *
 * With centred codes c' = c - mid (mid = 2^(b-1)) a block's scores are
 *   q·x^_r = bias + Σ_d q'_d·c'_{r,d},   q' = q ⊙ scale,   bias = Σ_d q_d·(zero_d + (mid + 0.5)·scale_d),
 * so per block q' is built once (per query), rounded to int16 against its own largest magnitude (step S = max|q'|/32767),
 * and the 32 tokens run on i32x4.dot_i16x8_s like attn_scores_packed. Error ≤ S/2·Σ_d |c'_d| per score.
 *
 * Scratch, as in lib/packedQueryPark.ts, lives in the output slots of the slice's last `parkBlocks` blocks, which are
 * scored last by the float path. Layout from out + 4·(i·T + parkStart) for query row i:
 *   row i:  q'_i [D] f32 (rounded in place to [D] i16 for the block), then two f32x4: running max |q'| and bias sums,
 *           then, in the first row of each group of four queries (or a leftover query's own row):
 *           steps [4] f32 (S of the group's queries), biases [4] f32
 * D + 16 slots per row, whatever nq.
 */
import {
  pkCodesHighF32, pkCodesLowF32, pkLoadHalf, pkLoadHalf4, pkReadCode,
  pkUnpack8,
} from "./lib/packedSimd";
import { pkReconstruct, pkUnpack8AnyWidth } from "./lib/packedGroups";
import { hsum4F32, hsum4I32, hsumF32, hsumI32 } from "./lib/reduce";

const KIVI_BLOCK: i32 = 32;
const INT_DOT_MAX_DIM: i32 = 512;
const QI_MAX: f32 = 32767;

/** Slots per query row the scratch needs. */
// @ts-ignore: decorator
@inline function kiviParkSlots(D: i32): i32 {
  return D + 16;
}

/** The row holding query i's step and bias: the first of its group of four, or its own for the last nq mod 4. */
// @ts-ignore: decorator
@inline function groupRow(i: i32, nq: i32): i32 {
  return i < (nq & ~3) ? i & ~3 : i;
}

export function attn_scores_kivi(
  begin: i32, end: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, blockPtrs: usize, bits: i32, tokenOffset: i32,
): void {
  if (begin >= end) return;
  const parkBlocks = (kiviParkSlots(D) + KIVI_BLOCK - 1) / KIVI_BLOCK;
  let j = begin;
  if ((D & 7) == 0 && D <= INT_DOT_MAX_DIM && end - begin > parkBlocks && bits >= 0 && bits <= 8) {
    const fastEnd = end - parkBlocks;
    const parkStart = tokenOffset + fastEnd * KIVI_BLOCK;
    switch (bits) {
      case 0: blocksOfWidth0(j, fastEnd, parkStart, q, out, nq, D, T, blockPtrs, tokenOffset); break;
      case 1: blocksOfWidth1(j, fastEnd, parkStart, q, out, nq, D, T, blockPtrs, tokenOffset); break;
      case 2: blocksOfWidth2(j, fastEnd, parkStart, q, out, nq, D, T, blockPtrs, tokenOffset); break;
      case 3: blocksOfWidth3(j, fastEnd, parkStart, q, out, nq, D, T, blockPtrs, tokenOffset); break;
      case 4: blocksOfWidth4(j, fastEnd, parkStart, q, out, nq, D, T, blockPtrs, tokenOffset); break;
      case 5: blocksOfWidth5(j, fastEnd, parkStart, q, out, nq, D, T, blockPtrs, tokenOffset); break;
      case 6: blocksOfWidth6(j, fastEnd, parkStart, q, out, nq, D, T, blockPtrs, tokenOffset); break;
      case 7: blocksOfWidth7(j, fastEnd, parkStart, q, out, nq, D, T, blockPtrs, tokenOffset); break;
      default: blocksOfWidth8(j, fastEnd, parkStart, q, out, nq, D, T, blockPtrs, tokenOffset);
    }
    j = fastEnd;
  }
  for (; j < end; j++) scoreBlockFloat(blockAt(blockPtrs, j), bits, tokenOffset + j * KIVI_BLOCK, q, out, nq, D, T);
}

// One function per width (see lib/packedScoreRuns.ts: nine inlined bodies in one function were twice as slow).
function blocksOfWidth0(j: i32, end: i32, parkStart: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, blockPtrs: usize, tokenOffset: i32): void {
  for (; j < end; j++) scoreBlockInt(0, blockAt(blockPtrs, j), tokenOffset + j * KIVI_BLOCK, parkStart, q, out, nq, D, T);
}
function blocksOfWidth1(j: i32, end: i32, parkStart: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, blockPtrs: usize, tokenOffset: i32): void {
  for (; j < end; j++) scoreBlockInt(1, blockAt(blockPtrs, j), tokenOffset + j * KIVI_BLOCK, parkStart, q, out, nq, D, T);
}
function blocksOfWidth2(j: i32, end: i32, parkStart: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, blockPtrs: usize, tokenOffset: i32): void {
  for (; j < end; j++) scoreBlockInt(2, blockAt(blockPtrs, j), tokenOffset + j * KIVI_BLOCK, parkStart, q, out, nq, D, T);
}
function blocksOfWidth3(j: i32, end: i32, parkStart: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, blockPtrs: usize, tokenOffset: i32): void {
  for (; j < end; j++) scoreBlockInt(3, blockAt(blockPtrs, j), tokenOffset + j * KIVI_BLOCK, parkStart, q, out, nq, D, T);
}
function blocksOfWidth4(j: i32, end: i32, parkStart: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, blockPtrs: usize, tokenOffset: i32): void {
  for (; j < end; j++) scoreBlockInt(4, blockAt(blockPtrs, j), tokenOffset + j * KIVI_BLOCK, parkStart, q, out, nq, D, T);
}
function blocksOfWidth5(j: i32, end: i32, parkStart: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, blockPtrs: usize, tokenOffset: i32): void {
  for (; j < end; j++) scoreBlockInt(5, blockAt(blockPtrs, j), tokenOffset + j * KIVI_BLOCK, parkStart, q, out, nq, D, T);
}
function blocksOfWidth6(j: i32, end: i32, parkStart: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, blockPtrs: usize, tokenOffset: i32): void {
  for (; j < end; j++) scoreBlockInt(6, blockAt(blockPtrs, j), tokenOffset + j * KIVI_BLOCK, parkStart, q, out, nq, D, T);
}
function blocksOfWidth7(j: i32, end: i32, parkStart: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, blockPtrs: usize, tokenOffset: i32): void {
  for (; j < end; j++) scoreBlockInt(7, blockAt(blockPtrs, j), tokenOffset + j * KIVI_BLOCK, parkStart, q, out, nq, D, T);
}
function blocksOfWidth8(j: i32, end: i32, parkStart: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, blockPtrs: usize, tokenOffset: i32): void {
  for (; j < end; j++) scoreBlockInt(8, blockAt(blockPtrs, j), tokenOffset + j * KIVI_BLOCK, parkStart, q, out, nq, D, T);
}

// @ts-ignore: decorator
@inline function blockAt(blockPtrs: usize, j: i32): usize {
  return <usize>load<u32>(blockPtrs + (<usize>j << 2));
}

/** Builds the block's int16 q' rows, steps and biases in the scratch, then scores its 32 tokens. */
// @ts-ignore: decorator
@inline function scoreBlockInt(
  B: i32, block: usize, first: i32, parkStart: i32, q: usize, out: usize, nq: i32, D: i32, T: i32,
): void {
  const rowBytes = <usize>((D * B) >> 3);
  const scales = block + <usize>KIVI_BLOCK * rowBytes;
  const zeros = scales + (<usize>D << 1);
  const mid = (1 << B) >> 1;
  const rowStride = <usize>T << 2;
  const park = out + (<usize>parkStart << 2);
  const partials = <usize>D << 2; // offset of the two f32x4 after q'_i
  const steps = partials + 32; // offset of a group's steps; its biases follow at + 16
  // pass 1 (channels outer, so each scale/zero is decoded once): q' = q ⊙ scale, max |q'|, bias sums
  const half = f32x4.splat(<f32>mid + 0.5);
  for (let d = 0; d < D; d += 8) {
    const scaleLow = pkLoadHalf4(scales + (<usize>d << 1));
    const scaleHigh = pkLoadHalf4(scales + (<usize>d << 1) + 8);
    const zeroLow = f32x4.add(pkLoadHalf4(zeros + (<usize>d << 1)), f32x4.mul(half, scaleLow));
    const zeroHigh = f32x4.add(pkLoadHalf4(zeros + (<usize>d << 1) + 8), f32x4.mul(half, scaleHigh));
    let row = park;
    let x = q + (<usize>d << 2);
    for (let i = 0; i < nq; i++) {
      const xLow = v128.load(x);
      const xHigh = v128.load(x, 16);
      const low = f32x4.mul(xLow, scaleLow);
      const high = f32x4.mul(xHigh, scaleHigh);
      v128.store(row + (<usize>d << 2), low);
      v128.store(row + (<usize>d << 2), high, 16);
      let peak = f32x4.max(f32x4.abs(low), f32x4.abs(high));
      let bias = f32x4.add(f32x4.mul(xLow, zeroLow), f32x4.mul(xHigh, zeroHigh));
      if (d > 0) {
        peak = f32x4.max(v128.load(row + partials), peak);
        bias = f32x4.add(v128.load(row + partials, 16), bias);
      }
      v128.store(row + partials, peak);
      v128.store(row + partials, bias, 16);
      row += rowStride;
      x += <usize>D << 2;
    }
  }
  // pass 2 (per query): round q' in place to int16 (the i16 write at 2·d trails the f32 read at 4·d)
  let row = park;
  for (let i = 0; i < nq; i++) {
    const peak4 = v128.load(row + partials);
    const top = Mathf.max(Mathf.max(f32x4.extract_lane(peak4, 0), f32x4.extract_lane(peak4, 1)),
      Mathf.max(f32x4.extract_lane(peak4, 2), f32x4.extract_lane(peak4, 3)));
    const inverse = f32x4.splat(top > 0 ? QI_MAX / top : 0);
    const bias = hsumF32(v128.load(row + partials, 16));
    for (let d = 0; d < D; d += 8) {
      const low = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(row + (<usize>d << 2)), inverse)));
      const high = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(row + (<usize>d << 2), 16), inverse)));
      v128.store(row + (<usize>d << 1), i16x8.narrow_i32x4_s(low, high));
    }
    const leader = groupRow(i, nq);
    const at = park + <usize>leader * rowStride + steps + (<usize>(i - leader) << 2);
    store<f32>(at, top / QI_MAX);
    store<f32>(at, bias, 16);
    row += rowStride;
  }
  const centre = i16x8.splat(<i16>mid);
  const chunks = D >> 3;
  for (let r = 0; r < KIVI_BLOCK; r++) {
    const codes = block + <usize>r * rowBytes;
    const at = out + (<usize>(first + r) << 2);
    let i = 0;
    for (; i + 4 <= nq; i += 4) {
      const r0 = park + <usize>i * rowStride;
      let score = v128.load(r0 + steps, 16);
      if (B > 0) {
        const r1 = r0 + rowStride;
        const r2 = r1 + rowStride;
        const r3 = r2 + rowStride;
        let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
        for (let k = 0; k < chunks; k++) {
          const c = i16x8.sub(pkUnpack8(B, codes + <usize>k * <usize>B), centre);
          const off = <usize>k << 4;
          a0 = i32x4.add(a0, i32x4.dot_i16x8_s(c, v128.load(r0 + off)));
          a1 = i32x4.add(a1, i32x4.dot_i16x8_s(c, v128.load(r1 + off)));
          a2 = i32x4.add(a2, i32x4.dot_i16x8_s(c, v128.load(r2 + off)));
          a3 = i32x4.add(a3, i32x4.dot_i16x8_s(c, v128.load(r3 + off)));
        }
        const dots = f32x4.convert_i32x4_s(hsum4I32(a0, a1, a2, a3));
        score = f32x4.add(score, f32x4.mul(dots, v128.load(r0 + steps)));
      }
      const o = at + <usize>i * rowStride;
      store<f32>(o, f32x4.extract_lane(score, 0));
      store<f32>(o + rowStride, f32x4.extract_lane(score, 1));
      store<f32>(o + 2 * rowStride, f32x4.extract_lane(score, 2));
      store<f32>(o + 3 * rowStride, f32x4.extract_lane(score, 3));
    }
    for (; i < nq; i++) {
      const parked = park + <usize>i * rowStride;
      let score = load<f32>(parked + steps, 16);
      if (B > 0) {
        let a = i32x4.splat(0);
        for (let k = 0; k < chunks; k++) {
          const c = i16x8.sub(pkUnpack8(B, codes + <usize>k * <usize>B), centre);
          a = i32x4.add(a, i32x4.dot_i16x8_s(c, v128.load(parked + (<usize>k << 4))));
        }
        score += <f32>hsumI32(a) * load<f32>(parked + steps);
      }
      store<f32>(at + <usize>i * rowStride, score);
    }
  }
}

/**
 * Float path for one block (the parked blocks, short slices, any D): every x^ decoded exactly, times the f32 query,
 * four queries per decoded chunk of 8 channels; D not a multiple of 8 goes channel by channel. An impossible width
 * gives NaN.
 */
// @ts-ignore: decorator
@inline function scoreBlockFloat(block: usize, bits: i32, first: i32, q: usize, out: usize, nq: i32, D: i32, T: i32): void {
  const valid = bits >= 0 && bits <= 8;
  const width = valid ? bits : 0;
  const rowBytes = <usize>((D * width + 7) >> 3);
  const scales = block + <usize>KIVI_BLOCK * rowBytes;
  const zeros = scales + (<usize>D << 1);
  const queryBytes = <usize>D << 2;
  const rowStride = <usize>T << 2;
  let i = 0;
  if ((D & 7) == 0) {
    const half = f32x4.splat(0.5);
    for (; i < nq; i += 4) {
      // the last group may hold fewer than four queries: it reuses the last row and stores only real ones
      const q0 = q + <usize>i * queryBytes;
      const q1 = q + <usize>min(i + 1, nq - 1) * queryBytes;
      const q2 = q + <usize>min(i + 2, nq - 1) * queryBytes;
      const q3 = q + <usize>min(i + 3, nq - 1) * queryBytes;
      for (let r = 0; r < KIVI_BLOCK; r++) {
        const codes = block + <usize>r * rowBytes;
        let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
        for (let d = 0; d < D; d += 8) {
          const c = pkUnpack8AnyWidth(width, codes, d);
          const params = <usize>d << 1;
          const low = f32x4.add(pkLoadHalf4(zeros + params), f32x4.mul(f32x4.add(pkCodesLowF32(c), half), pkLoadHalf4(scales + params)));
          const high = f32x4.add(pkLoadHalf4(zeros + params + 8), f32x4.mul(f32x4.add(pkCodesHighF32(c), half), pkLoadHalf4(scales + params + 8)));
          const at = <usize>d << 2;
          a0 = f32x4.add(a0, f32x4.add(f32x4.mul(v128.load(q0 + at), low), f32x4.mul(v128.load(q0 + at, 16), high)));
          a1 = f32x4.add(a1, f32x4.add(f32x4.mul(v128.load(q1 + at), low), f32x4.mul(v128.load(q1 + at, 16), high)));
          a2 = f32x4.add(a2, f32x4.add(f32x4.mul(v128.load(q2 + at), low), f32x4.mul(v128.load(q2 + at, 16), high)));
          a3 = f32x4.add(a3, f32x4.add(f32x4.mul(v128.load(q3 + at), low), f32x4.mul(v128.load(q3 + at, 16), high)));
        }
        const score = valid ? hsum4F32(a0, a1, a2, a3) : f32x4.splat(NaN);
        const o = out + ((<usize>i * T + first + r) << 2);
        store<f32>(o, f32x4.extract_lane(score, 0));
        if (i + 1 < nq) store<f32>(o + rowStride, f32x4.extract_lane(score, 1));
        if (i + 2 < nq) store<f32>(o + 2 * rowStride, f32x4.extract_lane(score, 2));
        if (i + 3 < nq) store<f32>(o + 3 * rowStride, f32x4.extract_lane(score, 3));
      }
    }
    return;
  }
  for (let r = 0; r < KIVI_BLOCK; r++) {
    const codes = block + <usize>r * rowBytes;
    for (i = 0; i < nq; i++) {
      const row = q + <usize>i * queryBytes;
      let sum: f32 = 0;
      for (let d = 0; d < D; d++) {
        const code = pkReadCode(codes, <u32>d, <u32>width);
        const x = pkReconstruct(code, pkLoadHalf(scales + (<usize>d << 1)), pkLoadHalf(zeros + (<usize>d << 1)));
        sum += load<f32>(row + (<usize>d << 2)) * x;
      }
      store<f32>(out + ((<usize>i * T + first + r) << 2), valid ? sum : NaN);
    }
  }
}
