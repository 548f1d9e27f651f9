/**
 * Attention probabilities folded with each token's scale and rounded to int16, for the integer mix kernels
 * (blockqMix.ts, packedMixTokens.ts): per query row i and chunk of MIX_CHUNK tokens,
 *   p'_t = p[i·T + t]·scale_t,   s = max_{t in chunk} |p'_t| / 32767,   P_t = round(p'_t / s)   (half to even),
 * so Σ_t p_t·scale_t·c_t = Σ_chunks s·Σ_t P_t·c_t with the inner sums exact in i32 (|P| ≤ 32767, |c| ≤ 255,
 * 256 tokens: < 2^31). Rounding moves an output by at most Σ_t s/2·|c_t|. Steps are per chunk, so they follow p:
 * with flat attention (p ≈ 1/T) s is about scale/(32767·T) and the error stays near scale·|c|/65534 whatever T.
 *
 * Scratch of one mix call (mix_scratch_bytes), slots = D/8 + 1 indexed by the first head dimension a range of
 * dimensions starts at (threads own disjoint ranges, so they never share a slot):
 *   codes  [slots][nq][MIX_CHUNK] i16     steps [slots][nq] f32 (padded to 64 bytes)     scales [slots][MIX_CHUNK] f32
 *   acc    [nq][D] i32 (a chunk's integer sums, at the dimensions the thread owns)
 * Every section starts on a 64-byte line (the region is 64-byte aligned): threads split dimensions in multiples of
 * 16 (64 bytes of acc), so no cache line of acc is written by two threads; misaligned, the shared lines at each
 * split made the mix on 2 threads slower than on one.
 */

export const MIX_CHUNK: i32 = 256;

/** 1.5·2^23: adding it rounds an f32 of magnitude < 2^22 to an integer, half to even (its low mantissa bits). */
const ROUNDING_SHIFT: f32 = 12582912;

/** Bytes of the scratch of one mix call (any T). */
export function mixScratchBytes(nq: i32, D: i32): i32 {
  const slots = (D >> 3) + 1;
  return slots * nq * MIX_CHUNK * 2 + stepsBytes(slots, nq) + slots * MIX_CHUNK * 4 + nq * D * 4;
}

/** The steps section, rounded up to whole 64-byte lines. */
// @ts-ignore: decorator
@inline function stepsBytes(slots: i32, nq: i32): i32 {
  return (slots * nq * 4 + 63) & ~63;
}

/** [nq][MIX_CHUNK] i16 codes of a slot, indexed by (query, token − t0). */
// @ts-ignore: decorator
@inline export function pcCodes(scratch: usize, nq: i32, slot: i32): usize {
  return scratch + (<usize>(slot * nq * MIX_CHUNK) << 1);
}

/** [nq] f32 steps of a slot. */
// @ts-ignore: decorator
@inline export function pcSteps(scratch: usize, nq: i32, D: i32, slot: i32): usize {
  const slots = (D >> 3) + 1;
  return scratch + (<usize>(slots * nq * MIX_CHUNK) << 1) + (<usize>(slot * nq) << 2);
}

/** [MIX_CHUNK] f32 token scales of a slot, indexed by token − t0. */
// @ts-ignore: decorator
@inline export function pcScales(scratch: usize, nq: i32, D: i32, slot: i32): usize {
  const slots = (D >> 3) + 1;
  return scratch + (<usize>(slots * nq * MIX_CHUNK) << 1) + <usize>stepsBytes(slots, nq) + (<usize>(slot * MIX_CHUNK) << 2);
}

/** [nq][D] i32 chunk sums. */
// @ts-ignore: decorator
@inline export function pcAcc(scratch: usize, nq: i32, D: i32): usize {
  const slots = (D >> 3) + 1;
  return scratch + (<usize>(slots * nq * MIX_CHUNK) << 1) + <usize>stepsBytes(slots, nq) + (<usize>(slots * MIX_CHUNK) << 2);
}

/**
 * The slot's codes and steps for tokens [t0, t1) of every query row, from p [nq, T] and the slot's scales (written
 * by the caller); codes past t1 up to the next multiple of 4 are zero, so kernels may read whole token pairs.
 */
// @ts-ignore: decorator
@inline export function pcMakeCodes(scratch: usize, slot: i32, p: usize, nq: i32, D: i32, T: i32, t0: i32, t1: i32): void {
  const scales = pcScales(scratch, nq, D, slot);
  const steps = pcSteps(scratch, nq, D, slot);
  const n = t1 - t0;
  const padEnd = min(MIX_CHUNK, (n + 3) & ~3);
  for (let i = 0; i < nq; i++) {
    const probs = p + (<usize>(i * T + t0) << 2);
    const codes = pcCodes(scratch, nq, slot) + (<usize>(i * MIX_CHUNK) << 1);
    const m = chunkPeak(probs, scales, n);
    // an all-zero chunk gets s = 0 and codes 0
    const inv: f32 = m > 0 ? <f32>32767 / m : 0;
    store<f32>(steps + (<usize>i << 2), m / 32767);
    roundChunk(probs, scales, codes, inv, n);
    for (let k = n; k < padEnd; k++) store<i16>(codes + (<usize>k << 1), 0);
  }
}

/** max_k |probs[k]·scales[k]| for k < n. */
// @ts-ignore: decorator
@inline function chunkPeak(probs: usize, scales: usize, n: i32): f32 {
  let peak = f32x4.splat(0);
  let k = 0;
  for (; k + 8 <= n; k += 8) {
    const at = <usize>k << 2;
    // pmax is one instruction; max's NaN and -0 rules cost several, and these values are finite and non-negative
    peak = f32x4.pmax(peak, f32x4.abs(f32x4.mul(v128.load(probs + at), v128.load(scales + at))));
    peak = f32x4.pmax(peak, f32x4.abs(f32x4.mul(v128.load(probs + at, 16), v128.load(scales + at, 16))));
  }
  let m = max(max(f32x4.extract_lane(peak, 0), f32x4.extract_lane(peak, 1)), max(f32x4.extract_lane(peak, 2), f32x4.extract_lane(peak, 3)));
  for (; k < n; k++) m = max(m, abs(load<f32>(probs + (<usize>k << 2)) * load<f32>(scales + (<usize>k << 2))));
  return m;
}

/**
 * codes[k] = round(probs[k]·scales[k]·inv) as i16 for k < n (|x| ≤ 32767 since inv = 32767/peak). Rounding by adding
 * ROUNDING_SHIFT: two instructions, where nearest + trunc_sat cost V8 about ten.
 */
// @ts-ignore: decorator
@inline function roundChunk(probs: usize, scales: usize, codes: usize, inv: f32, n: i32): void {
  const invs = f32x4.splat(inv);
  const shift = f32x4.splat(ROUNDING_SHIFT);
  let k = 0;
  for (; k + 8 <= n; k += 8) {
    const at = <usize>k << 2;
    const x0 = f32x4.mul(f32x4.mul(v128.load(probs + at), v128.load(scales + at)), invs);
    const x1 = f32x4.mul(f32x4.mul(v128.load(probs + at, 16), v128.load(scales + at, 16)), invs);
    const i0 = i32x4.sub(f32x4.add(x0, shift), shift);
    const i1 = i32x4.sub(f32x4.add(x1, shift), shift);
    v128.store(codes + (<usize>k << 1), i16x8.narrow_i32x4_s(i0, i1));
  }
  for (; k < n; k++) {
    const x = load<f32>(probs + (<usize>k << 2)) * load<f32>(scales + (<usize>k << 2)) * inv;
    store<i16>(codes + (<usize>k << 1), <i16><i32>nearest<f32>(x));
  }
}

/**
 * acc[i][d .. d+8) += Σ_k P_{i,k}·c_{k,d} for four tokens given as two interleaved pairs of i16 codes (lo: dims
 * d..d+3, hi: d+4..d+7, lanes alternating tokens), every query row i < nq; codes: the four tokens' P of row 0.
 */
// @ts-ignore: decorator
@inline export function pcAccumulate4(codes: usize, acc: usize, nq: i32, D: i32, lo01: v128, hi01: v128, lo23: v128, hi23: v128): void {
  let pc = codes;
  let a = acc;
  for (let i = 0; i < nq; i++) {
    const p01 = v128.load32_splat(pc);
    const p23 = v128.load32_splat(pc, 4);
    v128.store(a, i32x4.add(v128.load(a), i32x4.add(i32x4.dot_i16x8_s(lo01, p01), i32x4.dot_i16x8_s(lo23, p23))));
    v128.store(a, i32x4.add(v128.load(a, 16), i32x4.add(i32x4.dot_i16x8_s(hi01, p01), i32x4.dot_i16x8_s(hi23, p23))), 16);
    pc += <usize>MIX_CHUNK << 1;
    a += <usize>D << 2;
  }
}

/** out[i][d] += acc[i][d]·step_i for d in [d0, d1) (multiples of 8), then the sums restart from 0. */
// @ts-ignore: decorator
@inline export function pcFlush(scratch: usize, slot: i32, out: usize, nq: i32, D: i32, d0: i32, d1: i32): void {
  const acc = pcAcc(scratch, nq, D);
  const steps = pcSteps(scratch, nq, D, slot);
  for (let i = 0; i < nq; i++) {
    const step = f32x4.splat(load<f32>(steps + (<usize>i << 2)));
    for (let d = d0; d < d1; d += 8) {
      const a = acc + ((<usize>i * D + d) << 2);
      const o = out + ((<usize>i * D + d) << 2);
      v128.store(o, f32x4.add(v128.load(o), f32x4.mul(f32x4.convert_i32x4_s(v128.load(a)), step)));
      v128.store(o, f32x4.add(v128.load(o, 16), f32x4.mul(f32x4.convert_i32x4_s(v128.load(a, 16)), step)), 16);
      v128.store(a, i32x4.splat(0));
      v128.store(a, i32x4.splat(0), 16);
    }
  }
}
