/**
 * ggml's two simplest block quantizations, reference (scalar) versions. Both cut a row into blocks of 32 values;
 * a row length that is not a multiple of 32 is a caller error (the traits table checks it first).
 *
 * Q8_0 block, 34 bytes:
 *   bytes 0..1   d     fp16 (little-endian), d = amax / 127 where amax = max |x|
 *   bytes 2..33  q[32] int8, q[j] = roundf(x[j] / d) (half away from zero)          value = d * q[j]
 *
 * Q4_0 block, 18 bytes:
 *   bytes 0..1   d     fp16, d = max / -8 where max is the value of largest magnitude, sign kept
 *   bytes 2..17  qs[16] byte j: element j in the low nibble, element j+16 in the high nibble,
 *                       q = min(15, trunc(x / d + 8.5))                               value = d * (q - 8)
 *
 * Arithmetic is rounded to float32 at the same steps as ggml's C code (Math.fround), so the bytes match ggml's
 * reference quantizer; the scale d used for rounding is the float32 one, the stored one is its fp16 rounding.
 */
import { f16FromF32Bits, f16ToF32 } from "../../quant/fp16.js";

export const QK = 32;
export const Q8_0_BLOCK_BYTES = 2 + QK;
export const Q4_0_BLOCK_BYTES = 2 + QK / 2;

/** `bytes`: n/32 Q8_0 blocks -> out[0..n). */
export function dequantizeRowQ8_0(bytes: Uint8Array, n: number, out: Float32Array): void {
  for (let block = 0; block < n / QK; block++) {
    const o = block * Q8_0_BLOCK_BYTES;
    const d = f16ToF32(bytes[o]! | (bytes[o + 1]! << 8));
    const base = block * QK;
    for (let j = 0; j < QK; j++) out[base + j] = d * ((bytes[o + 2 + j]! << 24) >> 24);
  }
}

/** values[0..n) (n a multiple of 32) -> `out`: n/32 Q8_0 blocks. */
export function quantizeRowQ8_0(values: Float32Array, out: Uint8Array): void {
  const scale = new Float32Array(1); // f32 -> fp16 through the bit pattern, no DataView per block
  const scaleBits = new Uint32Array(scale.buffer);
  for (let block = 0; block < values.length / QK; block++) {
    const base = block * QK;
    let amax = 0;
    for (let j = 0; j < QK; j++) {
      const magnitude = Math.abs(values[base + j]!);
      if (magnitude > amax) amax = magnitude;
    }
    const d = Math.fround(amax / 127);
    const inverse = d !== 0 ? Math.fround(1 / d) : 0;
    const o = block * Q8_0_BLOCK_BYTES;
    scale[0] = d;
    const half = f16FromF32Bits(scaleBits[0]!);
    out[o] = half & 0xff;
    out[o + 1] = half >>> 8;
    for (let j = 0; j < QK; j++) {
      out[o + 2 + j] = roundHalfAwayFromZero(Math.fround(values[base + j]! * inverse)) & 0xff;
    }
  }
}

/** `bytes`: n/32 Q4_0 blocks -> out[0..n). */
export function dequantizeRowQ4_0(bytes: Uint8Array, n: number, out: Float32Array): void {
  const halfBlock = QK / 2;
  for (let block = 0; block < n / QK; block++) {
    const o = block * Q4_0_BLOCK_BYTES;
    const d = f16ToF32(bytes[o]! | (bytes[o + 1]! << 8));
    const base = block * QK;
    for (let j = 0; j < halfBlock; j++) {
      const packed = bytes[o + 2 + j]!;
      out[base + j] = d * ((packed & 0x0f) - 8);
      out[base + halfBlock + j] = d * ((packed >>> 4) - 8);
    }
  }
}

/** values[0..n) (n a multiple of 32) -> `out`: n/32 Q4_0 blocks. */
export function quantizeRowQ4_0(values: Float32Array, out: Uint8Array): void {
  const halfBlock = QK / 2;
  const scale = new Float32Array(1);
  const scaleBits = new Uint32Array(scale.buffer);
  for (let block = 0; block < values.length / QK; block++) {
    const base = block * QK;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QK; j++) {
      const v = values[base + j]!;
      if (Math.abs(v) > amax) {
        amax = Math.abs(v);
        max = v;
      }
    }
    // a negative scale when max > 0: the extreme value then lands exactly on code 0 (-8 * d = max)
    const d = Math.fround(max / -8);
    const inverse = d !== 0 ? Math.fround(1 / d) : 0;
    const o = block * Q4_0_BLOCK_BYTES;
    scale[0] = d;
    const half = f16FromF32Bits(scaleBits[0]!);
    out[o] = half & 0xff;
    out[o + 1] = half >>> 8;
    for (let j = 0; j < halfBlock; j++) {
      const low = nibbleCode(Math.fround(values[base + j]! * inverse));
      const high = nibbleCode(Math.fround(values[base + halfBlock + j]! * inverse));
      out[o + 2 + j] = low | (high << 4);
    }
  }
}

/** C's `MIN(15, (int8_t)(x + 8.5f))` for x in [-8, 8]: truncation toward zero, then the top code clipped. */
function nibbleCode(scaled: number): number {
  return Math.min(15, Math.trunc(Math.fround(scaled + 8.5)));
}

/** C's roundf: halves go away from zero (Math.round would send -2.5 to -2). */
function roundHalfAwayFromZero(x: number): number {
  return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
}
