/**
 * Real keys, values and queries of student64 (head size 64, 4 layers, 2 KV heads, 2 query heads per KV head) for a
 * cache longer than the model's 512-token context, and a driver that replays them into a cache under test.
 *
 * Recording: TinyStories (the shared validation head) is cut into consecutive 512-token windows; each window runs
 * through the model from position 0 (prefill) with a recording cache (an fp32 cache that copies every appended K/V
 * row and every query row). Replay: the windows' rows are concatenated, so token i of the replay carries the K, V
 * and queries the model produced for the (i mod 512)-th token of window floor(i / 512) (RoPE positions restart at
 * each window; the cache under test sees positions 0..N−1). Attention during the replay is computed by the cache
 * under test itself (scores -> softmax -> observe -> mix), so QAQ's window sees real attention over all N tokens.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Engine } from "../../../src/engine/Engine.js";
import { createCache } from "../../../src/cache/createCache.js";
import { parseKvSpec } from "../../../src/cache/spec.js";
import type { CacheShape, KVCache, QueryBlock, Rollback } from "../../../src/cache/KVCache.js";
import type { ReportingCache } from "../../../src/cache/CacheReportView.js";
import type { Compute } from "../../../src/kernels/Compute.js";
import { SHARED, TINYSTORIES } from "../../support/paths.js";

export const STUDENT64 = join(SHARED, "models", "student64", "student64.bin");
export const STUDENT64_TOKENIZER = join(SHARED, "models", "stories260K", "tok512.bin");

export interface RecordedRun {
  readonly tokens: number;
  readonly nLayers: number;
  readonly nKvHeads: number;
  readonly headDim: number;
  readonly nRep: number;
  /** per layer [tokens, nKv·D] post-RoPE keys and values */
  readonly keys: Float32Array[];
  readonly values: Float32Array[];
  /** per layer and KV head [tokens, nRep, D] scaled query rows */
  readonly queries: Float32Array[][];
}

/** Records `tokens` (a multiple of 512) tokens of student64 on TinyStories. */
export async function recordStudent64(tokens: number): Promise<RecordedRun> {
  const engine = await Engine.load(STUDENT64, STUDENT64_TOKENIZER, 1);
  try {
    const { nLayers, nKvHeads, nHeads, headDim, seqLen } = engine.config;
    const nRep = nHeads / nKvHeads;
    // about 4 characters per token: encode just enough of the file
    const ids = engine.tokenizer.encode(readFileSync(TINYSTORIES, "utf8").slice(0, 8 * tokens), { addBos: true });
    if (ids.length < tokens) throw new Error(`TinyStories has ${ids.length} tokens, ${tokens} wanted`);
    const kvDim = nKvHeads * headDim;
    const run: RecordedRun = {
      tokens, nLayers, nKvHeads, headDim, nRep,
      keys: Array.from({ length: nLayers }, () => new Float32Array(tokens * kvDim)),
      values: Array.from({ length: nLayers }, () => new Float32Array(tokens * kvDim)),
      queries: Array.from({ length: nLayers }, () => Array.from({ length: nKvHeads }, () => new Float32Array(tokens * nRep * headDim))),
    };
    for (let window = 0; window * seqLen < tokens; window++) {
      const offset = window * seqLen;
      const inner = engine.createCache(parseKvSpec("fp32"));
      const recorder = new Recorder(inner, run, offset);
      engine.model.forward(ids.subarray(offset, offset + Math.min(seqLen, tokens - offset)), 0, recorder, "last");
      inner.dispose();
    }
    return run;
  } finally {
    engine.dispose();
  }
}

/** Replays tokens [from, to) into `cache` as one forward pass (blocks of 64 tokens, then one endForward). */
export function replay(compute: Compute, run: RecordedRun, cache: KVCache, from: number, to: number): void {
  const { nLayers, nKvHeads, headDim, nRep } = run;
  const kvDim = nKvHeads * headDim;
  const heap = compute.heap;
  for (let first = from; first < to; first += 64) {
    const nTok = Math.min(64, to - first);
    const T = first + nTok;
    const nq = nTok * nRep;
    const q = heap.alloc(nq * headDim * 4, "replay queries");
    const scores = heap.alloc(nq * T * 4, "replay scores");
    const out = heap.alloc(nq * headDim * 4, "replay output");
    try {
      const block: QueryBlock = { firstPos: first, nTok, nRep };
      for (let l = 0; l < nLayers; l++) {
        cache.append(l, first, nTok, run.keys[l]!.subarray(first * kvDim, T * kvDim), run.values[l]!.subarray(first * kvDim, T * kvDim));
        for (let h = 0; h < nKvHeads; h++) {
          const qView = heap.f32(q, 0, nq * headDim);
          qView.set(run.queries[l]![h]!.subarray(first * nRep * headDim, T * nRep * headDim));
          const s = heap.f32(scores, 0, nq * T);
          cache.scores(l, h, qView, block, s);
          softmaxRows(s, nq, T);
          cache.observe(l, h, s, block);
          cache.mix(l, h, s, block, heap.f32(out, 0, nq * headDim));
        }
      }
    } finally {
      heap.free(q);
      heap.free(scores);
      heap.free(out);
    }
  }
  cache.endForward(from, to - from);
}

/** A cache of the replay's shape with room for `maxTokens`. */
export function replayCache(compute: Compute, run: RecordedRun, spec: string, maxTokens: number): ReportingCache {
  const shape: CacheShape = { nLayers: run.nLayers, nKvHeads: run.nKvHeads, headDim: run.headDim, maxTokens, queryHeadsPerKvHead: run.nRep };
  return createCache(compute, shape, parseKvSpec(spec));
}

function softmaxRows(s: Float32Array, rows: number, T: number): void {
  for (let r = 0; r < rows; r++) {
    const row = s.subarray(r * T, (r + 1) * T);
    let max = -Infinity;
    for (const x of row) if (x > max) max = x;
    let sum = 0;
    for (let t = 0; t < T; t++) {
      const e = row[t] === -Infinity ? 0 : Math.exp(row[t]! - max);
      row[t] = e;
      sum += e;
    }
    for (let t = 0; t < T; t++) row[t] = row[t]! / sum;
  }
}

/** An fp32 cache that copies what the model hands it (K/V rows, query rows) into a RecordedRun at a token offset. */
class Recorder implements KVCache {
  readonly spec = "recorder";

  constructor(
    private readonly inner: KVCache,
    private readonly run: RecordedRun,
    private readonly offset: number,
  ) {}

  get nextPos(): number {
    return this.inner.nextPos;
  }

  storedTokens(layer: number): number {
    return this.inner.storedTokens(layer);
  }

  append(layer: number, firstPos: number, nTok: number, k: Float32Array, v: Float32Array): void {
    const kvDim = this.run.nKvHeads * this.run.headDim;
    this.run.keys[layer]!.set(k.subarray(0, nTok * kvDim), (this.offset + firstPos) * kvDim);
    this.run.values[layer]!.set(v.subarray(0, nTok * kvDim), (this.offset + firstPos) * kvDim);
    this.inner.append(layer, firstPos, nTok, k, v);
  }

  scores(layer: number, kvHead: number, q: Float32Array, block: QueryBlock, out: Float32Array): void {
    const rowFloats = block.nRep * this.run.headDim;
    this.run.queries[layer]![kvHead]!.set(q.subarray(0, block.nTok * rowFloats), (this.offset + block.firstPos) * rowFloats);
    this.inner.scores(layer, kvHead, q, block, out);
  }

  observe(layer: number, kvHead: number, probs: Float32Array, block: QueryBlock): void {
    this.inner.observe(layer, kvHead, probs, block);
  }

  mix(layer: number, kvHead: number, probs: Float32Array, block: QueryBlock, out: Float32Array): void {
    this.inner.mix(layer, kvHead, probs, block, out);
  }

  endForward(firstPos: number, nTok: number): void {
    this.inner.endForward(firstPos, nTok);
  }

  get rollback(): Rollback {
    return this.inner.rollback;
  }

  reset(): void {
    this.inner.reset();
  }

  dispose(): void {}
}
