import { Compute } from "../kernels/Compute.js";
import { createCache } from "../cache/createCache.js";
import { parseKvSpec } from "../cache/spec.js";
import type { CacheShape, KVCache, QueryBlock } from "../cache/KVCache.js";
import { QaqCache } from "../cache/qaq/QaqCache.js";
import { Rng } from "../util/rng.js";
import { emit, median } from "./timing.js";

/**
 * Where a QAQ decode step's cache time goes at long context (issue 12, points 1-2), through the cache seam alone (no
 * model weights, so it runs in seconds where a real prefill of 16K tokens takes minutes): the TinyLlama KV shape
 * (4 KV heads x 64 dims, 8 query heads per KV head) in 2 layers, as the shallow-long peer model. The context is
 * filled in blocks of 256 tokens, each block's last rows observed (the window keeps only the last n rows of a block),
 * with softmax rows of random scores, so every token but the young tail has a full window, as after a real prefill.
 * A decode step then does what the forward pass does per layer: append, per KV head scores -> softmax -> observe ->
 * mix, and endForward. Per step: attention (scores + softmax + mix), window (observe) and plan (endForward: width plan,
 * re-quantization, releases), in ms, medians over the steps; the same for the fp32 cache (attention only) in the
 * same run, alternating per step pair so the machine's load falls on both alike.
 */
export const SHAPE = { nLayers: 2, nKvHeads: 4, headDim: 64, nRep: 8 } as const;
const BLOCK = 256;

export interface StepSplit {
  attentionMs: number;
  observeMs: number;
  planMs: number;
  appendMs: number;
  totalMs: number;
}

export async function benchQaqStep(specs: readonly string[], lengths: readonly number[], steps: number, threads: number): Promise<void> {
  const compute = await Compute.create(threads);
  try {
    const maxT = Math.max(...lengths) + steps + 1;
    const shape: CacheShape = { nLayers: SHAPE.nLayers, nKvHeads: SHAPE.nKvHeads, headDim: SHAPE.headDim, maxTokens: maxT };
    const data = syntheticData(compute, maxT);
    for (const T of lengths) {
      const caches = ["fp32", ...specs].map((spec) => {
        const cache = createCache(compute, shape, parseKvSpec(spec));
        fill(compute, cache, data, T);
        return { spec, cache, splits: [] as StepSplit[] };
      });
      for (let s = 0; s < steps; s++) {
        const order = s % 2 === 0 ? caches : [...caches].reverse();
        for (const c of order) c.splits.push(decodeStep(compute, c.cache, data, T + s));
      }
      const fp32 = medianSplit(caches[0]!.splits);
      for (const c of caches) {
        const split = medianSplit(c.splits);
        const qaq = c.cache instanceof QaqCache ? c.cache.stats() : null;
        emit({
          bench: "qaq-step",
          spec: c.spec,
          threads,
          tokens: T,
          steps,
          msPerStep: split,
          bookkeepingShare: round(((split.observeMs + split.planMs + split.appendMs) / split.totalMs) * 1000) / 1000,
          speedVsFp32: round((fp32.totalMs / split.totalMs) * 1000) / 1000,
          ...(qaq === null ? {} : { requantizedLastStep: qaq.requantizedLastStep }),
        });
        c.cache.dispose();
      }
    }
  } finally {
    compute.dispose();
  }
}

interface SyntheticData {
  /** [maxT, nKv*D] keys and values per layer (the same for both layers) */
  readonly k: Float32Array;
  readonly v: Float32Array;
  /** [nRep, D] one query per KV head */
  readonly q: Float32Array;
  /** [BLOCK*nRep, maxT] probabilities (only the rows a block's window keeps are filled) and scores */
  readonly probs: Float32Array;
  readonly out: Float32Array;
  readonly rng: Rng;
}

export function syntheticData(compute: Compute, maxT: number): SyntheticData {
  const heap = compute.heap;
  const width = SHAPE.nKvHeads * SHAPE.headDim;
  const f32 = (n: number, what: string) => heap.f32(heap.alloc(n * 4, what));
  const k = f32(maxT * width, "bench keys");
  const v = f32(maxT * width, "bench values");
  const rng = new Rng(11);
  for (let i = 0; i < k.length; i++) k[i] = rng.normal();
  for (let i = 0; i < v.length; i++) v[i] = rng.normal();
  for (let t = 0; t < maxT; t++) for (const c of [3, 70, 141, 200]) k[t * width + c]! *= 8;
  const q = f32(SHAPE.nRep * SHAPE.headDim, "bench query");
  for (let i = 0; i < q.length; i++) q[i] = rng.normal() / 4;
  const probs = f32(BLOCK * SHAPE.nRep * maxT, "bench probabilities");
  const out = f32(SHAPE.nRep * SHAPE.headDim, "bench output");
  return { k, v, q, probs, out, rng };
}

/** Appends tokens [0, T) in blocks; the rows each block's window keeps get random softmax rows. */
export function fill(compute: Compute, cache: KVCache, data: SyntheticData, T: number): void {
  const width = SHAPE.nKvHeads * SHAPE.headDim;
  for (let pos = 0; pos < T; pos += BLOCK) {
    const n = Math.min(BLOCK, T - pos);
    const end = pos + n;
    for (let l = 0; l < SHAPE.nLayers; l++) cache.append(l, pos, n, data.k.subarray(pos * width, end * width), data.v.subarray(pos * width, end * width));
    const block: QueryBlock = { firstPos: pos, nTok: n, nRep: SHAPE.nRep };
    const probs = data.probs.subarray(0, n * SHAPE.nRep * end);
    for (let tok = Math.max(0, n - 8); tok < n; tok++) {
      for (let rep = 0; rep < SHAPE.nRep; rep++) randomSoftmaxRow(probs, (tok * SHAPE.nRep + rep) * end, pos + tok + 1, end, data.rng);
    }
    for (let l = 0; l < SHAPE.nLayers; l++) for (let g = 0; g < SHAPE.nKvHeads; g++) cache.observe(l, g, probs, block);
    cache.endForward(pos, n);
  }
  void compute;
}

/** A softmax of random scores over the first `visible` of `T` entries (zeros after), like a causal row. */
function randomSoftmaxRow(probs: Float32Array, at: number, visible: number, T: number, rng: Rng): void {
  let sum = 0;
  for (let t = 0; t < visible; t++) {
    const p = Math.exp(2 * rng.normal());
    probs[at + t] = p;
    sum += p;
  }
  for (let t = 0; t < visible; t++) probs[at + t]! /= sum;
  probs.fill(0, at + visible, at + T);
}

/** One decode step at position `pos` (cache holds pos tokens), timed by phase. */
export function decodeStep(compute: Compute, cache: KVCache, data: SyntheticData, pos: number): StepSplit {
  const width = SHAPE.nKvHeads * SHAPE.headDim;
  const T = pos + 1;
  const block: QueryBlock = { firstPos: pos, nTok: 1, nRep: SHAPE.nRep };
  const scores = data.probs.subarray(0, SHAPE.nRep * T);
  const split: StepSplit = { attentionMs: 0, observeMs: 0, planMs: 0, appendMs: 0, totalMs: 0 };
  for (let l = 0; l < SHAPE.nLayers; l++) {
    let t0 = performance.now();
    cache.append(l, pos, 1, data.k.subarray(pos * width, T * width), data.v.subarray(pos * width, T * width));
    split.appendMs += performance.now() - t0;
    for (let g = 0; g < SHAPE.nKvHeads; g++) {
      t0 = performance.now();
      cache.scores(l, g, data.q, block, scores);
      compute.kernels.softmax(0, SHAPE.nRep, scores.byteOffset, T);
      const t1 = performance.now();
      cache.observe(l, g, scores, block);
      const t2 = performance.now();
      cache.mix(l, g, scores, block, data.out);
      split.attentionMs += t1 - t0 + (performance.now() - t2);
      split.observeMs += t2 - t1;
    }
  }
  const t0 = performance.now();
  cache.endForward(pos, 1);
  split.planMs = performance.now() - t0;
  split.totalMs = split.attentionMs + split.observeMs + split.planMs + split.appendMs;
  return split;
}

function medianSplit(splits: readonly StepSplit[]): StepSplit {
  const pick = (key: keyof StepSplit) => round(median(splits.map((s) => s[key])));
  return { attentionMs: pick("attentionMs"), observeMs: pick("observeMs"), planMs: pick("planMs"), appendMs: pick("appendMs"), totalMs: pick("totalMs") };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
