import type { KVCache } from "./KVCache.js";

/**
 * The report view of a cache, beside the attention seam (KVCache) rather than in it (as Hugging Face's cache_utils
 * and mlx-lm keep memory accounting out of the attention path): the forward pass never sees these, the tools that
 * print memory figures (cacheReport, the eval meter, qaq kvmap) see nothing else. Every cache class implements both;
 * `ReportingCache` is what createCache hands out.
 */
export interface CacheReportView {
  /** The cache spec, in its compact text form (e.g. "uniform:k=4,v=2"). */
  readonly spec: string;
  /** Positions seen so far: the tokens the figures are per. */
  readonly nextPos: number;
  /** Bytes per tier, each summed from the byteLength of allocated buffers. */
  nbytes(): CacheBytes;
  /** Code widths as the QAQ paper counts them, for its bits-only compression figure. */
  paperBits(): CacheBits;
  /**
   * Per-token code widths of every layer, group and part, for caches whose widths vary from token to token (QAQ);
   * absent on caches with one width per part.
   */
  widthMap?(): WidthMap;
}

/** A cache as createCache returns it: the attention seam and its report view. */
export type ReportingCache = KVCache & CacheReportView;

/**
 * Bytes held by a cache, per tier, each summed from the byteLength of allocated buffers.
 * hot = codes + metadata + outliers + residual: what the stored tokens occupy in the cache that attention reads.
 * Capacity allocated beyond the stored tokens (dense rows grown by doubling, ledgers with room to grow) is `slack`,
 * reported apart and counted in no ratio; allocated = hot + slack (+ backing, which lives outside the hot cache).
 */
export interface CacheBytes {
  /** packed codes (or raw fp32/fp16 values for unquantized caches) */
  readonly codes: number;
  /** scales, zeros, bit widths, offsets: everything needed to read the codes */
  readonly metadata: number;
  /** sparse outlier values and positions */
  readonly outliers: number;
  /** full-precision tokens held in the hot cache (KIVI residual, sinks, not-yet-quantized window) */
  readonly residual: number;
  /** full-precision backing tier (QAQ re-quantization source), reported apart from the hot cache */
  readonly backing: number;
  /** codes + metadata + outliers + residual: the hot cache that attention reads */
  readonly hot: number;
  /** allocated capacity beyond what the stored tokens occupy (growth room), apart from hot */
  readonly slack: number;
  /** where the backing tier's bytes are: process memory or a file on disk */
  readonly backingLocation: BackingLocation;
}

export type BackingLocation = "memory" | "disk";

/**
 * Sums tiers into a CacheBytes (slack: allocated capacity beyond the stored tokens, 0 where none is held; the
 * backing tier in memory unless said otherwise).
 */
export function cacheBytes(
  codes: number,
  metadata: number,
  outliers: number,
  residual: number,
  backing: number,
  slack = 0,
  backingLocation: BackingLocation = "memory",
): CacheBytes {
  return { codes, metadata, outliers, residual, backing, hot: codes + metadata + outliers + residual, slack, backingLocation };
}

/**
 * Bits per value of one part (the keys or the values of every layer) as the QAQ paper counts them
 * (QAQ-METHOD.md section 5): code widths only, no scales, zeros, widths or outlier positions.
 */
export interface PartBits {
  /**
   * Mean over every position seen (all layers and KV heads) of the token's code width B_t: tokens held in full
   * precision count 16 (fp16) or 32 (fp32), evicted tokens 0.
   */
  readonly meanBits: number;
  /** α: the fraction of the part's values kept exactly as outliers (the paper counts them at 16 bits) */
  readonly outlierFraction: number;
}

export interface CacheBits {
  readonly keys: PartBits;
  readonly values: PartBits;
}

/** Per layer: [group][token] code widths of keys and values (16 = fp16). */
export type WidthMap = readonly { readonly keys: number[][]; readonly values: number[][] }[];
