/**
 * Online upper quantile of the squared query norm ‖q‖² per (layer, KV head): the ‖Q‖² of QAQ's K-bound. Every query
 * row the model produces for a KV head (all query heads sharing it, every row of a prefill block) is one sample; the
 * queries are the scaled ones the cache receives (q/sqrt(D)), so ‖q‖² is the factor the logits' noise is multiplied by.
 *
 * Method: a fixed histogram with log-spaced bins, BINS_PER_OCTAVE per factor of 2 over [2^MIN_EXPONENT, 2^MAX_EXPONENT),
 * one underflow bin below (zero norms land there) and one overflow bin above. The p-quantile of N samples is defined
 * as the order statistic x_(k), k = max(1, ceil(p·N)) (inverse of the empirical CDF). The estimator finds the bin that
 * holds the k-th sample and interpolates geometrically inside it (as if its samples were log-uniform), then clamps
 * to the observed [min, max]. The estimate therefore lies in the same bin as x_(k): its relative error is below one
 * bin width, 2^(1/16) − 1 ≈ 4.4% (a 2.2% error in σ_K, far below one bit), and typically much less.
 * Memory: a unit's counters cover only the bins between its smallest and largest sample (plus BIN_HEADROOM on each
 * side, so a new extreme rarely reallocates): a head whose ‖q‖² spans a factor of 1000 needs about 200 u32 counters.
 * observe is O(D) per row, estimate O(bins held).
 */
import { ConfigError } from "../../util/errors.js";

const BINS_PER_OCTAVE = 16;
const MIN_EXPONENT = -32;
const MAX_EXPONENT = 32;
const LOG_BINS = (MAX_EXPONENT - MIN_EXPONENT) * BINS_PER_OCTAVE;
/** underflow bin 0, log bins 1..LOG_BINS, overflow bin LOG_BINS + 1 */
const BIN_COUNT = LOG_BINS + 2;
/** extra bins allocated beyond a new extreme */
const BIN_HEADROOM = 16;

export class QueryNormQuantile {
  /** per unit (layer*nKvHeads + kvHead): sample counts of bins [firstBin, firstBin + length) */
  private readonly counts: Uint32Array[] = [];
  /** [units] global index of each unit's first held bin */
  private readonly firstBin: Int32Array;
  /** [units] samples seen, smallest and largest ‖q‖² seen */
  private readonly samples: Float64Array;
  private readonly smallest: Float64Array;
  private readonly largest: Float64Array;

  constructor(
    private readonly nLayers: number,
    private readonly nKvHeads: number,
    /** p of the upper quantile (the paper: 0.9) */
    readonly quantile: number,
  ) {
    if (!Number.isInteger(nLayers) || nLayers < 1) throw new ConfigError("nLayers", "an integer ≥ 1", nLayers);
    if (!Number.isInteger(nKvHeads) || nKvHeads < 1) throw new ConfigError("nKvHeads", "an integer ≥ 1", nKvHeads);
    if (!(quantile > 0 && quantile <= 1)) throw new ConfigError("quantile", "a number in (0, 1]", quantile);
    const units = nLayers * nKvHeads;
    for (let u = 0; u < units; u++) this.counts.push(new Uint32Array(0));
    this.firstBin = new Int32Array(units);
    this.samples = new Float64Array(units);
    this.smallest = new Float64Array(units).fill(Infinity);
    this.largest = new Float64Array(units).fill(-Infinity);
  }

  /** Adds the squared norms of `rows` query rows q[rows, headDim] (row-major) as samples of (layer, kvHead). */
  observe(layer: number, kvHead: number, q: Float32Array, rows: number, headDim: number): void {
    if (rows * headDim > q.length) throw new ConfigError("q", `at least ${rows}x${headDim} values`, q.length);
    for (let r = 0; r < rows; r++) {
      let normSq = 0;
      for (let d = r * headDim, end = d + headDim; d < end; d++) normSq += q[d]! * q[d]!;
      this.observeNormSq(layer, kvHead, normSq);
    }
  }

  /** Adds one sample ‖q‖² (≥ 0, finite). */
  observeNormSq(layer: number, kvHead: number, normSq: number): void {
    if (!(normSq >= 0 && normSq < Infinity)) throw new ConfigError("query norm²", "a finite number ≥ 0", normSq);
    const unit = this.unit(layer, kvHead);
    const bin = binOf(normSq);
    this.hold(unit, bin);
    this.counts[unit]![bin - this.firstBin[unit]!]!++;
    this.samples[unit]!++;
    if (normSq < this.smallest[unit]!) this.smallest[unit] = normSq;
    if (normSq > this.largest[unit]!) this.largest[unit] = normSq;
  }

  /** Samples seen for (layer, kvHead). */
  count(layer: number, kvHead: number): number {
    return this.samples[this.unit(layer, kvHead)]!;
  }

  /** The estimated p-quantile of ‖q‖² for (layer, kvHead); NaN before any sample. */
  estimate(layer: number, kvHead: number): number {
    const unit = this.unit(layer, kvHead);
    const n = this.samples[unit]!;
    if (n === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(this.quantile * n - 1e-9 * n));
    // the extreme order statistics are known exactly
    if (rank === n) return this.largest[unit]!;
    if (rank === 1) return this.smallest[unit]!;
    const counts = this.counts[unit]!;
    let below = 0;
    let i = 0;
    while (below + counts[i]! < rank) below += counts[i++]!;
    const inBin = counts[i]!;
    // the k-th sample is the (rank − below)-th of the bin's inBin samples: take the midpoint of its share
    const fraction = (rank - below - 0.5) / inBin;
    const value = valueInBin(this.firstBin[unit]! + i, fraction);
    return Math.min(Math.max(value, this.smallest[unit]!), this.largest[unit]!);
  }

  /** The largest estimate over the KV heads of a layer (group=layer shares one key bound across heads). */
  estimateLayer(layer: number): number {
    let result = Number.NaN;
    for (let h = 0; h < this.nKvHeads; h++) {
      const value = this.estimate(layer, h);
      if (!(value <= result)) result = value;
    }
    return result;
  }

  /** Forgets every sample. */
  reset(): void {
    for (let u = 0; u < this.counts.length; u++) this.counts[u] = new Uint32Array(0);
    this.samples.fill(0);
    this.smallest.fill(Infinity);
    this.largest.fill(-Infinity);
  }

  /** Bytes of the counters and summaries (bookkeeping, reported as cache metadata). */
  get byteLength(): number {
    const held = this.counts.reduce((sum, c) => sum + c.byteLength, 0);
    return held + this.firstBin.byteLength + this.samples.byteLength + this.smallest.byteLength + this.largest.byteLength;
  }

  /** The most byteLength can reach (every unit holding every bin): the budget's feasibility bound. */
  get maxByteLength(): number {
    return this.counts.length * BIN_COUNT * 4 + this.firstBin.byteLength + this.samples.byteLength + this.smallest.byteLength + this.largest.byteLength;
  }

  /** Makes the unit's counters cover global bin `bin`, keeping the counts held. */
  private hold(unit: number, bin: number): void {
    const counts = this.counts[unit]!;
    const first = this.firstBin[unit]!;
    if (counts.length > 0 && bin >= first && bin < first + counts.length) return;
    const lo = counts.length === 0 ? bin : Math.min(first, bin);
    const hi = counts.length === 0 ? bin + 1 : Math.max(first + counts.length, bin + 1);
    const newFirst = Math.max(0, lo - BIN_HEADROOM);
    const grown = new Uint32Array(Math.min(BIN_COUNT, hi + BIN_HEADROOM) - newFirst);
    if (counts.length > 0) grown.set(counts, first - newFirst);
    this.counts[unit] = grown;
    this.firstBin[unit] = newFirst;
  }

  private unit(layer: number, kvHead: number): number {
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.nLayers) {
      throw new ConfigError("layer", `0..${this.nLayers - 1}`, layer);
    }
    if (!Number.isInteger(kvHead) || kvHead < 0 || kvHead >= this.nKvHeads) {
      throw new ConfigError("kvHead", `0..${this.nKvHeads - 1}`, kvHead);
    }
    return layer * this.nKvHeads + kvHead;
  }
}

function binOf(normSq: number): number {
  if (normSq < 2 ** MIN_EXPONENT) return 0;
  if (normSq >= 2 ** MAX_EXPONENT) return BIN_COUNT - 1;
  const bin = 1 + Math.floor((Math.log2(normSq) - MIN_EXPONENT) * BINS_PER_OCTAVE);
  // log2 rounding at a bin edge must not step outside the log bins
  return bin < 1 ? 1 : bin > LOG_BINS ? LOG_BINS : bin;
}

/** The value at `fraction` (0..1) through a bin, geometric inside the log bins; the open end bins report an edge. */
function valueInBin(bin: number, fraction: number): number {
  if (bin === 0) return 2 ** MIN_EXPONENT; // clamped to the observed maximum by the caller
  if (bin === BIN_COUNT - 1) return Infinity; // clamped to the observed maximum
  return 2 ** (MIN_EXPONENT + (bin - 1 + fraction) / BINS_PER_OCTAVE);
}
