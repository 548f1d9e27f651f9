import type { Compute } from "../kernels/Compute.js";
import { DenseCache } from "./DenseCache.js";
import { exactRollback, type CacheShape, type KVCache, type QueryBlock, type Rollback } from "./KVCache.js";
import type { CacheBits, CacheBytes, CacheReportView, ReportingCache } from "./CacheReportView.js";

/**
 * The paper's prompt-compression protocol for any cache: the prompt is prefilled in full precision (attention among
 * prompt tokens sees exact K/V), and when that first forward pass ends its K/V are appended once into the target
 * cache, which quantizes them; everything after (decode, choices scored on top) goes straight to the target.
 *
 * The fp32 staging cache exists only during the prefill and is freed at the hand-over, so the bytes reported after
 * it are the target's alone. `truncate` back into the prompt is not supported (the full-precision prompt is gone);
 * truncating to the prompt length or beyond is, which is what scoring several choices on one prompt needs.
 */
export class PromptCompressionCache implements KVCache, CacheReportView {
  private staging: DenseCache | undefined;
  private promptLength = 0;
  /** the target's: exact when the target's is (truncating into the compressed prompt is refused), else none */
  readonly rollback: Rollback;

  constructor(
    private readonly compute: Compute,
    private readonly shape: CacheShape,
    private readonly target: ReportingCache,
  ) {
    this.staging = new DenseCache(compute, shape, "f32");
    this.rollback = target.rollback.kind === "exact" ? exactRollback(this) : target.rollback;
  }

  get spec(): string {
    return `${this.target.spec} (prompt compression)`;
  }

  get nextPos(): number {
    return this.staging ? this.staging.nextPos : this.target.nextPos;
  }

  private get active(): KVCache {
    return this.staging ?? this.target;
  }

  storedTokens(layer: number): number {
    return this.active.storedTokens(layer);
  }

  append(layer: number, firstPos: number, nTok: number, k: Float32Array, v: Float32Array): void {
    this.active.append(layer, firstPos, nTok, k, v);
  }

  scores(layer: number, kvHead: number, q: Float32Array, block: QueryBlock, out: Float32Array): void {
    this.active.scores(layer, kvHead, q, block, out);
  }

  observe(layer: number, kvHead: number, probs: Float32Array, block: QueryBlock): void {
    this.active.observe(layer, kvHead, probs, block);
  }

  mix(layer: number, kvHead: number, probs: Float32Array, block: QueryBlock, out: Float32Array): void {
    this.active.mix(layer, kvHead, probs, block, out);
  }

  endForward(firstPos: number, nTok: number): void {
    const staging = this.staging;
    if (!staging) {
      this.target.endForward(firstPos, nTok);
      return;
    }
    // hand-over: the whole prompt, quantized once by the target from the full-precision copy
    const n = staging.nextPos;
    const width = this.shape.nKvHeads * this.shape.headDim;
    const heapK = this.scratch(n * width);
    const heapV = this.scratch(n * width);
    for (let layer = 0; layer < this.shape.nLayers; layer++) {
      staging.readTokens(layer, 0, n, heapK.view, heapV.view);
      this.target.append(layer, 0, n, heapK.view, heapV.view);
    }
    this.target.endForward(0, n);
    heapK.free();
    heapV.free();
    staging.dispose();
    this.staging = undefined;
    this.promptLength = n;
  }

  truncate(nextPos: number): void {
    if (this.staging) {
      this.staging.truncate(nextPos);
      return;
    }
    if (nextPos < this.promptLength) {
      throw new RangeError(`cannot truncate to ${nextPos}: the prompt (${this.promptLength} tokens) was compressed`);
    }
    const rollback = this.target.rollback;
    if (rollback.kind !== "exact") throw new RangeError(`cannot truncate ${this.target.spec}: ${rollback.reason}`);
    rollback.truncate(nextPos);
  }

  reset(): void {
    this.target.reset();
    this.staging?.dispose();
    this.staging = new DenseCache(this.compute, this.shape, "f32");
    this.promptLength = 0;
  }

  nbytes(): CacheBytes {
    return (this.staging ?? this.target).nbytes();
  }

  paperBits(): CacheBits {
    return (this.staging ?? this.target).paperBits();
  }

  dispose(): void {
    this.staging?.dispose();
    this.staging = undefined;
    this.target.dispose();
  }

  /** A heap-resident f32 buffer: caches receive K/V that the kernels can read by pointer. */
  private scratch(length: number): { view: Float32Array; free: () => void } {
    const heap = this.compute.heap;
    const region = heap.alloc(length * 4, "prompt hand-over");
    return { view: heap.f32(region, 0, length), free: () => heap.free(region) };
  }
}
