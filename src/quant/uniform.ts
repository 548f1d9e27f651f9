/**
 * Per-group asymmetric uniform quantization to B = 0..8 bits, in two flavours that share one stored form.
 *
 * THE reconstruction formula, for every method and every kernel that reads these codes:
 *
 *     x^ = zero + (q + 0.5) · scale          q in 0..2^B − 1, scale and zero float32
 *
 * evaluated in float32 as f32(zero + f32(f32(q + 0.5) · scale)) (`reconstructCode`). A group stores only its codes
 * plus (scale, zero); the quantizer picks the grid, the kernels never need to know which one.
 * Codes are q = clamp(floor((x − zero) / scale), 0, 2^B − 1): the bin that contains x, so x^ is the nearest grid
 * point for every x inside the grid [zero, zero + 2^B·scale], and values outside are clipped to the end bins.
 *
 * - "minmax" (the paper's): zero = min, scale = (max − min) / 2^B. The included values span 2^B equal bins and are
 *   reconstructed at the bin midpoints, so |x − x^| ≤ scale/2 and the error is uniform with σ = scale / sqrt(12).
 *   B = 0 gives one bin: every value becomes the midpoint (min + max) / 2.
 * - "meanClip" (the QAQ authors' code, quantizer.py `_uniform_quantize`, asymmetric): the same step
 *   (max − min) / 2^B, but the grid points are mean + k·step for k = −2^(B−1) .. 2^(B−1) − 1 (the mean of the
 *   included values is a grid point; one more point below it than above, as in their code) and x rounds to the
 *   nearest point, clipping at both ends. In stored form: scale = step, zero = mean − (2^(B−1) + 0.5)·step.
 *   B = 0 leaves the single grid point at the mean. The grid covers 2^B·step like min-max, but shifted by
 *   (mean − midpoint), so values beyond its ends are clipped (error larger than step/2); inside it the error is at
 *   most step/2.
 *   Exact ties (x − mean an odd multiple of step/2) round up here (up to float rounding); torch.round in their
 *   code rounds them to even.
 *
 * Values marked in `excluded` (outliers kept exactly elsewhere) are left out of min, max and mean, but still get a
 * code (clipped to an end bin) so that every group decodes densely and the outlier patch simply overwrites them.
 * A group whose included values are all equal (or that has none) gets scale = 0 and every code 0: x^ = zero exactly.
 */
import { ConfigError, NumericError } from "../util/errors.js";
import { checkCodeBits, checkSpan } from "./checkArgs.js";

export type UniformMethod = "minmax" | "meanClip";

/** A group's grid as stored: reconstruction zero + (q + 0.5)·scale. Caller-owned, overwritten by each quantizer. */
export interface GroupGrid {
  scale: number;
  zero: number;
}

export function createGroupGrid(): GroupGrid {
  return { scale: 0, zero: 0 };
}

/** THE reconstruction formula, step by step in float32 so that a non-FMA float32 kernel matches it bit for bit. */
export function reconstructCode(code: number, scale: number, zero: number): number {
  return Math.fround(zero + Math.fround((code + 0.5) * scale));
}

/**
 * Min-max midpoint quantization of values[offset .. offset+length) to `bits` bits.
 * excluded: null, or a mask with excluded[i] ≠ 0 when values[offset + i] is an outlier (length ≥ `length`).
 * outCodes[0..length): one code per value, each < 2^bits. outGrid: receives (scale, zero).
 */
export function quantizeMinMax(
  values: Float32Array,
  offset: number,
  length: number,
  bits: number,
  excluded: Uint8Array | null,
  outCodes: Uint8Array,
  outGrid: GroupGrid,
): void {
  checkGroupArgs(values, offset, length, bits, excluded, outCodes);
  measureIncluded(values, offset, length, excluded, outGrid);
  outGrid.scale = roundScale(outGrid.scale / 2 ** bits);
  encodeCodes(values, offset, length, bits, outGrid, outCodes);
}

/** The QAQ authors' mean-centred clipped grid (see the file comment); same arguments as quantizeMinMax. */
export function quantizeMeanClip(
  values: Float32Array,
  offset: number,
  length: number,
  bits: number,
  excluded: Uint8Array | null,
  outCodes: Uint8Array,
  outGrid: GroupGrid,
): void {
  checkGroupArgs(values, offset, length, bits, excluded, outCodes);
  const mean = measureIncluded(values, offset, length, excluded, outGrid);
  const scale = roundScale(outGrid.scale / 2 ** bits);
  // Index of the grid point that sits on the mean: 2^(B−1), or 0 for the single point of B = 0.
  const meanCode = (1 << bits) >> 1;
  outGrid.scale = scale;
  outGrid.zero = Math.fround(mean - (meanCode + 0.5) * scale);
  encodeCodes(values, offset, length, bits, outGrid, outCodes);
}

/** codes[0..count) -> out[outOffset ..) by THE reconstruction formula. */
export function dequantizeGroup(
  codes: Uint8Array,
  count: number,
  bits: number,
  scale: number,
  zero: number,
  out: Float32Array,
  outOffset = 0,
): void {
  checkCodeBits(bits);
  checkSpan("codes", codes.length, 0, count);
  checkSpan("out", out.length, outOffset, count);
  const maxCode = (1 << bits) - 1;
  for (let i = 0; i < count; i++) {
    const code = codes[i]!;
    if (code > maxCode) throw new ConfigError(`codes[${i}]`, `0..${maxCode} for ${bits}-bit codes`, code);
    out[outOffset + i] = reconstructCode(code, scale, zero);
  }
}

function checkGroupArgs(
  values: Float32Array,
  offset: number,
  length: number,
  bits: number,
  excluded: Uint8Array | null,
  outCodes: Uint8Array,
): void {
  checkCodeBits(bits);
  checkSpan("values", values.length, offset, length);
  if (excluded !== null) checkSpan("excluded", excluded.length, 0, length);
  checkSpan("outCodes", outCodes.length, 0, length);
}

/**
 * Scans the included values once: writes the one-bin grid that spans them (zero = min, scale = max − min, both
 * exact doubles, rounded later) into `grid` and returns their mean. No included values: zero = scale = mean = 0.
 */
function measureIncluded(
  values: Float32Array,
  offset: number,
  length: number,
  excluded: Uint8Array | null,
  grid: GroupGrid,
): number {
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
  if (count === 0) {
    grid.zero = 0;
    grid.scale = 0;
    return 0;
  }
  grid.zero = Math.fround(min); // min is a float32 value already: exact
  grid.scale = max - min;
  return sum / count;
}

/** Rounds a step to float32; a range beyond float32 (|values| near 3.4e38) cannot be stored. */
function roundScale(step: number): number {
  const scale = Math.fround(step);
  if (!Number.isFinite(scale)) throw new NumericError("the range of a quantization group (exceeds float32)");
  return scale;
}

/** q = clamp(floor((x − zero) / scale), 0, 2^B − 1) for every value, included or not. */
function encodeCodes(
  values: Float32Array,
  offset: number,
  length: number,
  bits: number,
  grid: GroupGrid,
  outCodes: Uint8Array,
): void {
  const maxCode = (1 << bits) - 1;
  const { scale, zero } = grid;
  if (scale === 0) {
    outCodes.fill(0, 0, length); // constant group: any code reconstructs `zero` exactly
    return;
  }
  for (let i = 0; i < length; i++) {
    const bin = Math.floor((values[offset + i]! - zero) / scale);
    outCodes[i] = bin < 0 ? 0 : bin > maxCode ? maxCode : bin;
  }
}
