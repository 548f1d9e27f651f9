/**
 * Attention on blockq KV rows (contract section 3; layouts in src/kernels/packedKernelExports.ts): llama.cpp-like
 * q8_0 / q4_0 blocks of 32 values along each token's nKv·D vector, one row of blocks per token at base + t·rowBytes.
 *   q8_0 block (34 bytes): f16 d, 32 × i8 q            x^ = d·q
 *   q4_0 block (18 bytes): f16 d, 16 bytes: byte j holds element j (low nibble) and j+16 (high)    x^ = d·(nibble - 8)
 * The head's values are row elements [elemOffset, elemOffset + D).
 *
 * Scores, rows = tokens: q·x^ = Σ_blocks d_b·Σ_{j in b} q_j·q8_j; the inner sums run on int16 queries
 * (lib/packedQueryPark.ts) with i32x4.dot_i16x8_s, then each block's i32 sum is scaled by its d in f32. Error
 * ≤ step/2·Σ_d |x^_d| from the query rounding (step = max|q|/32767). Parked tokens, short slices: f32 path;
 * D or elemOffset not a multiple of 8: scalar path.
 * Mix: blockqMix.ts (integer multiply-adds on probabilities folded with the block scales).
 */
import { pkCodesHighF32, pkCodesLowF32, pkLoadHalf } from "./lib/packedSimd";
import { BLOCKQ_Q4_0, BLOCKQ_Q8_0, blockqBlockBytes, blockqValue } from "./lib/blockqRows";
import { pkChunksPerRow, pkParkQueries, pkParkSlots, pkParkedRow, pkParkedSteps, pkQueryGroupSize } from "./lib/packedQueryPark";
import { hsum4F32, hsumF32 } from "./lib/reduce";

const Q8_0 = BLOCKQ_Q8_0;
const Q4_0 = BLOCKQ_Q4_0;

export function attn_scores_blockq_q8_0(begin: i32, end: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, base: usize, rowBytes: i32, elemOffset: i32): void {
  blockqScores(Q8_0, begin, end, q, out, nq, D, T, base, rowBytes, elemOffset);
}

export function attn_scores_blockq_q4_0(begin: i32, end: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, base: usize, rowBytes: i32, elemOffset: i32): void {
  blockqScores(Q4_0, begin, end, q, out, nq, D, T, base, rowBytes, elemOffset);
}

/** The scale d of the block holding row element e. */
// @ts-ignore: decorator
@inline function blockScale(kind: i32, row: usize, e: i32): f32 {
  return pkLoadHalf(row + <usize>(e >> 5) * blockqBlockBytes(kind));
}

/** Row elements e..e+7 (e a multiple of 8, so they share a block) as signed i16 lanes: q, or nibble - 8. */
// @ts-ignore: decorator
@inline function blockChunk(kind: i32, row: usize, e: i32): v128 {
  const at = row + <usize>(e >> 5) * blockqBlockBytes(kind) + 2;
  const within = e & 31;
  if (kind == Q8_0) return v128.load8x8_s(at + <usize>within);
  // elements 0..15 of a block are low nibbles of bytes 0..15, elements 16..31 the high nibbles of the same bytes
  const packed = v128.load64_zero(at + <usize>(within & 15));
  const nibbles = v128.and(i8x16.shr_u(packed, <u32>(within >> 4) << 2), i8x16.splat(0x0f));
  return i16x8.extend_low_i8x16_s(i8x16.sub(nibbles, i8x16.splat(8)));
}

// @ts-ignore: decorator
@inline function blockqScores(kind: i32, begin: i32, end: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, base: usize, rowBytes: i32, elemOffset: i32): void {
  const vectorOk = ((D | elemOffset) & 7) == 0;
  const parkSlots = pkParkSlots(D);
  let t = begin;
  if (vectorOk && end - begin > parkSlots) {
    const parkStart = end - parkSlots;
    pkParkQueries(q, out, nq, D, T, parkStart);
    for (; t < parkStart; t++) scoreRowInt(kind, base + <usize>t * <usize>rowBytes, t, parkStart, out, nq, D, T, elemOffset);
  }
  for (; t < end; t++) {
    const row = base + <usize>t * <usize>rowBytes;
    if (vectorOk) scoreRowFloat(kind, row, t, q, out, nq, D, T, elemOffset);
    else {
      for (let i = 0; i < nq; i++) {
        let sum: f32 = 0;
        for (let d = 0; d < D; d++) sum += load<f32>(q + ((<usize>i * D + d) << 2)) * blockqValue(kind, row, elemOffset + d);
        store<f32>(out + ((<usize>i * T + t) << 2), sum);
      }
    }
  }
}

/**
 * Integer path for token t: per block, the i32 dot of its chunks, then scaled by d in f32. Four queries per pass (a
 * parked group of eight is two passes over its blocks at byte offsets 0 and 64), so the per-query f32 sums and the
 * per-block i32 sums fit in registers.
 */
// @ts-ignore: decorator
@inline function scoreRowInt(kind: i32, row: usize, t: i32, parkStart: i32, out: usize, nq: i32, D: i32, T: i32, elemOffset: i32): void {
  const rowStride = <usize>T << 2;
  const last = elemOffset + D;
  let i0 = 0;
  while (i0 < nq) {
    const G = pkQueryGroupSize(i0, nq);
    if (G == 1) {
      const parked = pkParkedRow(out, T, parkStart, i0);
      let f = f32x4.splat(0);
      let e = elemOffset;
      while (e < last) {
        const blockEnd = min(last, (e | 31) + 1);
        const d = f32x4.splat(blockScale(kind, row, e));
        let a = i32x4.splat(0);
        for (; e < blockEnd; e += 8) {
          a = i32x4.add(a, i32x4.dot_i16x8_s(blockChunk(kind, row, e), v128.load(parked + (<usize>(e - elemOffset) << 1))));
        }
        f = f32x4.add(f, f32x4.mul(f32x4.convert_i32x4_s(a), d));
      }
      store<f32>(out + ((<usize>i0 * T + t) << 2), hsumF32(f) * load<f32>(pkParkedSteps(out, T, parkStart, i0, D)));
      i0++;
      continue;
    }
    const perRow = pkChunksPerRow(G, D);
    const blockStep = <usize>G << 4;
    for (let half = 0; half < G; half += 4) {
      const lanes = <usize>half << 4;
      let rowStart = pkParkedRow(out, T, parkStart, i0);
      let block = rowStart + lanes;
      let left = perRow;
      let f0 = f32x4.splat(0), f1 = f32x4.splat(0), f2 = f32x4.splat(0), f3 = f32x4.splat(0);
      let e = elemOffset;
      while (e < last) {
        const blockEnd = min(last, (e | 31) + 1);
        const d = f32x4.splat(blockScale(kind, row, e));
        let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
        for (; e < blockEnd; e += 8) {
          const c = blockChunk(kind, row, e);
          a0 = i32x4.add(a0, i32x4.dot_i16x8_s(c, v128.load(block)));
          a1 = i32x4.add(a1, i32x4.dot_i16x8_s(c, v128.load(block, 16)));
          a2 = i32x4.add(a2, i32x4.dot_i16x8_s(c, v128.load(block, 32)));
          a3 = i32x4.add(a3, i32x4.dot_i16x8_s(c, v128.load(block, 48)));
          block += blockStep;
          if (--left == 0) {
            rowStart += rowStride;
            block = rowStart + lanes;
            left = perRow;
          }
        }
        f0 = f32x4.add(f0, f32x4.mul(f32x4.convert_i32x4_s(a0), d));
        f1 = f32x4.add(f1, f32x4.mul(f32x4.convert_i32x4_s(a1), d));
        f2 = f32x4.add(f2, f32x4.mul(f32x4.convert_i32x4_s(a2), d));
        f3 = f32x4.add(f3, f32x4.mul(f32x4.convert_i32x4_s(a3), d));
      }
      const i = i0 + half;
      const score = f32x4.mul(hsum4F32(f0, f1, f2, f3), v128.load(pkParkedSteps(out, T, parkStart, i0, D) + (<usize>half << 2)));
      const o = out + ((<usize>i * T + t) << 2);
      store<f32>(o, f32x4.extract_lane(score, 0));
      store<f32>(o + rowStride, f32x4.extract_lane(score, 1));
      store<f32>(o + 2 * rowStride, f32x4.extract_lane(score, 2));
      store<f32>(o + 3 * rowStride, f32x4.extract_lane(score, 3));
    }
    i0 += G;
  }
}

/** f32 path for token t: x^ = d·q decoded 8 at a time, times the f32 query. */
// @ts-ignore: decorator
@inline function scoreRowFloat(kind: i32, row: usize, t: i32, q: usize, out: usize, nq: i32, D: i32, T: i32, elemOffset: i32): void {
  for (let i = 0; i < nq; i++) {
    const query = q + ((<usize>i * D) << 2);
    let acc = f32x4.splat(0);
    for (let d = 0; d < D; d += 8) {
      const e = elemOffset + d;
      const c = blockChunk(kind, row, e);
      const scale = f32x4.splat(blockScale(kind, row, e));
      const at = query + (<usize>d << 2);
      acc = f32x4.add(acc, f32x4.mul(v128.load(at), f32x4.mul(pkCodesLowF32(c), scale)));
      acc = f32x4.add(acc, f32x4.mul(v128.load(at, 16), f32x4.mul(pkCodesHighF32(c), scale)));
    }
    store<f32>(out + ((<usize>i * T + t) << 2), hsumF32(acc));
  }
}
