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
 *   row i:  q'_i [D] f32 (rounded in place to [D] i16 for the block), then two f32x4: running max |q'| and bias sums
 *   row 0, after that:  steps [nq4] f32 (S_i), biases [nq4] f32
 */
import {
  pkCodesHighF32, pkCodesLowF32, pkHsum4I32, pkHsumF32, pkHsumI32, pkLoadHalf, pkLoadHalf4, pkReadCode, pkUnpack8,
} from "./lib/packedSimd";
import { pkQueryGroupPad } from "./lib/packedQueryPark";
import { pkReconstruct, pkUnpack8AnyWidth } from "./lib/packedGroups";

const KIVI_BLOCK: i32 = 32;
const INT_DOT_MAX_DIM: i32 = 512;
const QI_MAX: f32 = 32767;

/** Slots per query row the scratch needs (row 0 holds the most). */
// @ts-ignore: decorator
@inline function kiviParkSlots(nq: i32, D: i32): i32 {
  return D + 8 + 2 * pkQueryGroupPad(nq);
}

export function attn_scores_kivi(
  begin: i32, end: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, blockPtrs: usize, bits: i32, tokenOffset: i32,
): void {
  if (begin >= end) return;
  const parkBlocks = (kiviParkSlots(nq, D) + KIVI_BLOCK - 1) / KIVI_BLOCK;
  let j = begin;
  if ((D & 7) == 0 && D <= INT_DOT_MAX_DIM && end - begin > parkBlocks && bits >= 0 && bits <= 8) {
    const fastEnd = end - parkBlocks;
    const parkStart = tokenOffset + fastEnd * KIVI_BLOCK;
    for (; j < fastEnd; j++) {
      const block = <usize>load<u32>(blockPtrs + (<usize>j << 2));
      const first = tokenOffset + j * KIVI_BLOCK;
      switch (bits) {
        case 0: scoreBlockInt(0, block, first, parkStart, q, out, nq, D, T); break;
        case 1: scoreBlockInt(1, block, first, parkStart, q, out, nq, D, T); break;
        case 2: scoreBlockInt(2, block, first, parkStart, q, out, nq, D, T); break;
        case 3: scoreBlockInt(3, block, first, parkStart, q, out, nq, D, T); break;
        case 4: scoreBlockInt(4, block, first, parkStart, q, out, nq, D, T); break;
        case 5: scoreBlockInt(5, block, first, parkStart, q, out, nq, D, T); break;
        case 6: scoreBlockInt(6, block, first, parkStart, q, out, nq, D, T); break;
        case 7: scoreBlockInt(7, block, first, parkStart, q, out, nq, D, T); break;
        default: scoreBlockInt(8, block, first, parkStart, q, out, nq, D, T);
      }
    }
  }
  for (; j < end; j++) {
    const block = <usize>load<u32>(blockPtrs + (<usize>j << 2));
    scoreBlockFloat(block, bits, tokenOffset + j * KIVI_BLOCK, q, out, nq, D, T);
  }
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
  const steps = park + partials + 32;
  const biases = steps + (<usize>pkQueryGroupPad(nq) << 2);
  // pass 1 (channels outer, so each scale/zero is decoded once): q' = q ⊙ scale, max |q'|, bias sums
  for (let d = 0; d < D; d += 4) {
    const scale4 = pkLoadHalf4(scales + (<usize>d << 1));
    const zeroMid = f32x4.add(pkLoadHalf4(zeros + (<usize>d << 1)), f32x4.mul(f32x4.splat(<f32>mid + 0.5), scale4));
    let row = park;
    for (let i = 0; i < nq; i++) {
      const x = v128.load(q + ((<usize>i * D + d) << 2));
      const scaled = f32x4.mul(x, scale4);
      v128.store(row + (<usize>d << 2), scaled);
      const peak = d == 0 ? f32x4.abs(scaled) : f32x4.max(v128.load(row + partials), f32x4.abs(scaled));
      const bias = d == 0 ? f32x4.mul(x, zeroMid) : f32x4.add(v128.load(row + partials, 16), f32x4.mul(x, zeroMid));
      v128.store(row + partials, peak);
      v128.store(row + partials, bias, 16);
      row += rowStride;
    }
  }
  // pass 2 (per query): round q' in place to int16 (the i16 write at 2·d trails the f32 read at 4·d)
  let row = park;
  for (let i = 0; i < nq; i++) {
    const peak4 = v128.load(row + partials);
    const top = Mathf.max(Mathf.max(f32x4.extract_lane(peak4, 0), f32x4.extract_lane(peak4, 1)),
      Mathf.max(f32x4.extract_lane(peak4, 2), f32x4.extract_lane(peak4, 3)));
    const inverse = f32x4.splat(top > 0 ? QI_MAX / top : 0);
    const bias = pkHsumF32(v128.load(row + partials, 16));
    for (let d = 0; d < D; d += 8) {
      const low = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(row + (<usize>d << 2)), inverse)));
      const high = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(row + (<usize>d << 2), 16), inverse)));
      v128.store(row + (<usize>d << 1), i16x8.narrow_i32x4_s(low, high));
    }
    store<f32>(steps + (<usize>i << 2), top / QI_MAX);
    store<f32>(biases + (<usize>i << 2), bias);
    row += rowStride;
  }
  for (let i = nq; i < pkQueryGroupPad(nq); i++) {
    store<f32>(steps + (<usize>i << 2), 0);
    store<f32>(biases + (<usize>i << 2), 0);
  }
  const centre = i16x8.splat(<i16>mid);
  const chunks = D >> 3;
  for (let r = 0; r < KIVI_BLOCK; r++) {
    const codes = block + <usize>r * rowBytes;
    const at = out + (<usize>(first + r) << 2);
    let i = 0;
    for (; i + 4 <= nq; i += 4) {
      let score = v128.load(biases + (<usize>i << 2));
      if (B > 0) {
        const r0 = park + <usize>i * rowStride;
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
        const dots = f32x4.convert_i32x4_s(pkHsum4I32(a0, a1, a2, a3));
        score = f32x4.add(score, f32x4.mul(dots, v128.load(steps + (<usize>i << 2))));
      }
      const o = at + <usize>i * rowStride;
      store<f32>(o, f32x4.extract_lane(score, 0));
      store<f32>(o + rowStride, f32x4.extract_lane(score, 1));
      store<f32>(o + 2 * rowStride, f32x4.extract_lane(score, 2));
      store<f32>(o + 3 * rowStride, f32x4.extract_lane(score, 3));
    }
    for (; i < nq; i++) {
      let score = load<f32>(biases + (<usize>i << 2));
      if (B > 0) {
        const parked = park + <usize>i * rowStride;
        let a = i32x4.splat(0);
        for (let k = 0; k < chunks; k++) {
          const c = i16x8.sub(pkUnpack8(B, codes + <usize>k * <usize>B), centre);
          a = i32x4.add(a, i32x4.dot_i16x8_s(c, v128.load(parked + (<usize>k << 4))));
        }
        score += <f32>pkHsumI32(a) * load<f32>(steps + (<usize>i << 2));
      }
      store<f32>(at + <usize>i * rowStride, score);
    }
  }
}

/**
 * Float path for one block (the parked blocks, short slices, any D): every x^ decoded exactly, times the f32 query.
 * D a multiple of 8 decodes 8 channels at a time; otherwise channel by channel. An impossible width gives NaN.
 */
// @ts-ignore: decorator
@inline function scoreBlockFloat(block: usize, bits: i32, first: i32, q: usize, out: usize, nq: i32, D: i32, T: i32): void {
  const valid = bits >= 0 && bits <= 8;
  const width = valid ? bits : 0;
  const rowBytes = <usize>((D * width + 7) >> 3);
  const scales = block + <usize>KIVI_BLOCK * rowBytes;
  const zeros = scales + (<usize>D << 1);
  const half = f32x4.splat(0.5);
  for (let r = 0; r < KIVI_BLOCK; r++) {
    const codes = block + <usize>r * rowBytes;
    for (let i = 0; i < nq; i++) {
      const row = q + ((<usize>i * D) << 2);
      let sum: f32 = 0;
      let d = 0;
      if ((D & 7) == 0) {
        let acc = f32x4.splat(0);
        for (; d < D; d += 8) {
          const c = pkUnpack8AnyWidth(width, codes, d);
          const low = f32x4.add(pkLoadHalf4(zeros + (<usize>d << 1)), f32x4.mul(f32x4.add(pkCodesLowF32(c), half), pkLoadHalf4(scales + (<usize>d << 1))));
          const high = f32x4.add(pkLoadHalf4(zeros + (<usize>d << 1) + 8), f32x4.mul(f32x4.add(pkCodesHighF32(c), half), pkLoadHalf4(scales + (<usize>d << 1) + 8)));
          acc = f32x4.add(acc, f32x4.add(f32x4.mul(v128.load(row + (<usize>d << 2)), low), f32x4.mul(v128.load(row + (<usize>d << 2), 16), high)));
        }
        sum = pkHsumF32(acc);
      }
      for (; d < D; d++) {
        const code = pkReadCode(codes, <u32>d, <u32>width);
        const x = pkReconstruct(code, pkLoadHalf(scales + (<usize>d << 1)), pkLoadHalf(zeros + (<usize>d << 1)));
        sum += load<f32>(row + (<usize>d << 2)) * x;
      }
      store<f32>(out + ((<usize>i * T + first + r) << 2), valid ? sum : NaN);
    }
  }
}
