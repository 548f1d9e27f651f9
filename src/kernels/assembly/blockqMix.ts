/**
 * Mix on blockq V rows with integer multiply-adds (layouts in blockqAttention.ts / packedKernelExports section 3):
 *   out[i·D + d] = Σ_t p[i·T + t]·x^_{t,d},   x^_{t,d} = d_{t,b}·c_{t,d}   (c: q8_0 code, or q4_0 nibble − 8)
 * Each block's scale folds into the probability, p'_{i,t,b} = p[i·T + t]·d_{t,b}, which is rounded to int16 against
 * the largest |p'| of its chunk of MIX_CHUNK tokens (step s = max/32767), so
 *   out[i·D + d] = Σ_chunks s_{i,b,chunk}·Σ_{t in chunk} round(p'/s)·c_{t,d},
 * and the inner sums run on i32x4.dot_i16x8_s over token pairs: codes of tokens t, t+1 interleaved per dimension
 * times [p'_t, p'_{t+1}] repeated, 8 multiply-adds per instruction, against 2 for f32 (the f32 mix was the largest
 * part of a long-context decode step). Error per output ≤ Σ_t s/2·|c_{t,d}| (chunked steps stay small where p is
 * small). A chunk's i32 sums are exact: 256·2^15·128 < 2^31.
 *
 * rows = head dimensions d in [begin, end). For each chunk, the dimensions of the range that share a block (a
 * "span") get their p' codes made right before use, while that chunk's rows are in cache, in the span's own
 * scratch slot (slots are indexed by the span's first dimension, so threads never share one).
 * scratch (blockq_mix_scratch_bytes), slots = D/8 + 1:
 *   codes [slots][nq][MIX_CHUNK] i16     steps [slots][nq] f32     scales [slots][MIX_CHUNK] f32 (d_{t,b})
 *   acc   [nq][D] i32 (a chunk's sums)
 * When D or elemOffset is not a multiple of 8 the mix reads p directly, in f32, one value at a time.
 */
import { pkLoadHalf } from "./lib/packedSimd";

const Q8_0: i32 = 0;
const Q4_0: i32 = 1;
const MIX_CHUNK: i32 = 256;

export function attn_mix_blockq_q8_0(begin: i32, end: i32, p: usize, scratch: usize, out: usize, nq: i32, D: i32, T: i32, base: usize, rowBytes: i32, elemOffset: i32): void {
  mix(Q8_0, begin, end, p, scratch, out, nq, D, T, base, rowBytes, elemOffset);
}

export function attn_mix_blockq_q4_0(begin: i32, end: i32, p: usize, scratch: usize, out: usize, nq: i32, D: i32, T: i32, base: usize, rowBytes: i32, elemOffset: i32): void {
  mix(Q4_0, begin, end, p, scratch, out, nq, D, T, base, rowBytes, elemOffset);
}

/** Bytes of the scratch region (any T). */
export function blockq_mix_scratch_bytes(nq: i32, D: i32): i32 {
  const slots = (D >> 3) + 1;
  return slots * nq * MIX_CHUNK * 2 + slots * nq * 4 + slots * MIX_CHUNK * 4 + nq * D * 4;
}

// @ts-ignore: decorator
@inline function blockBytes(kind: i32): usize {
  return kind == Q8_0 ? 34 : 18;
}

/** Start of each scratch section. */
// @ts-ignore: decorator
@inline function stepsAt(scratch: usize, slots: i32, nq: i32): usize {
  return scratch + (<usize>(slots * nq * MIX_CHUNK) << 1);
}
// @ts-ignore: decorator
@inline function scalesAt(scratch: usize, slots: i32, nq: i32): usize {
  return stepsAt(scratch, slots, nq) + (<usize>(slots * nq) << 2);
}
// @ts-ignore: decorator
@inline function accAt(scratch: usize, slots: i32, nq: i32): usize {
  return scalesAt(scratch, slots, nq) + (<usize>(slots * MIX_CHUNK) << 2);
}

// @ts-ignore: decorator
@inline function mix(kind: i32, begin: i32, end: i32, p: usize, scratch: usize, out: usize, nq: i32, D: i32, T: i32, base: usize, rowBytes: i32, elemOffset: i32): void {
  if (begin >= end) return;
  for (let i = 0; i < nq; i++) memory.fill(out + ((<usize>i * D + begin) << 2), 0, <usize>(end - begin) << 2);
  if (((begin | end | elemOffset) & 7) != 0) {
    scalarMix(kind, begin, end, p, out, nq, D, T, base, rowBytes, elemOffset);
    return;
  }
  const slots = (D >> 3) + 1;
  const acc = accAt(scratch, slots, nq);
  for (let t0 = 0; t0 < T; t0 += MIX_CHUNK) {
    const t1 = min(T, t0 + MIX_CHUNK);
    let d0 = begin;
    while (d0 < end) {
      // the span: dimensions [d0, d1) of the range inside one block
      const d1 = min(end, (((elemOffset + d0) | 31) + 1) - elemOffset);
      const slot = d0 >> 3;
      makeCodes(kind, scratch, slots, slot, p, nq, T, t0, t1, base + ((<usize>(elemOffset + d0) >> 5) * blockBytes(kind)), <usize>rowBytes);
      spanChunk(kind, scratch, slot, acc, out, nq, D, T, t0, t1, d0, d1, base, <usize>rowBytes, elemOffset, stepsAt(scratch, slots, nq));
      d0 = d1;
    }
  }
}

/**
 * The span's codes for tokens [t0, t1): d_t of its block (scaleAt + t·rowBytes), then per query row i the step
 * s = max|p·d|/32767 and round(p·d/s) (zero past t1, up to the chunk's next multiple of 4).
 */
// @ts-ignore: decorator
@inline function makeCodes(kind: i32, scratch: usize, slots: i32, slot: i32, p: usize, nq: i32, T: i32, t0: i32, t1: i32, scaleAt: usize, rowBytes: usize): void {
  const scales = scalesAt(scratch, slots, nq) + (<usize>(slot * MIX_CHUNK) << 2) - (<usize>t0 << 2); // indexed by t
  for (let t = t0; t < t1; t++) store<f32>(scales + (<usize>t << 2), pkLoadHalf(scaleAt + <usize>t * rowBytes));
  const padEnd = min(t0 + MIX_CHUNK, (t1 + 3) & ~3);
  for (let i = 0; i < nq; i++) {
    const probs = p + (<usize>(i * T) << 2);
    const codes = scratch + (<usize>((slot * nq + i) * MIX_CHUNK) << 1) - (<usize>t0 << 1); // indexed by t
    const m = chunkPeak(probs, scales, t0, t1);
    // an all-zero chunk gets s = 0 and codes 0
    const inv: f32 = m > 0 ? <f32>32767 / m : 0;
    store<f32>(stepsAt(scratch, slots, nq) + (<usize>(slot * nq + i) << 2), m / 32767);
    roundChunk(probs, scales, codes, inv, t0, t1);
    for (let t = t1; t < padEnd; t++) store<i16>(codes + (<usize>t << 1), 0);
  }
}

/** max |p[t]·d[t]| over t in [t0, t1); probs, scales: f32 per token. */
// @ts-ignore: decorator
@inline function chunkPeak(probs: usize, scales: usize, t0: i32, t1: i32): f32 {
  let peak = f32x4.splat(0);
  let t = t0;
  for (; t + 8 <= t1; t += 8) {
    const at = <usize>t << 2;
    // pmax is one instruction; max's NaN and -0 rules cost several, and these values are finite and non-negative
    peak = f32x4.pmax(peak, f32x4.abs(f32x4.mul(v128.load(probs + at), v128.load(scales + at))));
    peak = f32x4.pmax(peak, f32x4.abs(f32x4.mul(v128.load(probs + at, 16), v128.load(scales + at, 16))));
  }
  let m = max(max(f32x4.extract_lane(peak, 0), f32x4.extract_lane(peak, 1)), max(f32x4.extract_lane(peak, 2), f32x4.extract_lane(peak, 3)));
  for (; t < t1; t++) m = max(m, abs(load<f32>(probs + (<usize>t << 2)) * load<f32>(scales + (<usize>t << 2))));
  return m;
}

/**
 * codes[t] = round(p[t]·d[t]·inv) as i16 for t in [t0, t1), half to even (|x| ≤ 32767 since inv = 32767/peak).
 * Rounding by adding 1.5·2^23: for |x| < 2^22 the sum's low mantissa bits are the rounded integer, so two
 * instructions replace nearest + trunc_sat (which V8 expands into about ten).
 */
// @ts-ignore: decorator
@inline function roundChunk(probs: usize, scales: usize, codes: usize, inv: f32, t0: i32, t1: i32): void {
  const invs = f32x4.splat(inv);
  const magic = f32x4.splat(12582912); // 1.5·2^23, bits 0x4b400000
  let t = t0;
  for (; t + 8 <= t1; t += 8) {
    const at = <usize>t << 2;
    const x0 = f32x4.mul(f32x4.mul(v128.load(probs + at), v128.load(scales + at)), invs);
    const x1 = f32x4.mul(f32x4.mul(v128.load(probs + at, 16), v128.load(scales + at, 16)), invs);
    const i0 = i32x4.sub(f32x4.add(x0, magic), magic);
    const i1 = i32x4.sub(f32x4.add(x1, magic), magic);
    const c = i16x8.narrow_i32x4_s(i0, i1);
    v128.store(codes + (<usize>t << 1), c);
  }
  for (; t < t1; t++) {
    const x = load<f32>(probs + (<usize>t << 2)) * load<f32>(scales + (<usize>t << 2)) * inv;
    store<i16>(codes + (<usize>t << 1), <i16><i32>nearest<f32>(x));
  }
}

/** Codes of head elements e..e+7 (one block) of two token rows, interleaved per element as i8x16 (a0 b0 a1 b1 …). */
// @ts-ignore: decorator
@inline function pairCodes(kind: i32, rowA: usize, rowB: usize, e: i32): v128 {
  const at = <usize>(e >> 5) * blockBytes(kind) + 2;
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

/** Adds the span's sums over tokens [t0, t1) to out (dimensions [d0, d1), a multiple of 8 wide). */
// @ts-ignore: decorator
@inline function spanChunk(kind: i32, scratch: usize, slot: i32, acc: usize, out: usize, nq: i32, D: i32, T: i32, t0: i32, t1: i32, d0: i32, d1: i32, base: usize, stride: usize, elemOffset: i32, steps: usize): void {
  for (let i = 0; i < nq; i++) memory.fill(acc + ((<usize>i * D + d0) << 2), 0, <usize>(d1 - d0) << 2);
  const last = base + <usize>(T - 1) * stride;
  const codes = scratch + (<usize>(slot * nq * MIX_CHUNK) << 1) - (<usize>t0 << 1); // indexed by t
  for (let t = t0; t < t1; t += 4) {
    // rows past T (their codes are 0) read the last row instead, so nothing past the cache is touched
    const row0 = base + <usize>t * stride;
    const row1 = min(row0 + stride, last);
    const row2 = min(row0 + 2 * stride, last);
    const row3 = min(row0 + 3 * stride, last);
    for (let d = d0; d < d1; d += 8) {
      const e = elemOffset + d;
      const codes01 = pairCodes(kind, row0, row1, e);
      const codes23 = pairCodes(kind, row2, row3, e);
      const lo01 = i16x8.extend_low_i8x16_s(codes01), hi01 = i16x8.extend_high_i8x16_s(codes01);
      const lo23 = i16x8.extend_low_i8x16_s(codes23), hi23 = i16x8.extend_high_i8x16_s(codes23);
      let probs = codes + (<usize>t << 1);
      let a = acc + (<usize>d << 2);
      for (let i = 0; i < nq; i++) {
        const p01 = v128.load32_splat(probs);
        const p23 = v128.load32_splat(probs, 4);
        v128.store(a, i32x4.add(v128.load(a), i32x4.add(i32x4.dot_i16x8_s(lo01, p01), i32x4.dot_i16x8_s(lo23, p23))));
        v128.store(a, i32x4.add(v128.load(a, 16), i32x4.add(i32x4.dot_i16x8_s(hi01, p01), i32x4.dot_i16x8_s(hi23, p23))), 16);
        probs += <usize>MIX_CHUNK << 1;
        a += <usize>D << 2;
      }
    }
  }
  for (let i = 0; i < nq; i++) {
    const step = f32x4.splat(load<f32>(steps + (<usize>(slot * nq + i) << 2)));
    for (let d = d0; d < d1; d += 8) {
      const a = acc + ((<usize>i * D + d) << 2);
      const o = out + ((<usize>i * D + d) << 2);
      v128.store(o, f32x4.add(v128.load(o), f32x4.mul(f32x4.convert_i32x4_s(v128.load(a)), step)));
      v128.store(o, f32x4.add(v128.load(o, 16), f32x4.mul(f32x4.convert_i32x4_s(v128.load(a, 16)), step)), 16);
    }
  }
}

/** Row element e of one token, scalar. */
// @ts-ignore: decorator
@inline function blockValue(kind: i32, row: usize, e: i32): f32 {
  const at = row + <usize>(e >> 5) * blockBytes(kind);
  const within = e & 31;
  const d = pkLoadHalf(at);
  if (kind == Q8_0) return d * <f32>load<i8>(at + 2 + <usize>within);
  const packed = <i32>load<u8>(at + 2 + <usize>(within & 15));
  return d * <f32>(((within < 16 ? packed : packed >> 4) & 0x0f) - 8);
}

// @ts-ignore: decorator
@inline function scalarMix(kind: i32, begin: i32, end: i32, p: usize, out: usize, nq: i32, D: i32, T: i32, base: usize, rowBytes: i32, elemOffset: i32): void {
  for (let t = 0; t < T; t++) {
    const row = base + <usize>t * <usize>rowBytes;
    for (let d = begin; d < end; d++) {
      const x = blockValue(kind, row, elemOffset + d);
      for (let i = 0; i < nq; i++) {
        const at = out + ((<usize>i * D + d) << 2);
        store<f32>(at, load<f32>(at) + load<f32>(p + ((<usize>i * T + t) << 2)) * x);
      }
    }
  }
}
