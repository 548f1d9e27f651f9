/**
 * Token steps of attn_mix_packed (packedAttention.ts): out[i·D + d] += Σ_t p[i·T + t]·x^_{t,d} for the dimensions
 * d in [begin, end) of the slice, `out` already holding the running sums (zeroed by the kernel).
 *
 * The running sums of nq queries × the slice's dimensions do not fit in registers, so they stay in `out` (L1) and
 * are read and written once per FOUR tokens: the four tokens' x^ for 8 dimensions (8 vectors) are decoded once and
 * reused by every query. x^ is THE formula, zero + (c + 0.5)·scale in f32, so the mix is "dequantize, then sum".
 * The vector steps need begin, end and elemOffset to be multiples of 8; pkMixTokenScalar takes any.
 */
import { pkCodesHighF32, pkCodesLowF32, pkReadCode } from "./packedSimd";
import { PK_MAX_BITS, pkBitsOf, pkGroupIndex, pkReconstruct, pkScaleOf, pkSlotOf, pkUnpack8AnyWidth, pkZeroOf } from "./packedGroups";

/** Low 4 lanes of x^ for 8 codes. */
// @ts-ignore: decorator
@inline function decodeLow(codes: v128, step: f32, origin: f32): v128 {
  return f32x4.add(f32x4.splat(origin), f32x4.mul(f32x4.add(pkCodesLowF32(codes), f32x4.splat(0.5)), f32x4.splat(step)));
}

/** High 4 lanes of x^ for 8 codes. */
// @ts-ignore: decorator
@inline function decodeHigh(codes: v128, step: f32, origin: f32): v128 {
  return f32x4.add(f32x4.splat(origin), f32x4.mul(f32x4.add(pkCodesHighF32(codes), f32x4.splat(0.5)), f32x4.splat(step)));
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

/** Tokens t..t+3. */
// @ts-ignore: decorator
@inline export function pkMixFourTokens(
  t: i32, begin: i32, end: i32, p: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize,
  scale: usize, zero: usize, metaStride: i32, metaIndex: i32, elemOffset: i32,
): void {
  const m0 = pkGroupIndex(t, metaStride, metaIndex);
  const m1 = m0 + <usize>metaStride;
  const m2 = m1 + <usize>metaStride;
  const m3 = m2 + <usize>metaStride;
  const w0 = pkBitsOf(bits, m0), w1 = pkBitsOf(bits, m1), w2 = pkBitsOf(bits, m2), w3 = pkBitsOf(bits, m3);
  const c0 = pkSlotOf(slot, m0), c1 = pkSlotOf(slot, m1), c2 = pkSlotOf(slot, m2), c3 = pkSlotOf(slot, m3);
  const s0 = pkScaleOf(scale, m0, w0), s1 = pkScaleOf(scale, m1, w1);
  const s2 = pkScaleOf(scale, m2, w2), s3 = pkScaleOf(scale, m3, w3);
  const z0 = pkZeroOf(zero, m0), z1 = pkZeroOf(zero, m1), z2 = pkZeroOf(zero, m2), z3 = pkZeroOf(zero, m3);
  const pRow = <usize>T << 2;
  const outRow = <usize>D << 2;
  for (let d = begin; d < end; d += 8) {
    const e = elemOffset + d;
    const k0 = pkUnpack8AnyWidth(w0, c0, e);
    const k1 = pkUnpack8AnyWidth(w1, c1, e);
    const k2 = pkUnpack8AnyWidth(w2, c2, e);
    const k3 = pkUnpack8AnyWidth(w3, c3, e);
    const x0 = decodeLow(k0, s0, z0), y0 = decodeHigh(k0, s0, z0);
    const x1 = decodeLow(k1, s1, z1), y1 = decodeHigh(k1, s1, z1);
    const x2 = decodeLow(k2, s2, z2), y2 = decodeHigh(k2, s2, z2);
    const x3 = decodeLow(k3, s3, z3), y3 = decodeHigh(k3, s3, z3);
    pkMixAccumulate4(p + (<usize>t << 2), out + (<usize>d << 2), nq, pRow, outRow, x0, y0, x1, y1, x2, y2, x3, y3);
  }
}

/** Token t alone (the last T mod 4 tokens). */
// @ts-ignore: decorator
@inline export function pkMixOneToken(
  t: i32, begin: i32, end: i32, p: usize, out: usize, nq: i32, D: i32, T: i32, slot: usize, bits: usize,
  scale: usize, zero: usize, metaStride: i32, metaIndex: i32, elemOffset: i32,
): void {
  const m = pkGroupIndex(t, metaStride, metaIndex);
  const width = pkBitsOf(bits, m);
  const codes = pkSlotOf(slot, m);
  const step = pkScaleOf(scale, m, width);
  const origin = pkZeroOf(zero, m);
  const pRow = <usize>T << 2;
  const outRow = <usize>D << 2;
  for (let d = begin; d < end; d += 8) {
    const k = pkUnpack8AnyWidth(width, codes, elemOffset + d);
    const x = decodeLow(k, step, origin);
    const y = decodeHigh(k, step, origin);
    pkMixAccumulate1(p + (<usize>t << 2), out + (<usize>d << 2), nq, pRow, outRow, x, y);
  }
}

/** Token t, any dimension range and element offset. */
// @ts-ignore: decorator
@inline export function pkMixTokenScalar(
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
