import type { CacheBits, PartBits } from "./CacheReportView.js";

/**
 * The QAQ paper's bits-only compression figure (QAQ-METHOD.md section 5):
 *     ratio = 16 / mean over K and V of [ (1 − α)·mean_t(B_t) + 16·α ]
 * fp16 baseline, outliers at 16 bits, and nothing else counted (no scales, zeros, bit widths or outlier positions).
 * The honest figure (measured bytes) is cacheReport's ratioVsFp16; this one is reported beside it for comparison.
 */

/** Bits per value of a part under the paper's counting: (1 − α)·meanBits + 16·α. */
export function paperPartBits(part: PartBits): number {
  return (1 - part.outlierFraction) * part.meanBits + 16 * part.outlierFraction;
}

/** Mean over keys and values of paperPartBits. */
export function paperBitsPerValue(bits: CacheBits): number {
  return (paperPartBits(bits.keys) + paperPartBits(bits.values)) / 2;
}

/** 16 / paperBitsPerValue (0 for an empty cache). */
export function paperCompressionRatio(bits: CacheBits): number {
  const perValue = paperBitsPerValue(bits);
  return perValue > 0 ? 16 / perValue : 0;
}

/**
 * Accumulates one part's widths over layers and heads: add(n, B) for n values stored at B bits (full precision at
 * 16 or 32, evicted ones not at all), outliers(n) for n values kept as outliers; partBits(seen) divides by the
 * number of values of every position seen.
 */
export class BitsTally {
  private bitSum = 0;
  private outlierCount = 0;

  add(values: number, bits: number): void {
    this.bitSum += values * bits;
  }

  outliers(values: number): void {
    this.outlierCount += values;
  }

  partBits(seenValues: number): PartBits {
    if (seenValues === 0) return { meanBits: 0, outlierFraction: 0 };
    return { meanBits: this.bitSum / seenValues, outlierFraction: this.outlierCount / seenValues };
  }
}
