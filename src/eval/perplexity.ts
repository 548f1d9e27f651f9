import type { Engine } from "../engine/Engine.js";
import { Session } from "../engine/Session.js";
import type { ReportingCache } from "../cache/CacheReportView.js";
import { cacheReport, type CacheReport } from "../cache/cacheReport.js";
import { EventLoopYield } from "../util/eventLoopYield.js";
import { InterruptedError } from "../util/errors.js";

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
  /** true when scoring was interrupted: the figures cover the first `scored` targets only */
  readonly partial: boolean;
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

/** Progress and interruption for a long scoring run (the CLI's bar and Ctrl-C). */
export interface ScoringControl {
  /** When aborted, scoring stops after the current block and the result covers what was scored (`partial`). */
  readonly signal?: AbortSignal;
  /** Called after every block with the targets scored so far and in all. */
  readonly onProgress?: (scored: number, total: number) => void;
}

/**
 * Scores `ids` in windows of ctx+1 tokens with `cache` (reset before each window).
 */
export function perplexity(engine: Engine, cache: ReportingCache, ids: Int32Array, ctx: number): PerplexityResult {
  const run = new PerplexityRun(engine, cache, ids, ctx);
  for (const _ of run.blocks()) {
    // every block, no stop
  }
  return run.result(false);
}

/**
 * The same, giving the event loop a turn every ~0.1 s so that a Ctrl-C handler can abort `control.signal`; then the
 * result covers the targets scored so far and says `partial: true`.
 */
export async function perplexityInterruptible(
  engine: Engine,
  cache: ReportingCache,
  ids: Int32Array,
  ctx: number,
  control: ScoringControl,
): Promise<PerplexityResult> {
  const run = new PerplexityRun(engine, cache, ids, ctx);
  const turns = new EventLoopYield();
  const total = ids.length - 1;
  for (const scored of run.blocks()) {
    control.onProgress?.(scored, total);
    await turns.maybe();
    if (control.signal?.aborted) return run.result(true);
  }
  return run.result(false);
}

/** One scoring run, block by block: `blocks()` yields the number of targets scored after each block. */
class PerplexityRun {
  private readonly nlls: number[] = [];
  private windows = 0;
  private peak: CacheReport | undefined;
  private readonly session: Session;

  constructor(
    private readonly engine: Engine,
    private readonly cache: ReportingCache,
    private readonly ids: Int32Array,
    private readonly ctx: number,
  ) {
    this.session = new Session(engine, cache);
  }

  *blocks(): Generator<number> {
    const { session, ids, ctx } = this;
    for (let start = 0; start + 1 < ids.length; start += ctx) {
      const window = ids.subarray(start, Math.min(ids.length, start + ctx + 1));
      session.reset();
      this.windows++;
      for (const _ of scoreWindow(session, window, this.nlls)) {
        this.notePeak();
        yield this.nlls.length;
      }
    }
  }

  private notePeak(): void {
    if (!this.peak || this.cache.nextPos > this.peak.tokens) this.peak = cacheReport(this.cache, this.engine.config);
  }

  result(partial: boolean): PerplexityResult {
    const { nlls } = this;
    const n = nlls.length;
    if (n === 0) throw new InterruptedError("SIGINT", "interrupted before the first block was scored: no result");
    const mean = nlls.reduce((a, b) => a + b, 0) / n;
    const variance = nlls.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n - 1);
    return {
      ppl: Math.exp(mean),
      meanNll: mean,
      stderr: Math.sqrt(variance / n),
      tokens: this.ids.length,
      scored: n,
      ctx: this.ctx,
      windows: this.windows,
      partial,
      cache: this.peak!,
    };
  }
}

/** Tokens per forward call when scoring: the logits of a call ([block, vocab]) stay one block's worth. */
const SCORE_BLOCK = 64;

/** Appends -log p(window[i+1] | window[..i]) for every i to `nlls`, one forward call of SCORE_BLOCK tokens at a time. */
function* scoreWindow(session: Session, window: Int32Array, nlls: number[]): Generator<void> {
  const inputs = window.subarray(0, window.length - 1);
  for (let start = 0; start < inputs.length; start += SCORE_BLOCK) {
    const chunk = inputs.subarray(start, Math.min(inputs.length, start + SCORE_BLOCK));
    session.score(chunk, SCORE_BLOCK, (i, logits) => nlls.push(negLogSoftmax(logits, window[start + i + 1]!)));
    yield;
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
