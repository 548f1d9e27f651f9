/**
 * quantize_act_q8: rows = tokens t in [begin, end). x: [nTok, cols] f32 -> xq: [nTok, cols + cols/4] bytes, per token
 * `cols` int8 codes, then cols/32 f32 scales, then cols/32 f32 block sums (kernelExports.q8ActivationBytes);
 * cols % 32 == 0.
 *
 * Per block of 32: scale = amax/127 (f32 division), code = round-half-to-even(x/scale) (f32 division, as
 * f32x4.nearest), so |code| <= 127; an all-zero block gets scale 0 and codes 0. sum = scale·Σ codes (the integer sum
 * is exact; one f32 product): a K-quant's min term is -dmin·m_j·Σ_i x_i over a sub-block, and Σ_i x^_i is this sum.
 * The reference (quantizeActQ8Ref) performs exactly these f32 operations, so all bytes match bit for bit.
 */

export function quantize_act_q8(begin: i32, end: i32, x: usize, xq: usize, cols: i32): void {
  const tokenBytes = <usize>cols + (<usize>cols >> 2);
  const blocks = cols >> 5;
  for (let t = begin; t < end; t++) {
    const xt = x + <usize>t * (<usize>cols << 2);
    const codes = xq + <usize>t * tokenBytes;
    const scales = codes + <usize>cols;
    const sums = scales + (<usize>blocks << 2);
    for (let b = 0; b < blocks; b++) {
      const xb = xt + (<usize>b << 7);
      const v0 = v128.load(xb);
      const v1 = v128.load(xb, 16);
      const v2 = v128.load(xb, 32);
      const v3 = v128.load(xb, 48);
      const v4 = v128.load(xb, 64);
      const v5 = v128.load(xb, 80);
      const v6 = v128.load(xb, 96);
      const v7 = v128.load(xb, 112);
      const m = f32x4.max(
        f32x4.max(f32x4.max(f32x4.abs(v0), f32x4.abs(v1)), f32x4.max(f32x4.abs(v2), f32x4.abs(v3))),
        f32x4.max(f32x4.max(f32x4.abs(v4), f32x4.abs(v5)), f32x4.max(f32x4.abs(v6), f32x4.abs(v7))),
      );
      const amax = Mathf.max(
        Mathf.max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)),
        Mathf.max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)),
      );
      const scale: f32 = amax / 127;
      store<f32>(scales + (<usize>b << 2), scale);
      const dst = codes + (<usize>b << 5);
      if (scale == 0) {
        v128.store(dst, i8x16.splat(0));
        v128.store(dst, i8x16.splat(0), 16);
        store<f32>(sums + (<usize>b << 2), 0);
        continue;
      }
      const s = f32x4.splat(scale);
      const c0 = toCodes(v0, v1, v2, v3, s);
      const c1 = toCodes(v4, v5, v6, v7, s);
      v128.store(dst, c0);
      v128.store(dst, c1, 16);
      // Σ codes: pairwise widening adds, exact (|Σ| <= 32·127)
      const wide = i32x4.extadd_pairwise_i16x8_s(i16x8.add(i16x8.extadd_pairwise_i8x16_s(c0), i16x8.extadd_pairwise_i8x16_s(c1)));
      const pairs = i32x4.add(wide, v128.shuffle<i32>(wide, wide, 2, 3, 0, 1));
      const total = i32x4.extract_lane(pairs, 0) + i32x4.extract_lane(pairs, 1);
      store<f32>(sums + (<usize>b << 2), scale * <f32>total);
    }
  }
}

/** 16 floats (four f32x4) / scale, rounded half to even, as 16 int8 lanes. */
// @ts-ignore: decorator
@inline function toCodes(a: v128, b: v128, c: v128, d: v128, scale: v128): v128 {
  const qa = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.div(a, scale)));
  const qb = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.div(b, scale)));
  const qc = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.div(c, scale)));
  const qd = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.div(d, scale)));
  return i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(qa, qb), i16x8.narrow_i32x4_s(qc, qd));
}
