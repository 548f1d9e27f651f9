import { readFileSync } from "node:fs";
import type { KVCache, QueryBlock } from "../../src/cache/KVCache.js";
import type { ReportingCache } from "../../src/cache/CacheReportView.js";
import type { Engine } from "../../src/engine/Engine.js";
import { encodeParagraphs } from "../../src/eval/perplexity.js";
import { TINYSTORIES } from "./paths.js";

/**
 * Real keys and values of a long stream, recorded once and replayed into caches under test.
 *
 * How they are made (the honest means for a stream longer than a small model's context): the engine is loaded with a
 * context of `tokens` positions (Engine.load's contextLength; RoPE runs past the trained 512 positions), the first
 * `tokens` tokens of tinystories_val_head.txt (BOS per paragraph) are run through the model in forward calls of 64
 * tokens on an fp32 cache, and every layer's appended K (after RoPE) and V are copied out: they are exactly what any
 * cache would be handed at those positions (up to fp32 rounding between blocked and one-token calls).
 *
 * Replay appends them one token per step, layer by layer, and ends every step with endForward, as stream mode
 * does; it calls no attention (scores/observe/mix), so it suits caches whose bytes do not depend on attention
 * (dense, blockq, KIVI; the eviction caches hold `budget` tokens whichever they choose).
 */
export interface RecordedStream {
  readonly tokens: number;
  /** per layer: [tokens, nKvHeads·headDim] keys after RoPE, and values */
  readonly keys: readonly Float32Array[];
  readonly values: readonly Float32Array[];
}

export function recordStream(engine: Engine, tokens: number): RecordedStream {
  const { nLayers, nKvHeads, headDim } = engine.config;
  const kvDim = nKvHeads * headDim;
  const ids = encodeParagraphs(engine, readFileSync(TINYSTORIES, "utf8"), tokens);
  if (ids.length < tokens) throw new Error(`only ${ids.length} tokens of text for a ${tokens}-token stream`);
  const keys = Array.from({ length: nLayers }, () => new Float32Array(tokens * kvDim));
  const values = Array.from({ length: nLayers }, () => new Float32Array(tokens * kvDim));
  const inner = engine.createCache({ kind: "fp32" }, tokens);
  const recorder: KVCache = {
    spec: "recorder",
    get nextPos() {
      return inner.nextPos;
    },
    rollback: inner.rollback,
    storedTokens: (layer) => inner.storedTokens(layer),
    append(layer, firstPos, nTok, k, v) {
      keys[layer]!.set(k.subarray(0, nTok * kvDim), firstPos * kvDim);
      values[layer]!.set(v.subarray(0, nTok * kvDim), firstPos * kvDim);
      inner.append(layer, firstPos, nTok, k, v);
    },
    scores: (layer, kvHead, q, block: QueryBlock, out) => inner.scores(layer, kvHead, q, block, out),
    observe: (layer, kvHead, probs, block) => inner.observe(layer, kvHead, probs, block),
    mix: (layer, kvHead, probs, block, out) => inner.mix(layer, kvHead, probs, block, out),
    endForward: (firstPos, nTok) => inner.endForward(firstPos, nTok),
    reset: () => inner.reset(),
    dispose: () => inner.dispose(),
  };
  for (let p = 0; p < tokens; p += 64) engine.model.forward(ids.subarray(p, Math.min(tokens, p + 64)), p, recorder, "last");
  recorder.dispose();
  return { tokens, keys, values };
}

/** Appends positions [from, to) of the recording to `cache`, one token per step (stream mode). */
export function replayStream(cache: ReportingCache, stream: RecordedStream, from: number, to: number): void {
  const kvDim = stream.keys[0]!.length / stream.tokens;
  for (let p = from; p < to; p++) {
    for (let layer = 0; layer < stream.keys.length; layer++) {
      const rows = (parts: readonly Float32Array[]) => parts[layer]!.subarray(p * kvDim, (p + 1) * kvDim);
      cache.append(layer, p, 1, rows(stream.keys), rows(stream.values));
    }
    cache.endForward(p, 1);
  }
}
