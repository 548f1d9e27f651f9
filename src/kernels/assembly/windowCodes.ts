/**
 * QAQ's attention-window observation codes (src/cache/qaq/AttentionWindow.ts has the code and why): for one query
 * row, the max over its nRep query heads of each token's probability, as a one-byte code read from the float's bits.
 * rows = tokens t in [begin, end): out[t] = code(max_rep probs[rep·T + t]); probs: [nRep, T] f32; out: [T] u8.
 *   bits = the float32 bits as int32 (non-negative floats order like their bits; a negative value, never a
 *   probability, is a negative int and loses to 0); c = bits >> 20 (exponent and 3 mantissa bits);
 *   code = 0 when c < SMALLEST_CODED (below 2^-31), else min(255, c − SMALLEST_CODED + 1).
 */

/** float32 bits >>> 20 of 2^-31, the smallest probability with its own code */
const SMALLEST_CODED: i32 = (127 - 31) << 3;

export function attn_window_codes(begin: i32, end: i32, probs: usize, out: usize, nRep: i32, T: i32): void {
  const rowBytes = <usize>T << 2;
  let t = begin;
  for (; t + 4 <= end; t += 4) {
    let top = i32x4.splat(0);
    let at = probs + (<usize>t << 2);
    for (let rep = 0; rep < nRep; rep++) {
      top = i32x4.max_s(top, v128.load(at));
      at += rowBytes;
    }
    // c − SMALLEST_CODED + 1, clamped to 0..255 (every c below SMALLEST_CODED lands on 0 or less)
    const code = i32x4.min_s(i32x4.max_s(i32x4.sub(i32x4.shr_u(top, 20), i32x4.splat(SMALLEST_CODED - 1)), i32x4.splat(0)), i32x4.splat(255));
    const bytes = i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_u(code, code), i16x8.splat(0));
    v128.store32_lane(out + <usize>t, bytes, 0);
  }
  for (; t < end; t++) {
    let top = 0;
    for (let rep = 0; rep < nRep; rep++) top = max(top, load<i32>(probs + ((<usize>rep * <usize>T + <usize>t) << 2)));
    const c = top >> 20;
    store<u8>(out + <usize>t, c < SMALLEST_CODED ? 0 : <u8>min(255, c - SMALLEST_CODED + 1));
  }
}
