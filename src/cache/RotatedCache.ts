import type { Compute } from "../kernels/Compute.js";
import { GrowableRegion } from "./GrowableRegion.js";
import { PARALLEL_MIN_WORK } from "./attentionSupport.js";
import type { CacheShape, KVCache, QueryBlock, Rollback } from "./KVCache.js";
import { checkRotation } from "./rotation.js";
import type { CacheBits, CacheBytes, CacheReportView, ReportingCache, WidthMap } from "./CacheReportView.js";

/**
 * `rotate=hadamard` for any cache (uniform, KIVI, QAQ; the QuaRot / TurboQuant idea): every key and value is
 * multiplied per KV head by the orthonormal randomized Walsh-Hadamard transform R = H·diag(s)/sqrt(D) before the
 * inner cache sees it, which spreads a few large channels over all D dimensions and so narrows each group's range.
 * Attention is unchanged in exact arithmetic because R is orthonormal:
 *   scores  q·k_t = (Rq)·(Rk_t)               the query block is rotated once per head, not per token;
 *   mix     Σ_t p_t·v_t = Rᵀ(Σ_t p_t·(Rv_t))   the inner cache mixes rotated values, the output is rotated back once.
 * The inner cache quantizes, stores and reports the rotated vectors; its bytes are the cache's bytes. The rotation
 * itself holds nothing: the sign flips s are a hash of (seed, layer, KV head, dimension) computed by the kernel
 * (kernels/assembly/hadamard.ts), so there is no matrix or sign table to count. The rotated copies of the appended
 * block, the query block and nothing else live in transient scratch ("KV attention scratch", as AttentionScratch).
 * QAQ's query-norm quantile reads rotated queries, which have the same norms.
 */
export const ROTATION_SEED = 0x5eed_11;

export class RotatedCache implements KVCache, CacheReportView {
  private readonly keys: GrowableRegion;
  private readonly values: GrowableRegion;
  private readonly queries: GrowableRegion;
  readonly widthMap?: () => WidthMap;

  constructor(
    private readonly compute: Compute,
    private readonly shape: CacheShape,
    readonly inner: ReportingCache,
    readonly seed: number = ROTATION_SEED,
  ) {
    checkRotation(inner.spec.split(":")[0] ?? "kv", "hadamard", shape.headDim);
    this.keys = new GrowableRegion(compute.heap, "KV attention scratch (rotated keys)");
    this.values = new GrowableRegion(compute.heap, "KV attention scratch (rotated values)");
    this.queries = new GrowableRegion(compute.heap, "KV attention scratch (rotated queries)");
    if (inner.widthMap) this.widthMap = () => inner.widthMap!();
  }

  get spec(): string {
    return this.inner.spec;
  }

  get nextPos(): number {
    return this.inner.nextPos;
  }

  get rollback(): Rollback {
    return this.inner.rollback;
  }

  storedTokens(layer: number): number {
    return this.inner.storedTokens(layer);
  }

  append(layer: number, firstPos: number, nTok: number, k: Float32Array, v: Float32Array): void {
    const { nKvHeads, headDim } = this.shape;
    const n = nTok * nKvHeads * headDim;
    const rk = this.rotatedCopy(this.keys, k, n, layer, 0, nKvHeads);
    const rv = this.rotatedCopy(this.values, v, n, layer, 0, nKvHeads);
    this.inner.append(layer, firstPos, nTok, rk, rv);
  }

  scores(layer: number, kvHead: number, q: Float32Array, block: QueryBlock, out: Float32Array): void {
    const n = block.nTok * block.nRep * this.shape.headDim;
    this.inner.scores(layer, kvHead, this.rotatedCopy(this.queries, q, n, layer, kvHead, 1), block, out);
  }

  observe(layer: number, kvHead: number, probs: Float32Array, block: QueryBlock): void {
    this.inner.observe(layer, kvHead, probs, block);
  }

  mix(layer: number, kvHead: number, probs: Float32Array, block: QueryBlock, out: Float32Array): void {
    this.inner.mix(layer, kvHead, probs, block, out);
    this.rotate(this.compute.heap.ptrOf(out), block.nTok * block.nRep, layer, kvHead, 1, true);
  }

  endForward(firstPos: number, nTok: number): void {
    this.inner.endForward(firstPos, nTok);
  }

  reset(): void {
    this.inner.reset();
  }

  dispose(): void {
    this.inner.dispose();
    this.keys.free();
    this.values.free();
    this.queries.free();
  }

  nbytes(): CacheBytes {
    return this.inner.nbytes();
  }

  paperBits(): CacheBits {
    return this.inner.paperBits();
  }

  /** Copies n floats of src into `region` and rotates them forward as rows of D (head headBase + row % headCount). */
  private rotatedCopy(region: GrowableRegion, src: Float32Array, n: number, layer: number, headBase: number, headCount: number): Float32Array {
    region.ensure(n * 4, 0);
    const heap = this.compute.heap;
    const copy = new Float32Array(heap.memory.buffer, region.ptr, n);
    copy.set(src.subarray(0, n));
    this.rotate(region.ptr, n / this.shape.headDim, layer, headBase, headCount, false);
    return copy;
  }

  private rotate(ptr: number, rows: number, layer: number, headBase: number, headCount: number, inverse: boolean): void {
    const D = this.shape.headDim;
    const args = [ptr, D, this.seed, layer, headBase, headCount, inverse ? 1 : 0];
    // ~D·log2(D) adds per row: only long prefill blocks are worth a hand-off to the pool
    if (rows * D * Math.log2(Math.max(2, D)) >= PARALLEL_MIN_WORK) this.compute.parallel("hadamard_rows", rows, args, 1);
    else this.compute.kernels.hadamard_rows(0, rows, ...(args as [number, number, number, number, number, number, number]));
  }
}
