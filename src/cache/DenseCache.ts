import type { Compute } from "../kernels/Compute.js";
import type { Region } from "../kernels/WasmHeap.js";
import { f16FromF32Bits, f16ToF32 } from "../quant/fp16.js";
import { exactRollback, type CacheShape, type KVCache, type QueryBlock } from "./KVCache.js";
import { cacheBytes, type CacheBits, type CacheBytes, type CacheReportView } from "./CacheReportView.js";
import { maskFuturePositions, parallelOverTokens } from "./attentionSupport.js";
import { ContextOverflowError } from "../util/errors.js";

/**
 * The unquantized caches: fp32 (the reference every quality figure is measured against) and fp16 (the baseline every
 * compression ratio is measured against). Storage grows by doubling up to the cache's capacity; nbytes() reports the
 * rows of the stored tokens as codes and the capacity beyond them as slack, so fp16 is 16.0 bits per value.
 *
 * Layout per layer, for K and for V: [nKvHeads, capacity, headDim] elements (4 bytes fp32, 2 bytes fp16), so the
 * keys of one KV head are contiguous and a scores kernel streams them.
 */
export type DenseElement = "f32" | "f16";

interface LayerStore {
  k: Region;
  v: Region;
}

export class DenseCache implements KVCache, CacheReportView {
  readonly spec: string;
  private readonly elementBytes: number;
  private readonly layers: LayerStore[] = [];
  private capacity = 0;
  private stored: number[];
  nextPos = 0;
  readonly rollback = exactRollback(this);

  constructor(
    private readonly compute: Compute,
    private readonly shape: CacheShape,
    readonly element: DenseElement,
  ) {
    this.spec = element === "f32" ? "fp32" : "fp16";
    this.elementBytes = element === "f32" ? 4 : 2;
    this.stored = new Array<number>(shape.nLayers).fill(0);
  }

  storedTokens(layer: number): number {
    return this.stored[layer]!;
  }

  append(layer: number, firstPos: number, nTok: number, k: Float32Array, v: Float32Array): void {
    const { nKvHeads, headDim } = this.shape;
    if (firstPos !== this.stored[layer]) throw new Error(`append at position ${firstPos}, cache holds ${this.stored[layer]}`);
    const end = firstPos + nTok;
    if (end > this.shape.maxTokens) throw new ContextOverflowError(end, this.shape.maxTokens, "KV cache");
    if (end > this.capacity) this.grow(end);
    const store = this.layers[layer]!;
    const heap = this.compute.heap;
    const cap = this.capacity;
    for (let h = 0; h < nKvHeads; h++) {
      for (let t = 0; t < nTok; t++) {
        const src = (t * nKvHeads + h) * headDim;
        const dst = (h * cap + firstPos + t) * headDim;
        if (this.element === "f32") {
          heap.f32(store.k, dst * 4, headDim).set(k.subarray(src, src + headDim));
          heap.f32(store.v, dst * 4, headDim).set(v.subarray(src, src + headDim));
        } else {
          writeF16(k, src, heap.u16(store.k, dst * 2, headDim), headDim);
          writeF16(v, src, heap.u16(store.v, dst * 2, headDim), headDim);
        }
      }
    }
    this.stored[layer] = end;
    if (layer === this.shape.nLayers - 1) this.nextPos = end;
  }

  scores(layer: number, kvHead: number, q: Float32Array, block: QueryBlock, out: Float32Array): void {
    const T = this.stored[layer]!;
    const nq = block.nTok * block.nRep;
    const { headDim } = this.shape;
    const heap = this.compute.heap;
    const k = this.layers[layer]!.k.ptr + kvHead * this.capacity * headDim * this.elementBytes;
    const kernel = this.element === "f32" ? "attn_scores_f32" : "attn_scores_f16";
    parallelOverTokens(this.compute, kernel, T, nq * headDim, [heap.ptrOf(q), k, heap.ptrOf(out), nq, headDim, headDim, T]);
    maskFuturePositions(out, block, T, (t) => t);
  }

  observe(): void {}

  mix(layer: number, kvHead: number, probs: Float32Array, block: QueryBlock, out: Float32Array): void {
    const T = this.stored[layer]!;
    const nq = block.nTok * block.nRep;
    const { headDim } = this.shape;
    const heap = this.compute.heap;
    const v = this.layers[layer]!.v.ptr + kvHead * this.capacity * headDim * this.elementBytes;
    const kernel = this.element === "f32" ? "attn_mix_f32" : "attn_mix_f16";
    const args = [heap.ptrOf(probs), v, heap.ptrOf(out), nq, headDim, headDim, T];
    // rows of this kernel are head dimensions: split them only when each thread gets real work
    if (T * nq * headDim >= 1 << 16) this.compute.parallel(kernel, headDim, args, 16);
    else this.compute.kernels[kernel](0, headDim, ...(args as [number, number, number, number, number, number, number]));
  }

  endForward(): void {}

  truncate(nextPos: number): void {
    for (let l = 0; l < this.stored.length; l++) this.stored[l] = Math.min(this.stored[l]!, nextPos);
    this.nextPos = Math.min(this.nextPos, nextPos);
  }

  reset(): void {
    this.truncate(0);
  }

  /** The stored tokens' rows are codes; the rest of the capacity grown by doubling is slack. */
  nbytes(): CacheBytes {
    let allocated = 0;
    let used = 0;
    const rowBytes = this.shape.nKvHeads * this.shape.headDim * this.elementBytes;
    this.layers.forEach((s, l) => {
      allocated += s.k.byteLength + s.v.byteLength;
      used += 2 * this.stored[l]! * rowBytes;
    });
    return cacheBytes(used, 0, 0, 0, 0, allocated - used);
  }

  paperBits(): CacheBits {
    const part = { meanBits: this.nextPos > 0 ? 8 * this.elementBytes : 0, outlierFraction: 0 };
    return { keys: part, values: part };
  }

  /**
   * Copies stored tokens [start, start+n) of `layer` back out as f32, in append's layout: k, v [n, nKvHeads*D].
   * (Prompt compression re-appends a full-precision prefill into a quantized cache.)
   */
  readTokens(layer: number, start: number, n: number, k: Float32Array, v: Float32Array): void {
    const { nKvHeads, headDim } = this.shape;
    const heap = this.compute.heap;
    const store = this.layers[layer]!;
    for (let h = 0; h < nKvHeads; h++) {
      for (let t = 0; t < n; t++) {
        const row = (h * this.capacity + start + t) * headDim;
        const dst = (t * nKvHeads + h) * headDim;
        if (this.element === "f32") {
          k.set(heap.f32(store.k, row * 4, headDim), dst);
          v.set(heap.f32(store.v, row * 4, headDim), dst);
        } else {
          const kh = heap.u16(store.k, row * 2, headDim);
          const vh = heap.u16(store.v, row * 2, headDim);
          for (let d = 0; d < headDim; d++) {
            k[dst + d] = f16ToF32(kh[d]!);
            v[dst + d] = f16ToF32(vh[d]!);
          }
        }
      }
    }
  }

  dispose(): void {
    for (const s of this.layers) {
      this.compute.heap.free(s.k);
      this.compute.heap.free(s.v);
    }
    this.layers.length = 0;
    this.capacity = 0;
  }

  /** Doubles capacity (at least to `needed`, at most the context) and moves every head's rows across. */
  private grow(needed: number): void {
    const { nLayers, nKvHeads, headDim, maxTokens } = this.shape;
    let cap = Math.max(this.capacity * 2, 64);
    while (cap < needed) cap *= 2;
    cap = Math.min(cap, maxTokens);
    const heap = this.compute.heap;
    const bytes = nKvHeads * cap * headDim * this.elementBytes;
    for (let l = 0; l < nLayers; l++) {
      const old = this.layers[l];
      const next: LayerStore = { k: heap.alloc(bytes, "KV cache keys"), v: heap.alloc(bytes, "KV cache values") };
      if (old) {
        const rowBytes = this.stored[l]! * headDim * this.elementBytes;
        for (let h = 0; h < nKvHeads; h++) {
          for (const part of ["k", "v"] as const) {
            const from = heap.u8(old[part], h * this.capacity * headDim * this.elementBytes, rowBytes);
            heap.u8(next[part], h * cap * headDim * this.elementBytes, rowBytes).set(from);
          }
        }
        heap.free(old.k);
        heap.free(old.v);
      }
      this.layers[l] = next;
    }
    this.capacity = cap;
  }
}

/** Rounds `count` floats of src (from `offset`) to binary16 bits in dst. */
function writeF16(src: Float32Array, offset: number, dst: Uint16Array, count: number): void {
  const bits = new Uint32Array(src.buffer, src.byteOffset + offset * 4, count);
  for (let i = 0; i < count; i++) dst[i] = f16FromF32Bits(bits[i]!);
}
