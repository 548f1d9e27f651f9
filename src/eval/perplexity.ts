import type { Engine } from "../engine/Engine.js";
import { Session } from "../engine/Session.js";
import type { ReportingCache } from "../cache/CacheReportView.js";
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
    for (const id of engine.tokenizer.encode(stripped)) ids.push(id);
    if (ids.length >= maxTokens) break;
  }
  return Int32Array.from(ids.slice(0, maxTokens));
}

/**
 * Scores `ids` in windows of ctx+1 tokens with `cache` (reset before each window).
 */
export function perplexity(engine: Engine, cache: ReportingCache, ids: Int32Array, ctx: number): PerplexityResult {
  const session = new Session(engine, cache);
  const nlls: number[] = [];
  let windows = 0;
  let peak: CacheReport | undefined;
  for (let start = 0; start + 1 < ids.length; start += ctx) {
    const window = ids.subarray(start, Math.min(ids.length, start + ctx + 1));
    session.reset();
    scoreWindow(session, window, nlls);
    if (!peak || cache.nextPos > peak.tokens) peak = cacheReport(cache, engine.config);
    windows++;
  }
  const n = nlls.length;
  const mean = nlls.reduce((a, b) => a + b, 0) / n;
  const variance = nlls.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n - 1);
  return { ppl: Math.exp(mean), meanNll: mean, stderr: Math.sqrt(variance / n), tokens: ids.length, scored: n, ctx, windows, cache: peak! };
}

/** Tokens per forward call when scoring: the logits of a call ([block, vocab]) stay one block's worth. */
const SCORE_BLOCK = 64;

/** Appends -log p(window[i+1] | window[..i]) for every i to `nlls`, in forward calls of SCORE_BLOCK tokens. */
function scoreWindow(session: Session, window: Int32Array, nlls: number[]): void {
  const inputs = window.subarray(0, window.length - 1);
  session.score(inputs, SCORE_BLOCK, (i, logits) => nlls.push(negLogSoftmax(logits, window[i + 1]!)));
}

/** -log softmax(logits)[target], computed in float64 with the max subtracted. */
export function negLogSoftmax(logits: Float32Array, target: number): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  return Math.log(sum) + max - logits[target]!;
}
