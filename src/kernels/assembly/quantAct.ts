/**
 * Activation quantization for the quantized-weight kernels, matching what llama.cpp's CPU backend (ggml-cpu, x86
 * SIMD paths) feeds its integer dot products, so that both engines multiply the same int8 activations. Rows = tokens
 * t in [begin, end); x: [nTok, cols] f32. Rounding is round-half-to-even (f32x4.nearest, as _mm256_round_ps with
 * _MM_ROUND_NEAREST), every product a single f32 multiply. Layouts: kernelExports.ts; references: quantizeActRef.ts,
 * bit for bit.
 *
 * quantize_act_q8_0 (ggml's Q8_0 blocks; input of q8_0/q4_0 weights), per block of 32 values:
 *   d = f32(amax / 127), stored rounded to f16 (as ggml's block_q8_0.d) and kept here as that f32 value;
 *   code = round(f32(x · id)), id = f32(127 / amax) (0 for an all-zero block).
 *   xq per token: cols int8 codes, then cols/32 f32 scales.
 *
 * quantize_act_q8_k (ggml's Q8_K; input of the K-quants), per super-block of 256 values:
 *   iscale = f32(127 / amax), code = round(f32(x · iscale)), d = f32(1 / iscale) (0 and codes 0 when amax = 0).
 *   ggml scales by -127/max with max the signed value of largest magnitude; that flips the signs of every code and
 *   of d together, so every product d·code and every dot product is the same.
 *   xq per token, per super-block (288 bytes): 256 int8 codes, 8 i16 sums of 32 codes each (what the K-quants'
 *   mins multiply: -dmin·m_j·d·Σ codes of sub-block j), f32 d, 12 zero bytes (keeps blocks 16-byte aligned).
 */

export function quantize_act_q8_0(begin: i32, end: i32, x: usize, xq: usize, cols: i32): void {
  const tokenBytes = <usize>cols + (<usize>cols >> 3);
  const blocks = cols >> 5;
  for (let t = begin; t < end; t++) {
    const xt = x + <usize>t * (<usize>cols << 2);
    const codes = xq + <usize>t * tokenBytes;
    const scales = codes + <usize>cols;
    for (let b = 0; b < blocks; b++) {
      const xb = xt + (<usize>b << 7);
      const amax = absMax8(xb);
      store<f32>(scales + (<usize>b << 2), roundToF16(amax / 127));
      const id = f32x4.splat(amax != 0 ? <f32>127 / amax : 0);
      const dst = codes + (<usize>b << 5);
      v128.store(dst, toCodes(xb, id));
      v128.store(dst, toCodes(xb + 64, id), 16);
    }
  }
}

export function quantize_act_q8_k(begin: i32, end: i32, x: usize, xq: usize, cols: i32): void {
  const superBlocks = cols >> 8;
  const tokenBytes = <usize>superBlocks * 288;
  for (let t = begin; t < end; t++) {
    const xt = x + <usize>t * (<usize>cols << 2);
    for (let sb = 0; sb < superBlocks; sb++) {
      const xs = xt + (<usize>sb << 10);
      const dst = xq + <usize>t * tokenBytes + <usize>sb * 288;
      let amax: f32 = 0;
      for (let b = 0; b < 8; b++) amax = Mathf.max(amax, absMax8(xs + (<usize>b << 7)));
      const iscale: f32 = amax != 0 ? <f32>127 / amax : 0;
      const s = f32x4.splat(iscale);
      for (let b = 0; b < 8; b++) {
        const c0 = toCodes(xs + (<usize>b << 7), s);
        const c1 = toCodes(xs + (<usize>b << 7) + 64, s);
        v128.store(dst + (<usize>b << 5), c0);
        v128.store(dst + (<usize>b << 5), c1, 16);
        // Σ of the 32 codes (exact: |Σ| <= 32·127 fits i16)
        const wide = i32x4.extadd_pairwise_i16x8_s(i16x8.add(i16x8.extadd_pairwise_i8x16_s(c0), i16x8.extadd_pairwise_i8x16_s(c1)));
        const pairs = i32x4.add(wide, v128.shuffle<i32>(wide, wide, 2, 3, 0, 1));
        store<i16>(dst + 256 + (<usize>b << 1), <i16>(i32x4.extract_lane(pairs, 0) + i32x4.extract_lane(pairs, 1)));
      }
      v128.store(dst, i32x4.splat(0), 272);
      store<f32>(dst, amax != 0 ? <f32>1 / iscale : 0, 272);
    }
  }
}

/** max |x_i| over the 32 floats at p. */
// @ts-ignore: decorator
@inline function absMax8(p: usize): f32 {
  const m = f32x4.max(
    f32x4.max(f32x4.max(f32x4.abs(v128.load(p)), f32x4.abs(v128.load(p, 16))), f32x4.max(f32x4.abs(v128.load(p, 32)), f32x4.abs(v128.load(p, 48)))),
    f32x4.max(f32x4.max(f32x4.abs(v128.load(p, 64)), f32x4.abs(v128.load(p, 80))), f32x4.max(f32x4.abs(v128.load(p, 96)), f32x4.abs(v128.load(p, 112)))),
  );
  return Mathf.max(Mathf.max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), Mathf.max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
}

/** The 16 floats at p times `mul`, rounded half to even, as 16 int8 lanes (saturating; |x·mul| <= 127 here). */
// @ts-ignore: decorator
@inline function toCodes(p: usize, mul: v128): v128 {
  const qa = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(p), mul)));
  const qb = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(p, 16), mul)));
  const qc = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(p, 32), mul)));
  const qd = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(p, 48), mul)));
  return i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(qa, qb), i16x8.narrow_i32x4_s(qc, qd));
}

/**
 * A non-negative f32 rounded to the nearest binary16 value (ties to even, as F16C's vcvtps2ph), returned as f32:
 * normal halves keep 10 mantissa bits (add half an ulp of the 13 dropped bits plus the kept lsb, then clear them; a
 * carry moves into the exponent as it should), subnormal halves are multiples of 2^-24, beyond 65504 is Inf.
 */
// @ts-ignore: decorator
@inline function roundToF16(v: f32): f32 {
  if (v < <f32>6.103515625e-5) return nearest<f32>(v * <f32>16777216) * <f32>5.9604644775390625e-8;
  const bits = reinterpret<u32>(v);
  const rounded = reinterpret<f32>((bits + 0xfff + ((bits >> 13) & 1)) & ~(<u32>0x1fff));
  return rounded > <f32>65504 ? Infinity : rounded;
}
