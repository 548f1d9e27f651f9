import type { Compute } from "../../../src/kernels/Compute.js";
import { WasmHeap } from "../../../src/kernels/WasmHeap.js";
import { windowCodesRef } from "../../../src/kernels/reference/windowCodesRef.js";
import type { CacheShape, KVCache } from "../../../src/cache/KVCache.js";
import { f16ToF32, f32ToF16 } from "../../../src/quant/fp16.js";
import { Rng } from "../../../src/util/rng.js";

/**
 * Drives a cache through the forward pass's calls (append, scores, observe, mix, endForward) with synthetic K, V,
 * queries and attention, keeping the fp16-rounded K and V it appended as the tests' full-precision reference.
 */

/**
 * A Compute with a real wasm heap whose kernels do nothing: the policy and storage tests check what the cache
 * stores, not the attention it computes (that is tested with the real kernels), and stay independent of them.
 */
export function policyOnlyCompute(): Compute {
  const heap = WasmHeap.create();
  const noop = () => {};
  // the kernels whose results the policy uses: the size of the mix scratch (never touched by a no-op mix) and the
  // attention window's codes (their reference)
  const windowCodes = (_begin: number, end: number, probs: number, out: number, nRep: number, T: number): void => {
    const bits = new Int32Array(heap.memory.buffer, probs, nRep * T);
    windowCodesRef(bits, nRep, T, end, new Int32Array(end), new Uint8Array(heap.memory.buffer, out, end));
  };
  const kernels = new Proxy({}, {
    get: (_, name) => (name === "mix_scratch_bytes" ? () => 64 : name === "attn_window_codes" ? windowCodes : noop),
  });
  return { heap, kernels, parallel: noop, threads: 1, dispose: noop } as unknown as Compute;
}

export interface DriverOptions {
  /** attention of the query row at position `row` (KV head h) to token t ≤ row */
  readonly attention: (row: number, t: number, layer: number, head: number) => number;
  /** scale of the queries of rows at `row` (their norm grows with it) */
  readonly queryScale: (row: number) => number;
}

export class CacheDriver {
  readonly nRep = 2;
  /** per layer: fp16-exact K and V of every appended token, [tokens, kvDim] */
  readonly keys: number[][] = [];
  readonly values: number[][] = [];
  private readonly rng: Rng;
  private pos = 0;

  constructor(
    readonly cache: KVCache,
    readonly compute: Compute,
    readonly shape: CacheShape,
    seed: number,
  ) {
    this.rng = new Rng(seed);
    for (let l = 0; l < shape.nLayers; l++) {
      this.keys.push([]);
      this.values.push([]);
    }
  }

  get kvDim(): number {
    return this.shape.nKvHeads * this.shape.headDim;
  }

  /** One forward pass of nTok tokens; K/V values ~ N(0, 1) with a few large channels. */
  step(nTok: number, options: DriverOptions): void {
    const { nLayers, nKvHeads, headDim } = this.shape;
    const heap = this.compute.heap;
    const first = this.pos;
    for (let l = 0; l < nLayers; l++) {
      const k = new Float32Array(nTok * this.kvDim).map((_, i) => this.sample(i));
      const v = new Float32Array(nTok * this.kvDim).map((_, i) => this.sample(i));
      for (const x of k) this.keys[l]!.push(f16ToF32(f32ToF16(x)));
      for (const x of v) this.values[l]!.push(f16ToF32(f32ToF16(x)));
      this.cache.append(l, first, nTok, k, v);
    }
    const T = first + nTok;
    const nq = nTok * this.nRep;
    const qRegion = heap.alloc(nq * headDim * 4, "test queries");
    const outRegion = heap.alloc(nq * T * 4, "test scores");
    const mixRegion = heap.alloc(nq * headDim * 4, "test mix");
    const block = { firstPos: first, nTok, nRep: this.nRep };
    for (let l = 0; l < nLayers; l++) {
      for (let h = 0; h < nKvHeads; h++) {
        const q = heap.f32(qRegion, 0, nq * headDim);
        for (let i = 0; i < q.length; i++) q[i] = (this.rng.normal() * options.queryScale(first + Math.floor(i / headDim / this.nRep))) / Math.sqrt(headDim);
        const scores = heap.f32(outRegion, 0, nq * T);
        this.cache.scores(l, h, q, block, scores);
        const probs = heap.f32(outRegion, 0, nq * T);
        for (let tok = 0; tok < nTok; tok++) {
          for (let rep = 0; rep < this.nRep; rep++) {
            for (let t = 0; t < T; t++) probs[(tok * this.nRep + rep) * T + t] = t <= first + tok ? options.attention(first + tok, t, l, h) : 0;
          }
        }
        this.cache.observe(l, h, probs, block);
        this.cache.mix(l, h, probs, block, heap.f32(mixRegion, 0, nq * headDim));
      }
    }
    heap.free(qRegion);
    heap.free(outRegion);
    heap.free(mixRegion);
    this.cache.endForward(first, nTok);
    this.pos = T;
  }

  /** Forgets the reference rows of tokens from `tokens` on (after cache.truncate). */
  truncate(tokens: number): void {
    for (let l = 0; l < this.shape.nLayers; l++) {
      this.keys[l]!.length = tokens * this.kvDim;
      this.values[l]!.length = tokens * this.kvDim;
    }
    this.pos = tokens;
  }

  /** Channel 3 of every head is 6x larger: realistic outlier channels, so outliers matter. */
  private sample(i: number): number {
    return this.rng.normal() * (i % this.shape.headDim === 3 ? 6 : 1);
  }
}

/** Background attention 0.001, plus `spikes`: token t gets `value` from the rows in [from, to). */
export function spikyAttention(spikes: readonly { t: number; from: number; to: number; value: number }[]) {
  return (row: number, t: number): number => {
    for (const s of spikes) if (s.t === t && row >= s.from && row < s.to) return s.value;
    return 0.001;
  };
}
