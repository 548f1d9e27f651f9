/**
 * Outliers of a quantization group (QAQ section 3): with ratio α > 0, the ceil(α·n/2) lowest and as many highest
 * values of the group (at least one each) are kept exactly in a sparse side store and left out of the group's range.
 *
 * Side store of one group (caller-owned arrays, the group's entries at [start, start + count)):
 *   positions[start + j]  index of the outlier within the group (0..n−1), ascending in j; Uint8Array for groups of
 *                         up to 256 values, Uint16Array up to 65536, Uint32Array beyond
 *   valueBits[start + j]  its value as binary16 bits (magnitudes above 65504 saturate to ±65504)
 *
 * Tie rule: values are ranked by (value, position), so among equal values the earlier position ranks lower. The
 * outliers are the first `perSide` and the last `perSide` of that ranking; as 2·perSide ≤ n the two never overlap,
 * and the choice is deterministic.
 */
import { ConfigError, NumericError } from "../util/errors.js";
import { checkIndex, checkOutlierRatio, checkSpan } from "./checkArgs.js";
import { f16ToF32, f32ToF16Saturating } from "./fp16.js";

/** Position of an outlier inside its group; the element type bounds the group size. */
export type PositionArray = Uint8Array | Uint16Array | Uint32Array;

// Guards ceil() against α·n/2 landing a rounding error above an integer (e.g. 3.0000000000000004).
const CEIL_SLACK = 1e-9;

/**
 * Outliers kept at each end of a group of n values: 0 when ratio = 0, else max(1, ceil(ratio·n/2)), capped at
 * floor(n/2) so that the two ends stay disjoint (a group of one value has no outliers).
 */
export function outlierCountPerSide(n: number, ratio: number): number {
  checkIndex("group length", n);
  checkOutlierRatio(ratio);
  if (ratio === 0) return 0;
  const wanted = Math.max(1, Math.ceil((ratio * n) / 2 - CEIL_SLACK));
  return Math.min(wanted, Math.floor(n / 2));
}

/**
 * Selects the `perSide` lowest and `perSide` highest of values[offset .. offset+n) by the tie rule above and writes
 * them to outPositions / outValueBits at [outStart, outStart + 2·perSide), positions ascending. O(n·perSide).
 * Returns the number written (2·perSide). Throws NumericError on a non-finite value.
 */
export function selectOutliers(
  values: Float32Array,
  offset: number,
  n: number,
  perSide: number,
  outPositions: PositionArray,
  outValueBits: Uint16Array,
  outStart = 0,
): number {
  checkSpan("values", values.length, offset, n);
  checkIndex("perSide", perSide);
  if (2 * perSide > n) throw new ConfigError("perSide", `at most floor(n/2) = ${Math.floor(n / 2)}`, perSide);
  checkPositionType(outPositions, n);
  const count = 2 * perSide;
  checkSpan("outPositions", outPositions.length, outStart, count);
  checkSpan("outValueBits", outValueBits.length, outStart, count);
  if (count === 0) return 0;

  // Two ranked candidate lists share the output: lowest at [outStart, +perSide), highest right after it.
  const lowStart = outStart;
  const highStart = outStart + perSide;
  let lowSize = 0;
  let highSize = 0;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(values[offset + i]!)) throw new NumericError(`quantization group at values[${offset + i}]`);
    lowSize = keepMostExtreme(values, offset, outPositions, lowStart, lowSize, perSide, i, true);
    highSize = keepMostExtreme(values, offset, outPositions, highStart, highSize, perSide, i, false);
  }
  sortAscending(outPositions, outStart, count);
  for (let j = outStart; j < outStart + count; j++) {
    outValueBits[j] = f32ToF16Saturating(values[offset + outPositions[j]!]!);
  }
  return count;
}

/** mask[0..n) = 1 at the outlier positions, 0 elsewhere: the `excluded` argument of the uniform quantizers. */
export function markOutliers(
  positions: PositionArray,
  start: number,
  count: number,
  n: number,
  mask: Uint8Array,
): void {
  checkSpan("positions", positions.length, start, count);
  checkSpan("mask", mask.length, 0, n);
  mask.fill(0, 0, n);
  for (let j = start; j < start + count; j++) mask[checkedPosition(positions, j, n)] = 1;
}

/** Overwrites out[outOffset + position] with each stored outlier value of a group of n values. */
export function patchOutliers(
  positions: PositionArray,
  valueBits: Uint16Array,
  start: number,
  count: number,
  out: Float32Array,
  outOffset: number,
  n: number,
): void {
  checkSpan("positions", positions.length, start, count);
  checkSpan("valueBits", valueBits.length, start, count);
  checkSpan("out", out.length, outOffset, n);
  for (let j = start; j < start + count; j++) {
    out[outOffset + checkedPosition(positions, j, n)] = f16ToF32(valueBits[j]!);
  }
}

/** a ranks before b in the (value, position) order. */
function ranksBefore(values: Float32Array, offset: number, a: number, b: number): boolean {
  const va = values[offset + a]!;
  const vb = values[offset + b]!;
  return va < vb || (va === vb && a < b);
}

/** a is further out than b: ranks before it on the low side, after it on the high side. */
function isMoreExtreme(values: Float32Array, offset: number, a: number, b: number, lowest: boolean): boolean {
  return lowest ? ranksBefore(values, offset, a, b) : ranksBefore(values, offset, b, a);
}

/**
 * list[start .. start+size) holds candidate positions, most extreme first (lowest rank if `lowest`, else highest).
 * Inserts `candidate` in order if there is room or it beats the least extreme one (which then drops out).
 */
function keepMostExtreme(
  values: Float32Array,
  offset: number,
  list: PositionArray,
  start: number,
  size: number,
  capacity: number,
  candidate: number,
  lowest: boolean,
): number {
  let slot = size < capacity ? size : capacity - 1;
  if (size === capacity && !isMoreExtreme(values, offset, candidate, list[start + slot]!, lowest)) return size;
  while (slot > 0 && isMoreExtreme(values, offset, candidate, list[start + slot - 1]!, lowest)) {
    list[start + slot] = list[start + slot - 1]!;
    slot--;
  }
  list[start + slot] = candidate;
  return size < capacity ? size + 1 : size;
}

/** Insertion sort of a short run (2·perSide entries). */
function sortAscending(list: PositionArray, start: number, count: number): void {
  for (let i = start + 1; i < start + count; i++) {
    const item = list[i]!;
    let j = i;
    while (j > start && list[j - 1]! > item) {
      list[j] = list[j - 1]!;
      j--;
    }
    list[j] = item;
  }
}

function checkPositionType(positions: PositionArray, n: number): void {
  const maxPosition = 2 ** (8 * positions.BYTES_PER_ELEMENT) - 1;
  if (n - 1 > maxPosition) {
    const allowed = `an element type that holds positions up to ${n - 1}`;
    throw new ConfigError("outPositions", allowed, positions.constructor.name);
  }
}

function checkedPosition(positions: PositionArray, j: number, n: number): number {
  const position = positions[j]!;
  if (position >= n) throw new ConfigError(`positions[${j}]`, `0..${n - 1} (inside the group)`, position);
  return position;
}
