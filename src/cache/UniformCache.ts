import type { Compute } from "../kernels/Compute.js";
import { ContextOverflowError } from "../util/errors.js";
import { AttentionScratch } from "./AttentionScratch.js";
import { exactRollback, type CacheShape, type KVCache, type QueryBlock } from "./KVCache.js";
import { cacheBytes, type CacheBits, type CacheBytes, type CacheReportView } from "./CacheReportView.js";
import { PackedGroupStore } from "./PackedGroupStore.js";
import { BitsTally } from "./paperBits.js";
import { formatKvSpec, type UniformConfig } from "./spec.js";
import { maskFuturePositions } from "./attentionSupport.js";
import { Fp16Part, QuantizedPart, type UniformPartStorage } from "./uniformParts.js";

/**
 * Uniform per-token quantization with separate key and value widths (the paper's baseline): every token's K and V
 * are quantized once, on append, to a fixed width per part (0..8 bits packed, or 16 = fp16 rows), per group of one
 * KV head (group=head, G = D) or of the token's whole layer vector (group=layer, G = nKvHeads·D), with min-max or
 * mean-centred grids (stored in fp16) and optional outliers (kept exactly, fp16) and sink tokens (the first n tokens
 * kept in fp16 as well). Attention reads the packed codes through the packed kernels (uniformParts.ts).
 *
 * Storage: per part kind (keys, values) one PackedGroupStore (the slot format) shared by all layers, per layer and
 * part a PackedPart of block-packed sequences (and sink rows) or fp16 rows. Tokens stay in position order.
 */
interface LayerParts {
  readonly keys: UniformPartStorage;
  readonly values: UniformPartStorage;
}

export class UniformCache implements KVCache, CacheReportView {
  readonly spec: string;
  readonly layers: readonly LayerParts[];
  /** slot stores of the packed parts (null for an fp16 part) */
  readonly keyStore: PackedGroupStore | null;
  readonly valueStore: PackedGroupStore | null;
  private readonly scratch: AttentionScratch;
  nextPos = 0;
  readonly rollback = exactRollback(this);

  constructor(
    private readonly compute: Compute,
    private readonly shape: CacheShape,
    readonly config: UniformConfig,
  ) {
    this.spec = formatKvSpec(config);
    this.scratch = new AttentionScratch(compute);
    const groupLength = config.group === "head" ? shape.headDim : shape.nKvHeads * shape.headDim;
    const store = (bits: number, what: string) =>
      bits === 16 ? null : new PackedGroupStore(compute.heap, groupLength, config.outlierRatio, config.method, what);
    this.keyStore = store(config.keyBits, "KV cache key slots");
    this.valueStore = store(config.valueBits, "KV cache value slots");
    const layers: LayerParts[] = [];
    for (let l = 0; l < shape.nLayers; l++) {
      layers.push({
        keys: this.part(this.keyStore, config.keyBits, `KV cache layer ${l} keys`),
        values: this.part(this.valueStore, config.valueBits, `KV cache layer ${l} values`),
      });
    }
    this.layers = layers;
  }

  storedTokens(layer: number): number {
    return this.layers[layer]!.keys.tokens;
  }

  append(layer: number, firstPos: number, nTok: number, k: Float32Array, v: Float32Array): void {
    const parts = this.layers[layer]!;
    if (firstPos !== parts.keys.tokens) throw new Error(`append at position ${firstPos}, cache holds ${parts.keys.tokens}`);
    const end = firstPos + nTok;
    if (end > this.shape.maxTokens) throw new ContextOverflowError(end, this.shape.maxTokens, "KV cache");
    parts.keys.append(k, nTok);
    parts.values.append(v, nTok);
    if (layer === this.shape.nLayers - 1) this.nextPos = end;
  }

  scores(layer: number, kvHead: number, q: Float32Array, block: QueryBlock, out: Float32Array): void {
    const T = this.storedTokens(layer);
    const heap = this.compute.heap;
    this.layers[layer]!.keys.scores(kvHead, heap.ptrOf(q), heap.ptrOf(out), block.nTok * block.nRep);
    maskFuturePositions(out, block, T, (t) => t);
  }

  observe(): void {}

  mix(layer: number, kvHead: number, probs: Float32Array, block: QueryBlock, out: Float32Array): void {
    const heap = this.compute.heap;
    heap.ptrOf(probs); // throws unless the probabilities live in the heap, where the kernels read them
    this.layers[layer]!.values.mix(kvHead, probs, block.nTok * block.nRep, heap.ptrOf(out));
  }

  endForward(): void {}

  truncate(nextPos: number): void {
    for (const parts of this.layers) {
      parts.keys.truncate(nextPos);
      parts.values.truncate(nextPos);
    }
    this.nextPos = Math.min(this.nextPos, nextPos);
  }

  reset(): void {
    this.truncate(0);
  }

  nbytes(): CacheBytes {
    let codes = 0;
    let metadata = 0;
    let outliers = 0;
    let residual = 0;
    let slack = 0;
    for (const parts of this.layers) {
      for (const part of [parts.keys, parts.values]) {
        const b = part.nbytes();
        codes += b.codes;
        metadata += b.metadata;
        outliers += b.outliers;
        residual += b.residual;
        slack += b.slack;
      }
    }
    return cacheBytes(codes, metadata, outliers, residual, 0, slack);
  }

  paperBits(): CacheBits {
    const keys = new BitsTally();
    const values = new BitsTally();
    for (const parts of this.layers) {
      parts.keys.tallyBits(keys);
      parts.values.tallyBits(values);
    }
    const seen = this.nextPos * this.shape.nLayers * this.shape.nKvHeads * this.shape.headDim;
    return { keys: keys.partBits(seen), values: values.partBits(seen) };
  }

  dispose(): void {
    for (const parts of this.layers) {
      parts.keys.dispose();
      parts.values.dispose();
    }
    this.scratch.free();
  }

  private part(store: PackedGroupStore | null, bits: number, what: string): UniformPartStorage {
    const { nKvHeads, headDim, maxTokens } = this.shape;
    if (store === null) return new Fp16Part(this.compute, nKvHeads, headDim, maxTokens, what);
    const sinks = Math.min(this.config.sinkTokens, maxTokens);
    return new QuantizedPart(this.compute, this.scratch, store, this.config.group, bits, sinks, nKvHeads, headDim, maxTokens, what);
  }
}
