/**
 * Mix on blockq V rows with integer multiply-adds (layouts in blockqAttention.ts / packedKernelExports section 3):
 *   out[i·D + d] = Σ_t p[i·T + t]·x^_{t,d},   x^_{t,d} = d_{t,b}·c_{t,d}   (c: q8_0 code, or q4_0 nibble − 8)
 * Each block's scale folds into the probability and is rounded to int16 per chunk of 256 tokens
 * (lib/probabilityCodes.ts: p'_t = p·d_{t,b}, step s per chunk), so
 *   out[i·D + d] = Σ_chunks s_{i,b,chunk}·Σ_{t in chunk} round(p'/s)·c_{t,d},
 * and the inner sums run on i32x4.dot_i16x8_s over token pairs: codes of tokens t, t+1 interleaved per dimension
 * times [P_t, P_{t+1}] repeated, 8 multiply-adds per instruction, against 2 for f32 (the f32 mix was the largest
 * part of a long-context decode step). Error per output ≤ Σ_t s/2·|c_{t,d}|.
 *
 * rows = head dimensions d in [begin, end). For each chunk, the dimensions of the range that share a block (a
 * "span") get their codes made right before use, while that chunk's rows are in cache, in the span's own scratch
 * slot (mix_scratch_bytes; slots are indexed by the span's first dimension, so threads never share one).
 * When D or elemOffset is not a multiple of 8 the mix reads p directly, in f32, one value at a time.
 */
import { pkLoadHalf } from "./lib/packedSimd";
import { BLOCKQ_Q4_0, BLOCKQ_Q8_0, blockqBlockBytes, blockqValue } from "./lib/blockqRows";
import { MIX_CHUNK, pcAcc, pcAccumulate4, pcCodes, pcFlush, pcMakeCodes, pcScales } from "./lib/probabilityCodes";

const Q8_0 = BLOCKQ_Q8_0;
const Q4_0 = BLOCKQ_Q4_0;

export function attn_mix_blockq_q8_0(begin: i32, end: i32, p: usize, scratch: usize, out: usize, nq: i32, D: i32, T: i32, base: usize, rowBytes: i32, elemOffset: i32): void {
  mix(Q8_0, begin, end, p, scratch, out, nq, D, T, base, rowBytes, elemOffset);
}

export function attn_mix_blockq_q4_0(begin: i32, end: i32, p: usize, scratch: usize, out: usize, nq: i32, D: i32, T: i32, base: usize, rowBytes: i32, elemOffset: i32): void {
  mix(Q4_0, begin, end, p, scratch, out, nq, D, T, base, rowBytes, elemOffset);
}

// @ts-ignore: decorator
@inline function mix(kind: i32, begin: i32, end: i32, p: usize, scratch: usize, out: usize, nq: i32, D: i32, T: i32, base: usize, rowBytes: i32, elemOffset: i32): void {
  if (begin >= end) return;
  for (let i = 0; i < nq; i++) memory.fill(out + ((<usize>i * D + begin) << 2), 0, <usize>(end - begin) << 2);
  if (((begin | end | elemOffset) & 7) != 0) {
    scalarMix(kind, begin, end, p, out, nq, D, T, base, rowBytes, elemOffset);
    return;
  }
  const acc = pcAcc(scratch, nq, D);
  for (let i = 0; i < nq; i++) memory.fill(acc + ((<usize>i * D + begin) << 2), 0, <usize>(end - begin) << 2);
  const stride = <usize>rowBytes;
  for (let t0 = 0; t0 < T; t0 += MIX_CHUNK) {
    const t1 = min(T, t0 + MIX_CHUNK);
    let d0 = begin;
    while (d0 < end) {
      // the span: dimensions [d0, d1) of the range inside one block
      const d1 = min(end, (((elemOffset + d0) | 31) + 1) - elemOffset);
      const slot = d0 >> 3;
      const scaleAt = base + <usize>((elemOffset + d0) >> 5) * blockqBlockBytes(kind);
      const scales = pcScales(scratch, nq, D, slot);
      for (let t = t0; t < t1; t++) store<f32>(scales + (<usize>(t - t0) << 2), pkLoadHalf(scaleAt + <usize>t * stride));
      pcMakeCodes(scratch, slot, p, nq, D, T, t0, t1);
      spanChunk(kind, pcCodes(scratch, nq, slot), acc, nq, D, T, t0, t1, d0, d1, base, stride, elemOffset);
      pcFlush(scratch, slot, out, nq, D, d0, d1);
      d0 = d1;
    }
  }
}

/** Codes of head elements e..e+7 (one block) of two token rows, interleaved per element as i8x16 (a0 b0 a1 b1 …). */
// @ts-ignore: decorator
@inline function pairCodes(kind: i32, rowA: usize, rowB: usize, e: i32): v128 {
  const at = <usize>(e >> 5) * blockqBlockBytes(kind) + 2;
  if (kind == Q8_0) {
    const within = <usize>(e & 31);
    return i8x16.shuffle(v128.load64_zero(rowA + at + within), v128.load64_zero(rowB + at + within), 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  }
  const within = <usize>(e & 15);
  const shift = <u32>((e >> 4) & 1) << 2;
  const a = i8x16.shr_u(v128.load64_zero(rowA + at + within), shift);
  const b = i8x16.shr_u(v128.load64_zero(rowB + at + within), shift);
  const pairs = i8x16.shuffle(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  return i8x16.sub(v128.and(pairs, i8x16.splat(0x0f)), i8x16.splat(8));
}

/** Adds the span's integer sums over tokens [t0, t1) (dimensions [d0, d1), codes: the slot's P) to acc. */
// @ts-ignore: decorator
@inline function spanChunk(kind: i32, codes: usize, acc: usize, nq: i32, D: i32, T: i32, t0: i32, t1: i32, d0: i32, d1: i32, base: usize, stride: usize, elemOffset: i32): void {
  const last = base + <usize>(T - 1) * stride;
  for (let t = t0; t < t1; t += 4) {
    // rows past T (their P is 0) read the last row instead, so nothing past the cache is touched
    const row0 = base + <usize>t * stride;
    const row1 = min(row0 + stride, last);
    const row2 = min(row0 + 2 * stride, last);
    const row3 = min(row0 + 3 * stride, last);
    const pc = codes + (<usize>(t - t0) << 1);
    for (let d = d0; d < d1; d += 8) {
      const e = elemOffset + d;
      const codes01 = pairCodes(kind, row0, row1, e);
      const codes23 = pairCodes(kind, row2, row3, e);
      pcAccumulate4(pc, acc + (<usize>d << 2), nq, D,
        i16x8.extend_low_i8x16_s(codes01), i16x8.extend_high_i8x16_s(codes01),
        i16x8.extend_low_i8x16_s(codes23), i16x8.extend_high_i8x16_s(codes23));
    }
  }
}

// @ts-ignore: decorator
@inline function scalarMix(kind: i32, begin: i32, end: i32, p: usize, out: usize, nq: i32, D: i32, T: i32, base: usize, rowBytes: i32, elemOffset: i32): void {
  for (let t = 0; t < T; t++) {
    const row = base + <usize>t * <usize>rowBytes;
    for (let d = begin; d < end; d++) {
      const x = blockqValue(kind, row, elemOffset + d);
      for (let i = 0; i < nq; i++) {
        const at = out + ((<usize>i * D + d) << 2);
        store<f32>(at, load<f32>(at) + load<f32>(p + ((<usize>i * T + t) << 2)) * x);
      }
    }
  }
}
