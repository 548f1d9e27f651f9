/**
 * ggml's K-quants Q4_K, Q5_K and Q6_K: super-blocks of QK_K = 256 values, reference (scalar) dequantization. The
 * byte layouts, little-endian, exactly as ggml stores them:
 *
 * Q4_K, 144 bytes:  d f16 | dmin f16 | scales[12] | qs[128]
 *   8 sub-blocks of 32 values, sub-block j has a 6-bit scale sc_j and a 6-bit min m_j packed into scales[12]
 *   (unpackScalesMins);                                          value = d·sc_j·q - dmin·m_j,  q in 0..15
 *   qs[32c + l]: low nibble = q of value 64c + l (sub-block 2c), high nibble = q of value 64c + 32 + l (sub-block 2c+1)
 * Q5_K, 176 bytes:  d f16 | dmin f16 | scales[12] | qh[32] | qs[128]
 *   as Q4_K with a fifth bit: bit j of qh[l] is bit 4 of q of value 32j + l;  q in 0..31
 * Q6_K, 210 bytes:  ql[128] | qh[64] | scales[16] int8 | d f16
 *   16 sub-blocks of 16 values, sub-block s has the signed 8-bit scale sc_s;  value = d·sc_s·(q - 32),  q in 0..63
 *   per half n (values 128n .. 128n+127), l < 32, four values share qh[32n + l] (2 bits each, from bit 0 up):
 *     value 128n + l       low  nibble of ql[64n + l]
 *     value 128n + 32 + l  low  nibble of ql[64n + 32 + l]
 *     value 128n + 64 + l  high nibble of ql[64n + l]
 *     value 128n + 96 + l  high nibble of ql[64n + 32 + l]
 *
 * Products are rounded to float32 as ggml's C code does (d·sc first, then ·q, then - dmin·m), so the values equal
 * ggml's dequantize_row_*_K output.
 */
import { f16ToF32 } from "../../quant/fp16.js";

export const QK_K = 256;
export const Q4_K_BLOCK_BYTES = 144;
export const Q5_K_BLOCK_BYTES = 176;
export const Q6_K_BLOCK_BYTES = 210;
/** Byte offsets inside the blocks. */
export const K_SCALES_OFFSET = 4;
export const Q4_K_QS_OFFSET = 16;
export const Q5_K_QH_OFFSET = 16;
export const Q5_K_QS_OFFSET = 48;
export const Q6_K_QH_OFFSET = 128;
export const Q6_K_SCALES_OFFSET = 192;
export const Q6_K_D_OFFSET = 208;

/**
 * The 8 scales and 8 mins (6 bits each) of a Q4_K/Q5_K block from its 12 packed bytes at `at`:
 *   j < 4:  sc_j = s[j] & 63,                           m_j = s[j+4] & 63
 *   j >= 4: sc_j = (s[j+4] & 15) | (s[j-4] >> 6) << 4,  m_j = (s[j+4] >> 4) | (s[j] >> 6) << 4
 */
export function unpackScalesMins(bytes: Uint8Array, at: number, sc: Uint8Array, m: Uint8Array): void {
  for (let j = 0; j < 4; j++) {
    sc[j] = bytes[at + j]! & 63;
    m[j] = bytes[at + j + 4]! & 63;
  }
  for (let j = 4; j < 8; j++) {
    sc[j] = (bytes[at + j + 4]! & 15) | ((bytes[at + j - 4]! >> 6) << 4);
    m[j] = (bytes[at + j + 4]! >> 4) | ((bytes[at + j]! >> 6) << 4);
  }
}

/** The inverse of unpackScalesMins: sc[8], m[8] (each 0..63) -> 12 bytes at `at`. */
export function packScalesMins(sc: ArrayLike<number>, m: ArrayLike<number>, out: Uint8Array, at: number): void {
  for (let j = 0; j < 4; j++) {
    out[at + j] = (sc[j]! & 63) | ((sc[j + 4]! >> 4) << 6);
    out[at + j + 4] = (m[j]! & 63) | ((m[j + 4]! >> 4) << 6);
    out[at + j + 8] = (sc[j + 4]! & 15) | ((m[j + 4]! & 15) << 4);
  }
}

function f16At(bytes: Uint8Array, at: number): number {
  return f16ToF32(bytes[at]! | (bytes[at + 1]! << 8));
}

/** `bytes`: n/256 Q4_K blocks -> out[0..n). */
export function dequantizeRowQ4_K(bytes: Uint8Array, n: number, out: Float32Array): void {
  dequantizeType1(bytes, n, out, false);
}

/** `bytes`: n/256 Q5_K blocks -> out[0..n). */
export function dequantizeRowQ5_K(bytes: Uint8Array, n: number, out: Float32Array): void {
  dequantizeType1(bytes, n, out, true);
}

/** Q4_K and Q5_K ("type-1": scale and min per sub-block of 32). */
function dequantizeType1(bytes: Uint8Array, n: number, out: Float32Array, fiveBits: boolean): void {
  const blockBytes = fiveBits ? Q5_K_BLOCK_BYTES : Q4_K_BLOCK_BYTES;
  const sc = new Uint8Array(8);
  const m = new Uint8Array(8);
  for (let b = 0; b < n / QK_K; b++) {
    const o = b * blockBytes;
    const d = f16At(bytes, o);
    const dmin = f16At(bytes, o + 2);
    unpackScalesMins(bytes, o + K_SCALES_OFFSET, sc, m);
    const qs = o + (fiveBits ? Q5_K_QS_OFFSET : Q4_K_QS_OFFSET);
    for (let j = 0; j < 8; j++) {
      const scale = Math.fround(d * sc[j]!);
      const min = Math.fround(dmin * m[j]!);
      const base = b * QK_K + 32 * j;
      for (let l = 0; l < 32; l++) {
        const byte = bytes[qs + 32 * (j >> 1) + l]!;
        let q = j & 1 ? byte >> 4 : byte & 15;
        if (fiveBits) q |= ((bytes[o + Q5_K_QH_OFFSET + l]! >> j) & 1) << 4;
        out[base + l] = Math.fround(Math.fround(scale * q) - min);
      }
    }
  }
}

/** Code q (0..63) of value i (0..255) of the Q6_K block at o. */
export function q6kCode(bytes: Uint8Array, o: number, i: number): number {
  const n = i >> 7;
  const group = (i >> 5) & 3; // which of the four values sharing a qh byte
  const l = i & 31;
  const low = bytes[o + 64 * n + 32 * (group & 1) + l]!;
  const nibble = group < 2 ? low & 15 : low >> 4;
  const high = (bytes[o + Q6_K_QH_OFFSET + 32 * n + l]! >> (2 * group)) & 3;
  return nibble | (high << 4);
}

/** `bytes`: n/256 Q6_K blocks -> out[0..n). */
export function dequantizeRowQ6_K(bytes: Uint8Array, n: number, out: Float32Array): void {
  for (let b = 0; b < n / QK_K; b++) {
    const o = b * Q6_K_BLOCK_BYTES;
    const d = f16At(bytes, o + Q6_K_D_OFFSET);
    for (let i = 0; i < QK_K; i++) {
      const sc = (bytes[o + Q6_K_SCALES_OFFSET + (i >> 4)]! << 24) >> 24;
      out[b * QK_K + i] = Math.fround(Math.fround(d * sc) * (q6kCode(bytes, o, i) - 32));
    }
  }
}

/**
 * The quantization step of value i of a row of K-quant blocks, as stored: d·sc_j (Q4_K/Q5_K) or |d·sc_s| (Q6_K).
 * A quantizer that rounds to the nearest code without clipping is off by at most half of it (kQuantize.ts).
 */
export function kQuantStep(type: "q4_k" | "q5_k" | "q6_k", bytes: Uint8Array, i: number): number {
  const block = Math.floor(i / QK_K);
  const within = i % QK_K;
  if (type === "q6_k") {
    const o = block * Q6_K_BLOCK_BYTES;
    const sc = (bytes[o + Q6_K_SCALES_OFFSET + (within >> 4)]! << 24) >> 24;
    return Math.abs(f16At(bytes, o + Q6_K_D_OFFSET) * sc);
  }
  const o = block * (type === "q4_k" ? Q4_K_BLOCK_BYTES : Q5_K_BLOCK_BYTES);
  const sc = new Uint8Array(8);
  const m = new Uint8Array(8);
  unpackScalesMins(bytes, o + K_SCALES_OFFSET, sc, m);
  return Math.abs(f16At(bytes, o) * sc[within >> 5]!);
}
