import { Compute } from "../kernels/Compute.js";
import { createCache } from "../cache/createCache.js";
import { parseKvSpec } from "../cache/spec.js";
import type { CacheShape, KVCache, QueryBlock } from "../cache/KVCache.js";
import { Rng } from "../util/rng.js";
import { emit, median } from "./timing.js";

/**
 * Attention time per decode step, cache by cache, at long cache lengths: one layer of the TinyLlama KV shape
 * (4 KV heads x 64 dims, 8 query heads per KV head), synthetic K/V (normal noise with a few large channels, like
 * real keys). Per (spec, T): the time of scores + softmax-free mix over all 4 KV heads for one new query, and the
 * append (quantize) cost per token measured while filling the cache. Everything runs through the cache seam, so the
 * figures include what the forward pass would pay.
 */
const SHAPE = { nLayers: 1, nKvHeads: 4, headDim: 64, nRep: 8 } as const;
const APPEND_BLOCK = 256;

export async function benchAttention(specs: readonly string[], lengths: readonly number[], threads: number): Promise<void> {
  const compute = await Compute.create(threads);
  try {
    const maxT = Math.max(...lengths);
    const shape: CacheShape = { nLayers: SHAPE.nLayers, nKvHeads: SHAPE.nKvHeads, headDim: SHAPE.headDim, maxTokens: maxT + 1 };
    const kv = syntheticKv(compute, maxT);
    const rows = SHAPE.nRep;
    const q = compute.heap.alloc(rows * SHAPE.headDim * 4, "bench query");
    const scores = compute.heap.alloc(rows * maxT * 4, "bench scores");
    const out = compute.heap.alloc(rows * SHAPE.headDim * 4, "bench output");
    fillNormal(compute.heap.f32(q), new Rng(7), 1 / Math.sqrt(SHAPE.headDim));
    for (const spec of specs) {
      const cache = createCache(compute, shape, parseKvSpec(spec));
      let filled = 0;
      let appendSeconds = 0;
      for (const T of [...lengths].sort((a, b) => a - b)) {
        const t0 = performance.now();
        filled = fill(cache, kv, filled, T);
        appendSeconds += (performance.now() - t0) / 1000;
        const step = measureStep(compute, cache, T, q.ptr, scores.ptr, out.ptr);
        const bytes = cache.nbytes();
        emit({
          bench: "attention",
          spec,
          threads,
          tokens: T,
          kvHeads: SHAPE.nKvHeads,
          headDim: SHAPE.headDim,
          queryHeadsPerKvHead: SHAPE.nRep,
          stepMicroseconds: Math.round(step * 1e6 * 10) / 10,
          appendMicrosecondsPerToken: Math.round((appendSeconds / T) * 1e6 * 100) / 100,
          hotBytes: bytes.hot,
          bitsPerValue: Math.round(((8 * bytes.hot) / (T * SHAPE.nKvHeads * SHAPE.headDim * 2)) * 100) / 100,
        });
      }
      cache.dispose();
    }
  } finally {
    compute.dispose();
  }
}

interface SyntheticKv {
  /** [maxT, nKv*D] keys and values */
  readonly k: Float32Array;
  readonly v: Float32Array;
}

function syntheticKv(compute: Compute, maxT: number): SyntheticKv {
  const width = SHAPE.nKvHeads * SHAPE.headDim;
  const k = compute.heap.f32(compute.heap.alloc(maxT * width * 4, "bench keys"));
  const v = compute.heap.f32(compute.heap.alloc(maxT * width * 4, "bench values"));
  const rng = new Rng(11);
  fillNormal(k, rng, 1);
  fillNormal(v, rng, 1);
  // a few outlier channels, as in real keys
  for (let t = 0; t < maxT; t++) for (const c of [3, 70, 141, 200]) k[t * width + c]! *= 8;
  return { k, v };
}

function fill(cache: KVCache, kv: SyntheticKv, from: number, to: number): number {
  const width = SHAPE.nKvHeads * SHAPE.headDim;
  for (let pos = from; pos < to; pos += APPEND_BLOCK) {
    const n = Math.min(APPEND_BLOCK, to - pos);
    cache.append(0, pos, n, kv.k.subarray(pos * width, (pos + n) * width), kv.v.subarray(pos * width, (pos + n) * width));
    cache.endForward(pos, n);
  }
  return to;
}

/** Median seconds of one decode step's attention (scores + mix over every KV head) at cache length T. */
function measureStep(compute: Compute, cache: KVCache, T: number, q: number, scores: number, out: number): number {
  const heap = compute.heap;
  const block: QueryBlock = { firstPos: T - 1, nTok: 1, nRep: SHAPE.nRep };
  const qView = new Float32Array(heap.memory.buffer, q, SHAPE.nRep * SHAPE.headDim);
  const sView = new Float32Array(heap.memory.buffer, scores, SHAPE.nRep * cache.storedTokens(0));
  const oView = new Float32Array(heap.memory.buffer, out, SHAPE.nRep * SHAPE.headDim);
  // uniform weights stand in for softmax output: mix reads every token either way
  sView.fill(1 / T);
  const repeats = T >= 16384 ? 5 : 15;
  const times: number[] = [];
  for (let r = 0; r < repeats + 1; r++) {
    const t0 = performance.now();
    for (let g = 0; g < SHAPE.nKvHeads; g++) {
      cache.scores(0, g, qView, block, sView);
      sView.fill(1 / T);
      cache.mix(0, g, sView, block, oView);
    }
    if (r > 0) times.push((performance.now() - t0) / 1000);
  }
  return median(times);
}

function fillNormal(values: Float32Array, rng: Rng, scale: number): void {
  for (let i = 0; i < values.length; i++) values[i] = rng.normal() * scale;
}
