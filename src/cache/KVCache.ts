/**
 * The cache seam: the only way attention reaches cached keys and values. The forward pass hands the cache each
 * token's full-precision K and V once (append), and then asks the cache itself to compute the attention logits
 * q·k_t (scores) and the weighted sum Σ_t p_t·v_t (mix), so a packed cache never has to expand to floats. It shows
 * the cache the attention probabilities (observe: QAQ's attention window; a no-op for static caches) and tells it when
 * a forward pass is complete (endForward: where streaming QAQ re-quantizes and eviction caches evict), and states
 * whether it can go back to an earlier position exactly (rollback). Memory figures are not part of this seam: they
 * are the report view beside it (CacheReportView.ts).
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

/**
 * What truncate gives back, stated by every cache (no default, so a new policy has to say which it is):
 *   exact  truncate(n) leaves the cache exactly as it was after its first n positions, so several continuations
 *          can be scored on one prefill (the eval protocol's choice scoring);
 *   none   dropped state cannot be restored (evicted tokens are gone; streaming QAQ planned widths with the
 *          attention of the tokens rolled back): callers reset and prefill again.
 */
export type Rollback = ExactRollback | NoRollback;

export interface ExactRollback {
  readonly kind: "exact";
  /** Drops every token at position >= nextPos. */
  truncate(nextPos: number): void;
}

export interface NoRollback {
  readonly kind: "none";
  /** why this cache cannot roll back, for messages */
  readonly reason: string;
}

/** An exact rollback backed by the cache's own truncate. */
export function exactRollback(cache: { truncate(nextPos: number): void }): ExactRollback {
  return { kind: "exact", truncate: (nextPos) => cache.truncate(nextPos) };
}

export function noRollback(reason: string): NoRollback {
  return { kind: "none", reason };
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

  /** Whether and how the cache can go back to an earlier position (see Rollback). */
  readonly rollback: Rollback;
  /** Empties the cache (keeps its allocations where it can). */
  reset(): void;
  /** Frees every allocation (the cache is unusable afterwards). */
  dispose(): void;
}

/** What a cache needs to know about the model: shapes only, never weights. */
export interface CacheShape {
  readonly nLayers: number;
  readonly nKvHeads: number;
  readonly headDim: number;
  /** capacity in positions (the model's context length, or less) */
  readonly maxTokens: number;
  /** query heads per KV head (GQA when > 1); unknown = 1. QAQ's group=auto reads it. */
  readonly queryHeadsPerKvHead?: number;
}
