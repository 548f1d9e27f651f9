import type { Compute } from "../kernels/Compute.js";
import { Q4_0_BLOCK_BYTES, Q8_0_BLOCK_BYTES, QK, quantizeRowQ4_0, quantizeRowQ8_0 } from "../format/gguf/blockQuant.js";
import { ContextOverflowError, UnsupportedError } from "../util/errors.js";
import { exactRollback, type CacheShape, type KVCache, type QueryBlock } from "./KVCache.js";
import { cacheBytes, type CacheBits, type CacheBytes, type CacheReportView } from "./CacheReportView.js";
import { GrowableRegion } from "./GrowableRegion.js";
import { AttentionScratch } from "./AttentionScratch.js";
import { BitsTally } from "./paperBits.js";
import { formatKvSpec, type BlockFormat, type BlockqConfig } from "./spec.js";
import { maskFuturePositions, parallelOverDims, parallelOverTokens } from "./attentionSupport.js";

/**
 * llama.cpp-style block quantization of the cache (packed-layout note, section 3): each token's K (and V) vector of
 * a layer, nKvHeads·D values, is cut into blocks of 32 and stored as q8_0 (34 bytes: fp16 d, 32 × i8; x^ = d·q) or
 * q4_0 (18 bytes: fp16 d, 16 nibble-pair bytes; x^ = d·(nib − 8)), with ggml's reference quantizers
 * (format/gguf/blockQuant.ts). Per layer and part: rows [capacity, rowBytes], row t = token t, rowBytes =
 * (nKvHeads·D/32)·blockBytes; capacity doubles as tokens arrive. In nbytes() the d of each stored block is
 * metadata, the quantized bytes codes, and rows allocated beyond the stored tokens slack. The mix's scratch (int16 probabilities, blockqMix.ts; AttentionScratch)
 * is working memory like the score buffer, not cache storage: it is not in nbytes().
 */
interface BlockFormatTraits {
  readonly blockBytes: number;
  readonly bits: number;
  readonly quantizeRow: (values: Float32Array, out: Uint8Array) => void;
  readonly scoresKernel: "attn_scores_blockq_q8_0" | "attn_scores_blockq_q4_0";
  readonly mixKernel: "attn_mix_blockq_q8_0" | "attn_mix_blockq_q4_0";
}

const BLOCK_FORMATS: { readonly [F in BlockFormat]: BlockFormatTraits } = {
  q8_0: { blockBytes: Q8_0_BLOCK_BYTES, bits: 8, quantizeRow: quantizeRowQ8_0, scoresKernel: "attn_scores_blockq_q8_0", mixKernel: "attn_mix_blockq_q8_0" },
  q4_0: { blockBytes: Q4_0_BLOCK_BYTES, bits: 4, quantizeRow: quantizeRowQ4_0, scoresKernel: "attn_scores_blockq_q4_0", mixKernel: "attn_mix_blockq_q4_0" },
};

interface LayerRows {
  readonly keys: GrowableRegion;
  readonly values: GrowableRegion;
}

export class BlockqCache implements KVCache, CacheReportView {
  readonly spec: string;
  readonly rowBytes: number;
  private readonly traits: BlockFormatTraits;
  private readonly layers: LayerRows[] = [];
  private readonly stored: number[];
  private readonly scratch: AttentionScratch;
  private capacity = 0;
  nextPos = 0;
  readonly rollback = exactRollback(this);

  constructor(
    private readonly compute: Compute,
    private readonly shape: CacheShape,
    readonly config: BlockqConfig,
  ) {
    const kvDim = shape.nKvHeads * shape.headDim;
    if (kvDim % QK !== 0) throw new UnsupportedError(`blockq:${config.format} needs nKvHeads·headDim (${kvDim}) to be a multiple of ${QK}`);
    this.spec = formatKvSpec(config);
    this.traits = BLOCK_FORMATS[config.format];
    this.rowBytes = (kvDim / QK) * this.traits.blockBytes;
    this.stored = new Array<number>(shape.nLayers).fill(0);
    this.scratch = new AttentionScratch(compute);
    for (let l = 0; l < shape.nLayers; l++) {
      this.layers.push({
        keys: new GrowableRegion(compute.heap, `KV cache layer ${l} ${config.format} keys`),
        values: new GrowableRegion(compute.heap, `KV cache layer ${l} ${config.format} values`),
      });
    }
  }

  storedTokens(layer: number): number {
    return this.stored[layer]!;
  }

  /** Byte address of token t's row of a layer's keys or values (for tests and tools). */
  rowPtr(layer: number, part: "keys" | "values", t: number): number {
    return this.layers[layer]![part].ptr + t * this.rowBytes;
  }

  append(layer: number, firstPos: number, nTok: number, k: Float32Array, v: Float32Array): void {
    if (firstPos !== this.stored[layer]) throw new Error(`append at position ${firstPos}, cache holds ${this.stored[layer]}`);
    const end = firstPos + nTok;
    if (end > this.shape.maxTokens) throw new ContextOverflowError(end, this.shape.maxTokens, "KV cache");
    if (end > this.capacity) this.grow(end);
    const kvDim = this.shape.nKvHeads * this.shape.headDim;
    const buffer = this.compute.heap.memory.buffer;
    for (const [part, src] of [["keys", k], ["values", v]] as const) {
      for (let t = 0; t < nTok; t++) {
        const row = new Uint8Array(buffer, this.rowPtr(layer, part, firstPos + t), this.rowBytes);
        this.traits.quantizeRow(src.subarray(t * kvDim, (t + 1) * kvDim), row);
      }
    }
    this.stored[layer] = end;
    if (layer === this.shape.nLayers - 1) this.nextPos = end;
  }

  scores(layer: number, kvHead: number, q: Float32Array, block: QueryBlock, out: Float32Array): void {
    const T = this.stored[layer]!;
    const nq = block.nTok * block.nRep;
    const D = this.shape.headDim;
    const heap = this.compute.heap;
    const args = [heap.ptrOf(q), heap.ptrOf(out), nq, D, T, this.rowPtr(layer, "keys", 0), this.rowBytes, kvHead * D];
    parallelOverTokens(this.compute, this.traits.scoresKernel, T, nq * D, args);
    maskFuturePositions(out, block, T, (t) => t);
  }

  observe(): void {}

  mix(layer: number, kvHead: number, probs: Float32Array, block: QueryBlock, out: Float32Array): void {
    const T = this.stored[layer]!;
    const nq = block.nTok * block.nRep;
    const D = this.shape.headDim;
    const heap = this.compute.heap;
    const values = this.rowPtr(layer, "values", 0);
    const args = [heap.ptrOf(probs), this.scratch.mixCodes(nq, D), heap.ptrOf(out), nq, D, T, values, this.rowBytes, kvHead * D];
    parallelOverDims(this.compute, this.traits.mixKernel, D, T * nq * D, args);
  }

  endForward(): void {}

  truncate(nextPos: number): void {
    for (let l = 0; l < this.stored.length; l++) this.stored[l] = Math.min(this.stored[l]!, nextPos);
    this.nextPos = Math.min(this.nextPos, nextPos);
  }

  reset(): void {
    this.truncate(0);
  }

  /** The stored tokens' rows: block codes and the fp16 d of every block (metadata); capacity beyond them is slack. */
  nbytes(): CacheBytes {
    let allocated = 0;
    let used = 0;
    this.layers.forEach((rows, l) => {
      allocated += rows.keys.byteLength + rows.values.byteLength;
      used += 2 * this.stored[l]! * this.rowBytes;
    });
    const metadata = (used / this.traits.blockBytes) * 2; // the fp16 d of every block
    return cacheBytes(used - metadata, metadata, 0, 0, 0, allocated - used);
  }

  paperBits(): CacheBits {
    const tally = new BitsTally();
    const kvDim = this.shape.nKvHeads * this.shape.headDim;
    for (const T of this.stored) tally.add(T * kvDim, this.traits.bits);
    const part = tally.partBits(this.nextPos * this.shape.nLayers * kvDim);
    return { keys: part, values: part };
  }

  dispose(): void {
    for (const rows of this.layers) {
      rows.keys.free();
      rows.values.free();
    }
    this.scratch.free();
    this.capacity = 0;
  }

  private grow(needed: number): void {
    let capacity = Math.max(this.capacity * 2, 64);
    while (capacity < needed) capacity *= 2;
    capacity = Math.min(capacity, this.shape.maxTokens);
    for (let l = 0; l < this.layers.length; l++) {
      const used = this.stored[l]! * this.rowBytes;
      this.layers[l]!.keys.ensure(capacity * this.rowBytes, used);
      this.layers[l]!.values.ensure(capacity * this.rowBytes, used);
    }
    this.capacity = capacity;
  }
}
