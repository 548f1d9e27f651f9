/**
 * Uniform quantization whose grid is stored in fp16, as packed KV caches store it (scale and zero are u16 f16 bits,
 * see the packed-layout note). Rounding the float32 grid of uniform.ts to fp16 after choosing the codes would leave
 * codes and parameters inconsistent, so here the grid is rounded to fp16 FIRST and the codes are chosen against the
 * rounded grid; reconstruction is THE formula of uniform.ts with the fp16 values widened to float32.
 *
 * - "minmax": zero16 = min rounded DOWN to fp16; scale16 = (max − zero16) / 2^B rounded UP, so the stored grid
 *   [zero16, zero16 + 2^B·scale16] still covers [min, max] and every included value is within scale16/2 of its
 *   reconstruction.
 * - "meanClip": scale16 = (max − min) / 2^B rounded up; zero16 = (mean − (2^(B−1) + 0.5)·scale16) rounded down, so
 *   the mean stays (within one fp16 step of zero) a grid point; values beyond the grid clip, as in uniform.ts.
 * - A group whose included values are all equal (or that has none) gets scale 0 and zero = that value rounded to the
 *   NEAREST fp16: every code reconstructs it (to fp16 precision).
 * Codes: q = clamp(floor((x − zero) / scale), 0, 2^B − 1) with the widened fp16 scale and zero; excluded values
 * (outliers) get codes too (clipped to an end bin), as in uniform.ts.
 * A range that fp16 cannot hold (|x| or the step beyond 65504) is a NumericError: KV activations never come close.
 */
import { NumericError } from "../util/errors.js";
import { checkCodeBits, checkSpan } from "./checkArgs.js";
import { f16ToF32, f32ToF16 } from "./fp16.js";
import type { UniformMethod } from "./uniform.js";

/** A group's grid as stored (f16 bits) and as the kernels widen it (float32 values). Caller-owned, overwritten. */
export interface F16Grid {
  scaleBits: number;
  zeroBits: number;
  scale: number;
  zero: number;
}

export function createF16Grid(): F16Grid {
  return { scaleBits: 0, zeroBits: 0, scale: 0, zero: 0 };
}

/** fp16 bits of the largest fp16 value ≤ x (x finite). */
export function f16RoundDown(x: number): number {
  const bits = f32ToF16(x);
  return f16ToF32(bits) > x ? nextF16Down(bits) : checkedF16(bits, x);
}

/** fp16 bits of the smallest fp16 value ≥ x (x finite). */
export function f16RoundUp(x: number): number {
  const bits = f32ToF16(x);
  return f16ToF32(bits) < x ? nextF16Up(bits) : checkedF16(bits, x);
}

/**
 * Quantizes values[offset .. offset+length) to `bits` (0..8) on an fp16 grid (file comment). excluded: null, or a
 * mask (excluded[i] ≠ 0: left out of min, max and mean). Writes one code per value to outCodes[0..length) and the
 * grid to outGrid.
 */
export function quantizeF16Grid(
  values: Float32Array,
  offset: number,
  length: number,
  bits: number,
  method: UniformMethod,
  excluded: Uint8Array | null,
  outCodes: Uint8Array,
  outGrid: F16Grid,
): void {
  checkCodeBits(bits);
  checkSpan("values", values.length, offset, length);
  if (excluded !== null) checkSpan("excluded", excluded.length, 0, length);
  checkSpan("outCodes", outCodes.length, 0, length);
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let count = 0;
  for (let i = 0; i < length; i++) {
    if (excluded !== null && excluded[i] !== 0) continue;
    const x = values[offset + i]!;
    if (!Number.isFinite(x)) throw new NumericError(`quantization group at values[${offset + i}]`);
    if (x < min) min = x;
    if (x > max) max = x;
    sum += x;
    count++;
  }
  if (count === 0 || min === max) {
    setGrid(outGrid, 0, count === 0 ? 0 : checkedF16(f32ToF16(min), min));
    outCodes.fill(0, 0, length);
    return;
  }
  const bins = 2 ** bits;
  if (method === "minmax") {
    const zeroBits = f16RoundDown(min);
    setGrid(outGrid, f16RoundUp((max - f16ToF32(zeroBits)) / bins), zeroBits);
  } else {
    const scaleBits = f16RoundUp((max - min) / bins);
    const meanCode = bins >> 1;
    setGrid(outGrid, scaleBits, f16RoundDown(sum / count - (meanCode + 0.5) * f16ToF32(scaleBits)));
  }
  const maxCode = bins - 1;
  for (let i = 0; i < length; i++) {
    const bin = Math.floor((values[offset + i]! - outGrid.zero) / outGrid.scale);
    outCodes[i] = bin < 0 ? 0 : bin > maxCode ? maxCode : bin;
  }
}

function setGrid(grid: F16Grid, scaleBits: number, zeroBits: number): void {
  grid.scaleBits = scaleBits;
  grid.zeroBits = zeroBits;
  grid.scale = f16ToF32(scaleBits);
  grid.zero = f16ToF32(zeroBits);
}

/** Infinity after rounding means the value is beyond what fp16 stores. */
function checkedF16(bits: number, x: number): number {
  if ((bits & 0x7c00) === 0x7c00) throw new NumericError(`an fp16 quantization grid (value ${x} exceeds ±65504)`);
  return bits;
}

/** The next fp16 toward −Infinity (bits of a finite value; −0 and +0 both step to the smallest negative). */
function nextF16Down(bits: number): number {
  if ((bits & 0x7fff) === 0) return 0x8001;
  return checkedF16((bits & 0x8000) !== 0 ? bits + 1 : bits - 1, -Infinity);
}

/** The next fp16 toward +Infinity. */
function nextF16Up(bits: number): number {
  if ((bits & 0x7fff) === 0) return 0x0001;
  return checkedF16((bits & 0x8000) !== 0 ? bits - 1 : bits + 1, Infinity);
}
