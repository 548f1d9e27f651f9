/**
 * The range_t of QAQ's σ -> bits step: max − min of a group's values with its outliers left out (QAQ-METHOD.md
 * section 3). The outliers are chosen exactly as the packed store chooses them when it quantizes the group
 * (quant/pooledOutliers.ts: round(α·G) values from both ends, the split that leaves the smallest range), so the range
 * the policy sees is the range the quantizer's grid will span.
 */
import { markOutliers } from "../../quant/outliers.js";
import { PooledOutlierPicker, pooledOutlierCount } from "../../quant/pooledOutliers.js";

export class GroupRangeMeter {
  private readonly picker: PooledOutlierPicker;
  /** [count] scratch: outlier positions and their fp16 bits (discarded) */
  private readonly positions: Uint16Array;
  private readonly valueBits: Uint16Array;
  /** [groupLength] 1 at outlier positions */
  private readonly excluded: Uint8Array;

  constructor(
    readonly groupLength: number,
    outlierRatio: number,
  ) {
    const count = pooledOutlierCount(groupLength, outlierRatio);
    this.picker = new PooledOutlierPicker(count);
    this.positions = new Uint16Array(count);
    this.valueBits = new Uint16Array(count);
    this.excluded = new Uint8Array(groupLength);
  }

  /** max − min of values[offset .. offset + groupLength) without the group's outliers (0 if nothing is left). */
  range(values: Float32Array, offset: number): number {
    const n = this.groupLength;
    let excluded: Uint8Array | null = null;
    if (this.picker.count > 0) {
      this.picker.select(values, offset, n, this.positions, this.valueBits);
      markOutliers(this.positions, 0, this.picker.count, n, this.excluded);
      excluded = this.excluded;
    }
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < n; i++) {
      if (excluded !== null && excluded[i] !== 0) continue;
      const x = values[offset + i]!;
      if (x < min) min = x;
      if (x > max) max = x;
    }
    return max > min ? max - min : 0;
  }
}
