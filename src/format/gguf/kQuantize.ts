/**
 * Quantizers for Q4_K, Q5_K and Q6_K (layouts in kQuants.ts), written here for a bound that holds for every input,
 * not to reproduce ggml's search for the least-squares scales (their bytes differ from ggml's quantizer; every
 * reader, llama.cpp's included, decodes them the same way).
 *
 * Type-1 (Q4_K: L = 15 levels, Q5_K: L = 31), per super-block of 256 values, sub-blocks j of 32 values:
 *   lo_j = min(0, min x), hi_j = max x                     (ggml's min is subtracted, so the offset is never above 0)
 *   dmin = f16 rounded up of max_j(-lo_j) / 63,   m_j = ceil(-lo_j / dmin)      -> o_j = dmin·m_j >= -lo_j, m_j <= 63
 *   R_j = hi_j + o_j                                                             (the span the codes must cover)
 *   d = f16 rounded up of max_j R_j / (L·63),     sc_j = ceil(R_j / (L·d))       -> s_j = d·sc_j >= R_j / L, sc_j <= 63
 *   q = clamp(round((x + o_j) / s_j), 0, L)
 * Every x + o_j lies in [0, R_j] ⊂ [0, L·s_j], so the clamp never bites and
 *   |x - x^| <= s_j / 2 < (R_j / L + d) / 2 <= ((hi_j - lo_j + dmin) / L + d) / 2            (the bound the tests hold)
 * i.e. half a step of the sub-block's own range split in L, plus at most one step of the 6-bit scale grids.
 *
 * Type-0 (Q6_K), sub-blocks s of 16 values, codes q - 32 in -32..31, using -31..31 symmetrically:
 *   a_s = max |x|,  d = f16 rounded up of max_s a_s / (31·127),  sc_s = ceil(a_s / (31·d)) <= 127,  s_s = d·sc_s
 *   q - 32 = clamp(round(x / s_s), -32, 31)    ->   |x - x^| <= s_s / 2 < (a_s / 31 + d) / 2
 *
 * Rounding d and dmin up to f16 first (and computing codes against the stored f16 values) is what makes the bound
 * hold for the bytes as stored. Inputs must be finite (the converter checks); a super-block whose d would overflow
 * f16 (values beyond ~9e5) saturates, and the bound then fails loudly in the converter's error report, not silently.
 */
import { f16ToF32, f32ToF16 } from "../../quant/fp16.js";
import {
  K_SCALES_OFFSET, Q4_K_BLOCK_BYTES, Q4_K_QS_OFFSET, Q5_K_BLOCK_BYTES, Q5_K_QH_OFFSET, Q5_K_QS_OFFSET, Q6_K_BLOCK_BYTES,
  Q6_K_D_OFFSET, Q6_K_QH_OFFSET, Q6_K_SCALES_OFFSET, QK_K, packScalesMins,
} from "./kQuants.js";

/** The smallest f16 value >= x (x >= 0), as f16 bits. */
export function f16RoundUp(x: number): number {
  let h = f32ToF16(x);
  if (h >= 0x7c00) return 0x7bff; // saturate at the largest finite half
  if (f16ToF32(h) < x && h < 0x7bff) h++; // positive halves are ordered like their bits
  return h;
}

function storeF16(out: Uint8Array, at: number, half: number): void {
  out[at] = half & 0xff;
  out[at + 1] = half >>> 8;
}

/** values (length a multiple of 256) -> Q4_K blocks. */
export function quantizeRowQ4_K(values: Float32Array, out: Uint8Array): void {
  quantizeType1(values, out, false);
}

/** values (length a multiple of 256) -> Q5_K blocks. */
export function quantizeRowQ5_K(values: Float32Array, out: Uint8Array): void {
  quantizeType1(values, out, true);
}

function quantizeType1(values: Float32Array, out: Uint8Array, fiveBits: boolean): void {
  const levels = fiveBits ? 31 : 15;
  const blockBytes = fiveBits ? Q5_K_BLOCK_BYTES : Q4_K_BLOCK_BYTES;
  const qsOffset = fiveBits ? Q5_K_QS_OFFSET : Q4_K_QS_OFFSET;
  const lo = new Float64Array(8);
  const hi = new Float64Array(8);
  const sc = new Uint8Array(8);
  const m = new Uint8Array(8);
  for (let b = 0; b < values.length / QK_K; b++) {
    const first = b * QK_K;
    for (let j = 0; j < 8; j++) {
      let min = 0;
      let max = -Infinity;
      for (let l = 0; l < 32; l++) {
        const v = values[first + 32 * j + l]!;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      lo[j] = min;
      hi[j] = max;
    }
    const dminBits = f16RoundUp(Math.max(...lo.map((v) => -v)) / 63);
    const dmin = f16ToF32(dminBits);
    const offset = new Float64Array(8);
    let maxSpan = 0;
    for (let j = 0; j < 8; j++) {
      m[j] = dmin > 0 ? Math.min(63, Math.ceil(-lo[j]! / dmin)) : 0;
      offset[j] = dmin * m[j]!;
      maxSpan = Math.max(maxSpan, hi[j]! + offset[j]!);
    }
    const dBits = f16RoundUp(maxSpan / (levels * 63));
    const d = f16ToF32(dBits);
    for (let j = 0; j < 8; j++) sc[j] = d > 0 ? Math.min(63, Math.ceil((hi[j]! + offset[j]!) / (levels * d))) : 0;

    const o = b * blockBytes;
    out.fill(0, o, o + blockBytes);
    storeF16(out, o, dBits);
    storeF16(out, o + 2, dminBits);
    packScalesMins(sc, m, out, o + K_SCALES_OFFSET);
    for (let j = 0; j < 8; j++) {
      const step = d * sc[j]!;
      for (let l = 0; l < 32; l++) {
        const x = values[first + 32 * j + l]!;
        const q = step > 0 ? Math.min(levels, Math.max(0, Math.round((x + offset[j]!) / step))) : 0;
        out[o + qsOffset + 32 * (j >> 1) + l]! |= j & 1 ? (q & 15) << 4 : q & 15;
        if (fiveBits) out[o + Q5_K_QH_OFFSET + l]! |= (q >> 4) << j;
      }
    }
  }
}

/** values (length a multiple of 256) -> Q6_K blocks. */
export function quantizeRowQ6_K(values: Float32Array, out: Uint8Array): void {
  const amax = new Float64Array(16);
  for (let b = 0; b < values.length / QK_K; b++) {
    const first = b * QK_K;
    for (let s = 0; s < 16; s++) {
      let a = 0;
      for (let l = 0; l < 16; l++) a = Math.max(a, Math.abs(values[first + 16 * s + l]!));
      amax[s] = a;
    }
    const dBits = f16RoundUp(Math.max(...amax) / (31 * 127));
    const d = f16ToF32(dBits);
    const o = b * Q6_K_BLOCK_BYTES;
    out.fill(0, o, o + Q6_K_BLOCK_BYTES);
    storeF16(out, o + Q6_K_D_OFFSET, dBits);
    for (let s = 0; s < 16; s++) {
      const sc = d > 0 ? Math.min(127, Math.ceil(amax[s]! / (31 * d))) : 0;
      out[o + Q6_K_SCALES_OFFSET + s] = sc;
      const step = d * sc;
      for (let l = 0; l < 16; l++) {
        const i = 16 * s + l;
        const q = (step > 0 ? Math.min(31, Math.max(-32, Math.round(values[first + i]! / step))) : 0) + 32;
        const n = i >> 7;
        const group = (i >> 5) & 3;
        const k = i & 31;
        out[o + 64 * n + 32 * (group & 1) + k]! |= group < 2 ? q & 15 : (q & 15) << 4;
        out[o + Q6_K_QH_OFFSET + 32 * n + k]! |= (q >> 4) << (2 * group);
      }
    }
  }
}
