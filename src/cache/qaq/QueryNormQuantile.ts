/**
 * Online upper quantile of the squared query norm ‖q‖² per (layer, KV head): the ‖Q‖² of QAQ's K-bound. Every query
 * row the model produces for a KV head (all query heads sharing it, every row of a prefill block) is one sample; the
 * queries are the scaled ones the cache receives (q/sqrt(D)), so ‖q‖² is the factor the logits' noise is multiplied by.
 *
 * Method: a sketch of fixed size per unit, HELD_BINS u32 counters of log-spaced bins, BINS_PER_OCTAVE per factor of 2,
 * anchored at the top: the held window always ends at the bin of the largest sample seen, and samples below it (or
 * pushed out below it when a new largest sample moves the window up) are only counted (`below`). The p-quantile of
 * N samples is the order statistic x_(k), k = max(1, ceil(p·N)) (inverse of the empirical CDF). The estimator finds
 * the bin holding the k-th sample and interpolates geometrically inside it (as if its samples were log-uniform), then
 * clamps to the observed [min, max]. Error bound:
 *   - when x_(k) lies within the held window (at most HELD_BINS / BINS_PER_OCTAVE = 4 octaves, a factor of 16,
 *     below the largest sample), the estimate lies in x_(k)'s bin: relative error below one bin width, 2^(1/16) − 1 ≈ 4.4%
 *     (2.2% in σ_K, far below one bit);
 *   - otherwise the estimate is the window's lower edge, which is above x_(k): ‖Q‖² is overestimated, so σ_K is
 *     smaller and keys get more bits, never fewer (the K-bound still holds).
 * QAQ asks for the 0.9-quantile; on student64's own queries (4096 tokens of TinyStories) the largest ‖q‖² is 1.5-4.2
 * times it for every layer and KV head, well inside the window (test/cache/replay/packedBytes.test.ts), so there the
 * sketch answers exactly as a full histogram would.
 * Memory: HELD_BINS·4 + 36 bytes per unit whatever the queries (292 bytes; 2.3 KB for student64's 8 units, where
 * the previous histogram over all 64 octaves counted 33 KB at its largest), so the budget's feasibility bound is the
 * size held, not a worst case. observe is O(D) per row, estimate O(HELD_BINS).
 */
import { ConfigError } from "../../util/errors.js";

const BINS_PER_OCTAVE = 16;
/** counters held per unit: 4 octaves (a factor of 16) below the largest sample */
export const HELD_BINS = 64;
/** global bins: log2(‖q‖²) in [MIN_EXPONENT, MAX_EXPONENT); values outside land in the end bins */
const MIN_EXPONENT = -32;
const MAX_EXPONENT = 32;
const LOG_BINS = (MAX_EXPONENT - MIN_EXPONENT) * BINS_PER_OCTAVE;

export class QueryNormQuantile {
  /** [units·HELD_BINS] sample counts of bins top − HELD_BINS + 1 .. top of each unit */
  private readonly counts: Uint32Array;
  /** [units] global index of the unit's top held bin (the largest sample's) */
  private readonly topBin: Int32Array;
  /** [units] samples below the held window */
  private readonly below: Float64Array;
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
    this.counts = new Uint32Array(units * HELD_BINS);
    this.topBin = new Int32Array(units);
    this.below = new Float64Array(units);
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
    const base = unit * HELD_BINS;
    if (this.samples[unit] === 0) this.topBin[unit] = bin;
    else if (bin > this.topBin[unit]!) this.moveUp(unit, bin);
    const index = bin - (this.topBin[unit]! - HELD_BINS + 1);
    if (index >= 0) this.counts[base + index]!++;
    else this.below[unit]!++;
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
    const firstHeld = this.topBin[unit]! - HELD_BINS + 1;
    let below = this.below[unit]!;
    // x_(k) is below the window: its lower edge is an upper bound (the conservative side, see the file comment)
    if (rank <= below) return Math.min(Math.max(valueInBin(firstHeld, 0), this.smallest[unit]!), this.largest[unit]!);
    const base = unit * HELD_BINS;
    let i = 0;
    while (below + this.counts[base + i]! < rank) below += this.counts[base + i++]!;
    const inBin = this.counts[base + i]!;
    // the k-th sample is the (rank − below)-th of the bin's inBin samples: take the midpoint of its share
    const fraction = (rank - below - 0.5) / inBin;
    const value = valueInBin(firstHeld + i, fraction);
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
    this.counts.fill(0);
    this.below.fill(0);
    this.samples.fill(0);
    this.smallest.fill(Infinity);
    this.largest.fill(-Infinity);
  }

  /** Bytes of the counters and summaries (bookkeeping, reported as cache metadata); fixed at construction. */
  get byteLength(): number {
    const arrays = [this.counts, this.topBin, this.below, this.samples, this.smallest, this.largest];
    return arrays.reduce((sum, a) => sum + a.byteLength, 0);
  }

  /** The most byteLength can reach: the same, as the sketch never grows (the budget's feasibility bound). */
  get maxByteLength(): number {
    return this.byteLength;
  }

  /** Moves the unit's window up so that it ends at `bin`: counters that fall out below join `below`. */
  private moveUp(unit: number, bin: number): void {
    const base = unit * HELD_BINS;
    const shift = bin - this.topBin[unit]!;
    const counts = this.counts.subarray(base, base + HELD_BINS);
    let dropped = 0;
    for (let i = 0; i < Math.min(shift, HELD_BINS); i++) dropped += counts[i]!;
    if (shift < HELD_BINS) {
      counts.copyWithin(0, shift);
      counts.fill(0, HELD_BINS - shift);
    } else counts.fill(0);
    this.below[unit]! += dropped;
    this.topBin[unit] = bin;
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

/**
 * Global bin of a sample: bin i ≥ 1 covers [2^(MIN_EXPONENT + (i−1)/16), 2^(MIN_EXPONENT + i/16)); bin 0 holds
 * everything smaller (zero norms), bin LOG_BINS + 1 everything from 2^MAX_EXPONENT on.
 */
function binOf(normSq: number): number {
  if (normSq < 2 ** MIN_EXPONENT) return 0;
  if (normSq >= 2 ** MAX_EXPONENT) return LOG_BINS + 1;
  const bin = 1 + Math.floor((Math.log2(normSq) - MIN_EXPONENT) * BINS_PER_OCTAVE);
  // log2 rounding at a bin edge must not step outside the log bins
  return bin < 1 ? 1 : bin > LOG_BINS ? LOG_BINS : bin;
}

/**
 * The value at `fraction` (0..1) through global bin `bin`, geometric inside the log bins; a bin at or below 0 reports
 * 2^MIN_EXPONENT and the overflow bin Infinity (the caller clamps both to the observed range).
 */
function valueInBin(bin: number, fraction: number): number {
  if (bin <= 0) return 2 ** MIN_EXPONENT;
  if (bin > LOG_BINS) return Infinity;
  return 2 ** (MIN_EXPONENT + (bin - 1 + fraction) / BINS_PER_OCTAVE);
}
