/**
 * Perplexity tasks against the fp32 reference. The token stream is cut as perplexity.ts cuts it: windows of ctx+1
 * tokens overlapping by one, each with an empty cache, so window w predicts its tokens 1..ctx from their prefixes;
 * the reference holds one row per prediction (window-major).
 *   stream  the window is fed one token per forward call, as if the model were producing it: every token goes into
 *           the cache under test as it comes (QAQ re-plans at every step, eviction caches evict at every step); every
 *           target is scored. (One forward call over the whole window would leave a cache that quantizes at the end
 *           of a call, as QAQ does with its young tokens, unquantized for the whole window.)
 *   prompt  the window's first promptTokens (ctx/2) are the prompt: prefilled in full precision and quantized once;
 *           the targets from the prompt's last position on are scored (the first of them from the prefill's logits,
 *           as the first choice token is in multiple choice), the rest teacher-forced in one call on top of the
 *           quantized prompt.
 * Metrics: ppl = exp(mean NLL) with the standard error of the mean NLL (and ppl·stderr), kl and top1 against fp32,
 * and the fp32 figures on exactly the same targets.
 */
import type { KVCacheConfig } from "../cache/spec.js";
import type { Engine } from "../engine/Engine.js";
import { CacheMeter } from "./cacheMeter.js";
import { DivergenceMeter, logSoftmaxInto } from "./divergence.js";
import { negLogSoftmax } from "./perplexity.js";
import type { PreparedTask } from "./prepareTask.js";
import { createEvalCache, type EvalCache, type EvalProtocol } from "./protocol/evalProtocol.js";
import type { ReferenceDetail, RowSink, TaskReference } from "./reference/TaskReference.js";
import { meanWithError } from "./stats.js";
import type { TaskRun } from "./resultLine.js";
import { ItemLoop, type RunControl } from "./runControl.js";

type PreparedPerplexity = Extract<PreparedTask, { kind: "perplexity" }>;

/** [first, first + inputs) of the stream: the tokens fed in window w; targets are the next token of each. */
interface Window {
  readonly tokens: Int32Array;
  /** row of this window's first prediction in the reference */
  readonly firstRow: number;
}

function windowsOf(prepared: PreparedPerplexity): Window[] {
  const { ids, ctx } = prepared;
  const windows: Window[] = [];
  let firstRow = 0;
  for (let start = 0; start + 1 < ids.length; start += ctx) {
    const tokens = ids.subarray(start, Math.min(ids.length, start + ctx + 1));
    windows.push({ tokens, firstRow });
    firstRow += tokens.length - 1;
  }
  return windows;
}

/** How a window is fed: one call (the reference), a prompt then one call (prompt protocol), a token per call (stream). */
type Feeding = { readonly kind: "whole" } | { readonly kind: "prompt"; readonly promptTokens: number } | { readonly kind: "stepwise" };

/** Calls onRow(i, logits) for each predicted position i of the window, in order. */
function scoreWindow(evalCache: EvalCache, window: Window, feeding: Feeding, onRow: (i: number, logits: Float32Array) => void): void {
  const { session } = evalCache;
  const inputs = window.tokens.subarray(0, window.tokens.length - 1);
  if (feeding.kind === "stepwise") {
    for (let i = 0; i < inputs.length; i++) onRow(i, session.step(inputs[i]!));
    return;
  }
  const prompt = feeding.kind === "prompt" ? Math.min(feeding.promptTokens, inputs.length) : 0;
  if (prompt > 0) onRow(prompt - 1, session.prefill(inputs.subarray(0, prompt)));
  // the rest in one forward call, every position's logits
  const rest = inputs.subarray(prompt);
  if (rest.length > 0) session.score(rest, rest.length, (i, logits) => onRow(prompt + i, logits));
}

/** The fp32 pass over every window; `control`: progress, and Ctrl-C (an InterruptedError: nothing is scored yet). */
export async function perplexityReference(engine: Engine, prepared: PreparedPerplexity, sink: RowSink, control?: RunControl): Promise<ReferenceDetail> {
  const logProbs = new Float32Array(engine.config.vocabSize);
  const nll: number[] = [];
  const windows = windowsOf(prepared);
  const loop = new ItemLoop(control, windows.length);
  for (const window of windows) {
    const evalCache = createEvalCache(engine, { kind: "fp32" }, "stream");
    try {
      scoreWindow(evalCache, window, { kind: "whole" }, (i, logits) => {
        logSoftmaxInto(logits, logProbs);
        sink.write(logProbs);
        nll.push(-logProbs[window.tokens[i + 1]!]!);
      });
    } finally {
      evalCache.dispose();
    }
    await loop.referenceItemDone();
  }
  return { kind: "perplexity", nll };
}

export async function runPerplexity(
  engine: Engine,
  prepared: PreparedPerplexity,
  reference: TaskReference,
  config: KVCacheConfig,
  protocol: EvalProtocol,
  control?: RunControl,
): Promise<TaskRun> {
  const detail = reference.meta.detail;
  if (detail.kind !== "perplexity") throw new Error(`reference ${reference.meta.key} is not a perplexity reference`);
  const feeding: Feeding = protocol === "prompt" ? { kind: "prompt", promptTokens: prepared.promptTokens } : { kind: "stepwise" };
  const divergence = new DivergenceMeter(engine.config.vocabSize);
  const meter = new CacheMeter(engine.config);
  const nll: number[] = [];
  const fp32Nll: number[] = [];
  const windows = windowsOf(prepared);
  const loop = new ItemLoop(control, windows.length);
  let windowsDone = 0;
  for (const window of windows) {
    const evalCache = createEvalCache(engine, config, protocol);
    try {
      scoreWindow(evalCache, window, feeding, (i, logits) => {
        const row = window.firstRow + i;
        divergence.add(reference.row(row), logits);
        nll.push(negLogSoftmax(logits, window.tokens[i + 1]!));
        fp32Nll.push(detail.nll[row]!);
      });
      meter.sample(evalCache.cache);
    } finally {
      evalCache.dispose();
    }
    windowsDone++;
    if (await loop.itemDone()) break;
  }
  const run = meanWithError(nll);
  const fp32 = meanWithError(fp32Nll);
  const d = divergence.summary();
  return {
    metrics: {
      ppl: Math.exp(run.mean),
      ppl_stderr: Math.exp(run.mean) * run.stderr,
      nll_mean: run.mean,
      nll_stderr: run.stderr,
      ppl_ratio: Math.exp(run.mean - fp32.mean),
      kl: d.kl.mean,
      kl_stderr: d.kl.stderr,
      top1: d.top1,
      positions: d.positions,
      windows: windowsDone,
      prompt_tokens: feeding.kind === "prompt" ? feeding.promptTokens : 0,
    },
    fp32: { ppl: Math.exp(fp32.mean), ppl_stderr: Math.exp(fp32.mean) * fp32.stderr, nll_mean: fp32.mean, nll_stderr: fp32.stderr },
    cache: meter.summary(),
    ...(loop.stopped ? { itemsDone: nll.length } : {}),
  };
}
