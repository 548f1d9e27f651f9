import type { Compute } from "../kernels/Compute.js";
import { DenseCache } from "./DenseCache.js";
import { GrowableRegion } from "./GrowableRegion.js";
import { noRollback, type CacheShape, type KVCache, type NoRollback, type QueryBlock } from "./KVCache.js";
import { cacheBytes, type CacheBits, type CacheBytes, type CacheReportView, type ReportingCache, type WidthMap } from "./CacheReportView.js";

/**
 * `keys=channel`: per-channel smoothing of keys (KIVI's observation that keys have outlier channels, applied the
 * SmoothQuant way so that QAQ's per-token groups and widths stay as they are). Per layer, KV head and channel d a
 * scale s_d = sqrt(max_t |k_t,d|) over the first CALIBRATION_TOKENS tokens (SmoothQuant's α = 1/2: half of a large
 * channel's excess moves into the query); from then on the inner cache stores k/s, so one channel sets less of a
 * token's range, and reads the query q⊙s, folded in once per head: q·k = (q⊙s)·(k/s). Values are untouched.
 * α = 1/2 measured better than α = 1 (s_d = max |k_d|) on student64 (docs/RESULTS-ROTATION.md), and neither beat
 * keys per token there; the option stays for models with key outlier channels.
 *
 * Until the calibration tokens have been seen, the cache holds them in fp32 (a staging DenseCache, reported as
 * residual bytes); at the first endForward with at least CALIBRATION_TOKENS positions the scales are taken and the
 * staged tokens are handed to the inner cache in one append (as PromptCompressionCache does). The scales (f32,
 * nLayers·nKvHeads·D) count as metadata. Scales from dropped tokens cannot be taken back, so the cache never rolls
 * back (callers prefill again). Known limit: while staging, observe() reaches only the staging cache, so a QAQ inner
 * cache receives the calibration tokens without their attention (they start young, in fp16), and a sequence shorter
 * than CALIBRATION_TOKENS (a short multiple-choice item) is never quantized at all.
 */
export const CALIBRATION_TOKENS = 32;
/** A channel never scales by less than this share of its head's largest scale (a silent channel would blow up). */
const SCALE_FLOOR = 1e-3;

export class ChannelSmoothedCache implements KVCache, CacheReportView {
  private staging: DenseCache | undefined;
  private scales: Float32Array | null = null;
  private readonly scaleRegion: GrowableRegion;
  private readonly keys: GrowableRegion;
  private readonly queries: GrowableRegion;
  readonly rollback: NoRollback = noRollback("keys=channel took its key scales from the first tokens");
  readonly widthMap?: () => WidthMap;

  constructor(
    private readonly compute: Compute,
    private readonly shape: CacheShape,
    readonly inner: ReportingCache,
  ) {
    this.staging = new DenseCache(compute, shape, "f32");
    this.scaleRegion = new GrowableRegion(compute.heap, "KV key channel scales");
    this.keys = new GrowableRegion(compute.heap, "KV attention scratch (smoothed keys)");
    this.queries = new GrowableRegion(compute.heap, "KV attention scratch (smoothed queries)");
    if (inner.widthMap) this.widthMap = () => (this.staging ? [] : inner.widthMap!());
  }

  get spec(): string {
    return this.inner.spec;
  }

  get nextPos(): number {
    return this.staging ? this.staging.nextPos : this.inner.nextPos;
  }

  /** Per (layer, KV head) the D scales, or null before calibration. */
  get channelScales(): Float32Array | null {
    return this.scales;
  }

  storedTokens(layer: number): number {
    return (this.staging ?? this.inner).storedTokens(layer);
  }

  append(layer: number, firstPos: number, nTok: number, k: Float32Array, v: Float32Array): void {
    if (this.staging) {
      this.staging.append(layer, firstPos, nTok, k, v);
      return;
    }
    const n = nTok * this.shape.nKvHeads * this.shape.headDim;
    this.inner.append(layer, firstPos, nTok, this.scaled(this.keys, k, n, layer, 0, this.shape.nKvHeads, true), v);
  }

  scores(layer: number, kvHead: number, q: Float32Array, block: QueryBlock, out: Float32Array): void {
    if (this.staging) {
      this.staging.scores(layer, kvHead, q, block, out);
      return;
    }
    const n = block.nTok * block.nRep * this.shape.headDim;
    this.inner.scores(layer, kvHead, this.scaled(this.queries, q, n, layer, kvHead, 1, false), block, out);
  }

  observe(layer: number, kvHead: number, probs: Float32Array, block: QueryBlock): void {
    (this.staging ?? this.inner).observe(layer, kvHead, probs, block);
  }

  mix(layer: number, kvHead: number, probs: Float32Array, block: QueryBlock, out: Float32Array): void {
    (this.staging ?? this.inner).mix(layer, kvHead, probs, block, out);
  }

  endForward(firstPos: number, nTok: number): void {
    const staging = this.staging;
    if (!staging) {
      this.inner.endForward(firstPos, nTok);
      return;
    }
    if (staging.nextPos < CALIBRATION_TOKENS) return;
    this.handOver(staging);
  }

  reset(): void {
    this.inner.reset();
    this.staging?.dispose();
    this.staging = new DenseCache(this.compute, this.shape, "f16");
    this.scales = null;
    this.scaleRegion.free();
  }

  dispose(): void {
    this.staging?.dispose();
    this.staging = undefined;
    this.inner.dispose();
    this.scaleRegion.free();
    this.keys.free();
    this.queries.free();
  }

  nbytes(): CacheBytes {
    if (this.staging) return this.staging.nbytes();
    const b = this.inner.nbytes();
    return cacheBytes(b.codes, b.metadata + this.scaleRegion.byteLength, b.outliers, b.residual, b.backing, b.slack, b.backingLocation);
  }

  paperBits(): CacheBits {
    return (this.staging ?? this.inner).paperBits();
  }

  /** Takes the scales from the staged tokens, hands them to the inner cache (keys divided), frees the staging. */
  private handOver(staging: DenseCache): void {
    const { nLayers, nKvHeads, headDim: D } = this.shape;
    const n = staging.nextPos;
    const width = nKvHeads * D;
    const heap = this.compute.heap;
    const kRegion = heap.alloc(n * width * 4, "KV attention scratch (calibration keys)");
    const vRegion = heap.alloc(n * width * 4, "KV attention scratch (calibration values)");
    try {
      this.scaleRegion.ensure(nLayers * width * 4, 0);
      const scales = new Float32Array(heap.memory.buffer, this.scaleRegion.ptr, nLayers * width);
      for (let layer = 0; layer < nLayers; layer++) {
        const k = heap.f32(kRegion, 0, n * width);
        staging.readTokens(layer, 0, n, k, heap.f32(vRegion, 0, n * width));
        for (let h = 0; h < nKvHeads; h++) {
          const s = scales.subarray((layer * nKvHeads + h) * D, (layer * nKvHeads + h + 1) * D);
          for (let t = 0; t < n; t++) for (let d = 0; d < D; d++) s[d] = Math.max(s[d]!, Math.abs(k[t * width + h * D + d]!));
          const floor = SCALE_FLOOR * Math.max(...s) || 1;
          for (let d = 0; d < D; d++) s[d] = Math.sqrt(Math.max(s[d]!, floor));
        }
      }
      this.scales = scales;
      for (let layer = 0; layer < nLayers; layer++) {
        const k = heap.f32(kRegion, 0, n * width);
        const v = heap.f32(vRegion, 0, n * width);
        staging.readTokens(layer, 0, n, k, v);
        this.inner.append(layer, 0, n, this.scaled(this.keys, k, n * width, layer, 0, nKvHeads, true), v);
      }
      this.inner.endForward(0, n);
      staging.dispose();
      this.staging = undefined;
    } finally {
      heap.free(kRegion);
      heap.free(vRegion);
    }
  }

  /** A scratch copy of n floats of src with row r (D values, head headBase + r % headCount) divided or multiplied by s. */
  private scaled(region: GrowableRegion, src: Float32Array, n: number, layer: number, headBase: number, headCount: number, divide: boolean): Float32Array {
    const { nKvHeads, headDim: D } = this.shape;
    region.ensure(n * 4, 0);
    const out = new Float32Array(this.compute.heap.memory.buffer, region.ptr, n);
    const scales = this.scales!;
    for (let r = 0; r < n / D; r++) {
      const base = (layer * nKvHeads + headBase + (r % headCount)) * D;
      for (let d = 0; d < D; d++) out[r * D + d] = divide ? src[r * D + d]! / scales[base + d]! : src[r * D + d]! * scales[base + d]!;
    }
    return out;
  }
}
