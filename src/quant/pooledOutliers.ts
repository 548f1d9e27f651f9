/**
 * Pooled outliers of a quantization group (QAQ section 3 keeps a fraction α of the values exactly): count =
 * round(α·n) values per group, chosen among both ends together so that the values left on the grid span the
 * smallest range, i.e. the i lowest and the count − i highest for the i that minimizes
 *     max(rest) − min(rest) = v(high rank count − i) − v(low rank i).
 * No end is forced to keep one: at head size 64 and α = 1% a group keeps round(0.64) = 1 outlier, not 2.
 * Ranking and ties as in outliers.ts ((value, position), earlier position lower); ties between splits go to the
 * smaller i. Positions come out ascending; values as binary16 bits (saturating).
 */
import { ConfigError, NumericError } from "../util/errors.js";
import { checkIndex, checkOutlierRatio, checkSpan } from "./checkArgs.js";
import { f32ToF16Saturating } from "./fp16.js";
import type { PositionArray } from "./outliers.js";

/** round(α·n) outliers per group of n values, at most n − 1 (one value stays on the grid); 0 when α = 0. */
export function pooledOutlierCount(n: number, ratio: number): number {
  checkIndex("group length", n);
  checkOutlierRatio(ratio);
  if (ratio === 0 || n === 0) return 0;
  return Math.min(Math.round(ratio * n), n - 1);
}

/** Reusable lists of the count + 1 lowest and highest ranks of a group. */
export class PooledOutlierPicker {
  private readonly low: Int32Array;
  private readonly high: Int32Array;

  constructor(readonly count: number) {
    this.low = new Int32Array(count + 1);
    this.high = new Int32Array(count + 1);
  }

  /**
   * Picks the group's `count` outliers of values[offset .. offset + n) and writes their positions (ascending) and
   * fp16 bits at [0, count). Returns count. Throws NumericError on a non-finite value.
   */
  select(values: Float32Array, offset: number, n: number, positions: PositionArray, valueBits: Uint16Array): number {
    const count = this.count;
    checkSpan("values", values.length, offset, n);
    if (count >= n && count > 0) throw new ConfigError("outlier count", `below the group length ${n}`, count);
    for (let e = 0; e < n; e++) if (!Number.isFinite(values[offset + e]!)) throw new NumericError(`quantization group at values[${offset + e}]`);
    if (count === 0) return 0;
    const keep = count + 1;
    let lowSize = 0;
    let highSize = 0;
    for (let e = 0; e < n; e++) {
      lowSize = insertExtreme(values, offset, this.low, lowSize, keep, e, true);
      highSize = insertExtreme(values, offset, this.high, highSize, keep, e, false);
    }
    let best = 0;
    let bestRange = Infinity;
    for (let i = 0; i <= count; i++) {
      const range = values[offset + this.high[count - i]!]! - values[offset + this.low[i]!]!;
      if (range < bestRange) {
        bestRange = range;
        best = i;
      }
    }
    let k = 0;
    for (let j = 0; j < best; j++) positions[k++] = this.low[j]!;
    for (let j = 0; j < count - best; j++) positions[k++] = this.high[j]!;
    positions.subarray(0, count).sort();
    for (let j = 0; j < count; j++) valueBits[j] = f32ToF16Saturating(values[offset + positions[j]!]!);
    return count;
  }
}

/** a ranks before b in the (value, position) order. */
function ranksBefore(values: Float32Array, offset: number, a: number, b: number): boolean {
  const va = values[offset + a]!;
  const vb = values[offset + b]!;
  return va < vb || (va === vb && a < b);
}

/** Keeps list[0 .. size) the `capacity` most extreme positions so far (lowest ranks if `lowest`), most extreme first. */
function insertExtreme(values: Float32Array, offset: number, list: Int32Array, size: number, capacity: number, candidate: number, lowest: boolean): number {
  // beats(a, b): a is more extreme than b (no closure: this runs for every value of every quantized group)
  let slot = size < capacity ? size : capacity - 1;
  if (size === capacity && !(lowest ? ranksBefore(values, offset, candidate, list[slot]!) : ranksBefore(values, offset, list[slot]!, candidate))) return size;
  while (slot > 0 && (lowest ? ranksBefore(values, offset, candidate, list[slot - 1]!) : ranksBefore(values, offset, list[slot - 1]!, candidate))) {
    list[slot] = list[slot - 1]!;
    slot--;
  }
  list[slot] = candidate;
  return size < capacity ? size + 1 : size;
}
