/**
 * IEEE 754 half precision (binary16) and bfloat16 conversion, scalar and exact: round-to-nearest-even on the way
 * down, exact on the way up. Used by the GGUF reader/writer (F16/BF16 tensors, block scales) and the fp16 caches.
 */

// Scalar helpers build a DataView per call (no module-level scratch state); the bulk helpers below reuse one
// scratch per call and are what loaders and writers should use for whole tensors.

/**
 * float32 -> binary16 bits, round to nearest even; overflow -> ±Inf, NaN stays NaN. Arithmetic on the float32 value
 * (exact in float64), so no bit view is needed: this is on the hot path of every cache that stores fp16.
 */
export function f32ToF16(value: number): number {
  const x = Math.fround(value);
  if (x !== x) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00; // rounds past the largest half (65504)
  if (a < 2 ** -14) return sign | roundHalfEven(a * 2 ** 24); // subnormal half (may round up to the smallest normal)
  let e = Math.floor(Math.log2(a));
  // log2 can be off by one next to a power of two: fix the exponent so that 2^e <= a < 2^(e+1)
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  let m = roundHalfEven((a / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e++;
  }
  return sign | ((e + 15) << 10) | m;
}

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const rest = v - f;
  return rest > 0.5 || (rest === 0.5 && (f & 1) === 1) ? f + 1 : f;
}

/** The same conversion from the raw float32 bit pattern (read through a Uint32Array view: no DataView per value). */
export function f16FromF32Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // subnormal half: shift the implicit-1 mantissa right, rounding to nearest even
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rest > half || (rest === half && (m & 1) === 1)) m++;
    return sign | m;
  }
  const rest = mant & 0x1fff;
  let m = mant >>> 13;
  if (rest > 0x1000 || (rest === 0x1000 && (m & 1) === 1)) {
    m++;
    if (m === 0x400) {
      m = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

/** Largest finite binary16 value. */
export const F16_MAX = 65504;

/**
 * float32 -> binary16 bits like f32ToF16, but finite values beyond ±65504 become ±65504 instead of ±Inf: where an
 * exact value is stored in fp16 (quantization outliers), a clipped finite value is better than an Infinity that
 * would turn attention into NaN. Infinities and NaN map as in f32ToF16.
 */
export function f32ToF16Saturating(value: number): number {
  if (value > F16_MAX && value !== Infinity) return f32ToF16(F16_MAX);
  if (value < -F16_MAX && value !== -Infinity) return f32ToF16(-F16_MAX);
  return f32ToF16(value);
}

/** binary16 bits -> number (exact). */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant !== 0 ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** float32 -> bfloat16 bits, round to nearest even (NaN kept quiet). */
export function f32ToBf16(value: number): number {
  const bits = floatBits(Math.fround(value));
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0) return ((bits >>> 16) | 0x40) & 0xffff;
  const rounded = bits + 0x7fff + ((bits >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

/** bfloat16 bits -> number (exact). */
export function bf16ToF32(b: number): number {
  return bitsFloat((b & 0xffff) << 16);
}

function floatBits(f: number): number {
  const buf = new DataView(new ArrayBuffer(4));
  buf.setFloat32(0, f, true);
  return buf.getUint32(0, true);
}

function bitsFloat(bits: number): number {
  const buf = new DataView(new ArrayBuffer(4));
  buf.setUint32(0, bits >>> 0, true);
  return buf.getFloat32(0, true);
}

/** Converts a whole float32 array to binary16 bits. */
export function f32ArrayToF16(src: ArrayLike<number>, dst: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  for (let i = 0; i < src.length; i++) dst[i] = f32ToF16(src[i]!);
  return dst;
}

/** Converts binary16 bits to float32 through a 65536-entry table built once per call (fast for large arrays). */
export function f16ArrayToF32(src: Uint16Array, dst: Float32Array = new Float32Array(src.length)): Float32Array {
  if (src.length < 4096) {
    for (let i = 0; i < src.length; i++) dst[i] = f16ToF32(src[i]!);
    return dst;
  }
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) table[h] = f16ToF32(h);
  for (let i = 0; i < src.length; i++) dst[i] = table[src[i]!]!;
  return dst;
}
