/**
 * fp16 conversions on raw bit patterns, for QAQ's per-token loops (rounding appended K/V, storing and reading the
 * per-group ranges), where quant/fp16.ts's number-based helpers cost a call chain or a DataView per value.
 * Results are exact and identical to quant/fp16.ts (tested).
 */
import { f16FromF32Bits } from "../../quant/fp16.js";

const F16_INFINITY = 0x7c00;

/** binary16 bits -> the float32 bit pattern of the same value (exact; NaN payloads kept). */
export function widenF16Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
  if (exponent !== 0) return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0;
  if (mantissa === 0) return sign >>> 0;
  // subnormal: shift the mantissa up to its implicit bit, one exponent step per shift (2^-14 at no shift)
  let m = mantissa;
  let biased = 113;
  while ((m & 0x400) === 0) {
    m <<= 1;
    biased--;
  }
  return (sign | (biased << 23) | ((m & 0x3ff) << 13)) >>> 0;
}

/** Converts numbers to and from bit patterns through one owned 4-byte scratch (no DataView per value). */
export class F16Rounder {
  private readonly float = new Float32Array(1);
  private readonly bits = new Uint32Array(this.float.buffer);

  /** The value of binary16 bits `h`. */
  value(h: number): number {
    this.bits[0] = widenF16Bits(h);
    return this.float[0]!;
  }

  /** fp16 bits of the smallest fp16 value ≥ x, for x ≥ 0; Infinity bits beyond 65504. */
  roundUp(x: number): number {
    this.float[0] = x;
    let h = f16FromF32Bits(this.bits[0]!);
    if (h >= F16_INFINITY) return F16_INFINITY;
    if (this.value(h) < x) h++; // the next fp16 up (x ≥ 0: bits grow with the value; 0x7bff + 1 is Infinity)
    return h;
  }
}
