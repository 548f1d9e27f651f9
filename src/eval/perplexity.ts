import type { Engine } from "../engine/Engine.js";
import type { KVCache } from "../cache/KVCache.js";
import { cacheReport, type CacheReport } from "../cache/cacheReport.js";

/**
 * Perplexity by teacher forcing. The token stream is scored in windows of ctx+1 tokens that overlap by one token,
 * so every token after the first is a target exactly once and each window starts with an empty cache:
 *   window w covers tokens [w·ctx, w·ctx + ctx], predicting tokens w·ctx+1 .. w·ctx+ctx from their prefixes.
 * meanNll = mean over targets of -log p(target); ppl = exp(meanNll); stderr = sample std of the NLLs / sqrt(n).
 */
export interface PerplexityResult {
  readonly ppl: number;
  readonly meanNll: number;
  readonly stderr: number;
  readonly tokens: number;
  readonly scored: number;
  readonly ctx: number;
  readonly windows: number;
  /** the cache measured at the end of the longest window (the most tokens it held) */
  readonly cache: CacheReport;
}

/** Paragraph protocol of the golden file: split on blank lines, strip, drop empties, BOS + each paragraph. */
export function encodeParagraphs(engine: Engine, text: string, maxTokens: number): Int32Array {
  const ids: number[] = [];
  for (const paragraph of text.split(/\n\s*\n/)) {
    const stripped = paragraph.trim();
    if (stripped === "") continue;
    for (const id of engine.tokenizer.encode(stripped, true)) ids.push(id);
    if (ids.length >= maxTokens) break;
  }
  return Int32Array.from(ids.slice(0, maxTokens));
}

/**
 * Scores `ids` in windows of ctx+1 tokens with `cache` (reset before each window).
 */
export function perplexity(engine: Engine, cache: KVCache, ids: Int32Array, ctx: number): PerplexityResult {
  const nlls: number[] = [];
  let windows = 0;
  let peak: CacheReport | undefined;
  for (let start = 0; start + 1 < ids.length; start += ctx) {
    const window = ids.subarray(start, Math.min(ids.length, start + ctx + 1));
    cache.reset();
    scoreWindow(engine, cache, window, nlls);
    if (!peak || cache.nextPos > peak.tokens) peak = cacheReport(cache, engine.config);
    windows++;
  }
  const n = nlls.length;
  const mean = nlls.reduce((a, b) => a + b, 0) / n;
  const variance = nlls.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n - 1);
  return { ppl: Math.exp(mean), meanNll: mean, stderr: Math.sqrt(variance / n), tokens: ids.length, scored: n, ctx, windows, cache: peak! };
}

/** Appends -log p(window[i+1] | window[..i]) for every i to `nlls`; runs in blocks so logits never exceed one block. */
function scoreWindow(engine: Engine, cache: KVCache, window: Int32Array, nlls: number[]): void {
  const vocab = engine.config.vocabSize;
  const inputs = window.subarray(0, window.length - 1);
  const block = 64;
  for (let start = 0; start < inputs.length; start += block) {
    const chunk = inputs.subarray(start, Math.min(inputs.length, start + block));
    const logits = engine.model.forward(chunk, start, cache, "all");
    for (let i = 0; i < chunk.length; i++) {
      nlls.push(negLogSoftmax(logits.subarray(i * vocab, (i + 1) * vocab), window[start + i + 1]!));
    }
  }
}

/** -log softmax(logits)[target], computed in float64 with the max subtracted. */
export function negLogSoftmax(logits: Float32Array, target: number): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  return Math.log(sum) + max - logits[target]!;
}
