/**
 * The cache seam: the only way attention reaches cached keys and values. The forward pass hands the cache each
 * token's full-precision K and V once (append), and then asks the cache itself to compute the attention logits
 * q·k_t (scores) and the weighted sum Σ_t p_t·v_t (mix), so a packed cache never has to expand to floats. It shows
 * the cache the attention probabilities (observe: QAQ's attention window; a no-op for static caches) and tells it when
 * a forward pass is complete (endForward: where streaming QAQ re-quantizes and eviction caches evict).
 *
 * Shapes (per call; D = headDim, nRep = query heads per KV head):
 *   a query block covers nTok consecutive positions firstPos..firstPos+nTok-1;
 *   queries and outputs are [nTok*nRep, D] rows ordered token-major (row = tok*nRep + rep);
 *   scores/probabilities are [nTok*nRep, T] with T = storedTokens(layer) after the block was appended.
 * Causality is the cache's business: scores writes -Infinity where a row may not look (a stored token at a later
 * position than the row's), which softmax turns into exactly 0.
 * All Float32Array arguments live in the engine's wasm heap (kernels read them by pointer).
 */
export interface QueryBlock {
  readonly firstPos: number;
  readonly nTok: number;
  /** query heads sharing one KV head */
  readonly nRep: number;
}

/** Bytes held by a cache, per tier, each summed from the byteLength of allocated buffers. */
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
}

export interface KVCache {
  /** The cache spec this cache was created from, in its compact text form (e.g. "uniform:k=4,v=2"). */
  readonly spec: string;
  /** Tokens stored for `layer` (equal for all layers except in the middle of a forward pass). */
  storedTokens(layer: number): number;
  /** Positions seen so far (next position to be appended); eviction caches store fewer tokens than this. */
  readonly nextPos: number;

  /** k, v: [nTok, nKvHeads*D] f32, the block's keys (after RoPE) and values. */
  append(layer: number, firstPos: number, nTok: number, k: Float32Array, v: Float32Array): void;
  /** out: [nTok*nRep, T] logits (queries already carry the 1/sqrt(D) scale). */
  scores(layer: number, kvHead: number, q: Float32Array, block: QueryBlock, out: Float32Array): void;
  /** probs: [nTok*nRep, T] attention probabilities of the block's rows. */
  observe(layer: number, kvHead: number, probs: Float32Array, block: QueryBlock): void;
  /** out: [nTok*nRep, D] = probs · V. */
  mix(layer: number, kvHead: number, probs: Float32Array, block: QueryBlock, out: Float32Array): void;
  /** Called once after every forward pass (all layers) with the positions it covered. */
  endForward(firstPos: number, nTok: number): void;

  /** Drops every token at position >= nextPos (rolls back choices scored on top of a shared prompt). */
  truncate(nextPos: number): void;
  /** Empties the cache (keeps its allocations where it can). */
  reset(): void;
  nbytes(): CacheBytes;
  /** Code widths as the QAQ paper counts them, for its bits-only compression figure (added for cacheReport). */
  paperBits(): CacheBits;
  /** Frees every allocation (the cache is unusable afterwards). */
  dispose(): void;
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

/** What a cache needs to know about the model: shapes only, never weights. */
export interface CacheShape {
  readonly nLayers: number;
  readonly nKvHeads: number;
  readonly headDim: number;
  /** capacity in positions (the model's context length, or less) */
  readonly maxTokens: number;
}

/** Sums tiers into a CacheBytes. */
export function cacheBytes(codes: number, metadata: number, outliers: number, residual: number, backing: number): CacheBytes {
  return { codes, metadata, outliers, residual, backing, hot: codes + metadata + outliers + residual };
}
