/**
 * Greedy-generation divergence: from each prompt, the fp32 cache's greedy continuation (the reference) and the
 * cache under test's, token by token; the score is the number of tokens generated before the first one that differs
 * (the whole reference length when none does). Generation under test stops at that first difference: nothing after
 * it is compared. EOS ends a continuation (it counts as a token that must match).
 *   prompt protocol: the prompt is prefilled in full precision and quantized once; every generated token is
 *   appended to the quantized cache. stream: the prompt goes through the cache under test as well.
 */
import type { KVCacheConfig } from "../cache/spec.js";
import type { Engine } from "../engine/Engine.js";
import { CacheMeter } from "./cacheMeter.js";
import { argmaxOf } from "./divergence.js";
import type { PreparedTask } from "./prepareTask.js";
import { createEvalCache, type EvalCache, type EvalProtocol } from "./protocol/evalProtocol.js";
import type { ReferenceDetail, TaskReference } from "./reference/TaskReference.js";
import { meanWithError } from "./stats.js";
import type { TaskRun } from "./resultLine.js";
import { ItemLoop, type RunControl } from "./runControl.js";

type PreparedGeneration = Extract<PreparedTask, { kind: "generation" }>;

/**
 * Greedy tokens after `prompt`, at most `maxTokens`, ending after EOS; `expected` (if given) stops the loop at the
 * first token that differs from it (that token is still returned).
 */
function greedyContinuation(engine: Engine, evalCache: EvalCache, prompt: Int32Array, maxTokens: number, expected?: readonly number[]): number[] {
  const { session } = evalCache;
  let logits = session.prefill(prompt);
  const out: number[] = [];
  while (out.length < maxTokens) {
    const id = argmaxOf(logits);
    out.push(id);
    if (engine.tokenizer.isEndOfGeneration(id) || (expected !== undefined && expected[out.length - 1] !== id) || out.length === maxTokens) break;
    logits = session.step(id);
  }
  return out;
}

/** The fp32 pass over every prompt; `control`: progress, and Ctrl-C (an InterruptedError: nothing is scored yet). */
export async function generationReference(engine: Engine, prepared: PreparedGeneration, control?: RunControl): Promise<ReferenceDetail> {
  const outputs: number[][] = [];
  const loop = new ItemLoop(control, prepared.prompts.length);
  for (const prompt of prepared.prompts) {
    const evalCache = createEvalCache(engine, { kind: "fp32" }, "stream");
    try {
      outputs.push(greedyContinuation(engine, evalCache, prompt, prepared.newTokens));
    } finally {
      evalCache.dispose();
    }
    await loop.referenceItemDone();
  }
  return { kind: "generation", outputs };
}

/** Tokens of `run` equal to `reference` before the first difference. */
export function matchingPrefix(run: readonly number[], reference: readonly number[]): number {
  const n = Math.min(run.length, reference.length);
  for (let i = 0; i < n; i++) if (run[i] !== reference[i]) return i;
  return n;
}

export async function runGeneration(
  engine: Engine,
  prepared: PreparedGeneration,
  reference: TaskReference,
  config: KVCacheConfig,
  protocol: EvalProtocol,
  control?: RunControl,
): Promise<TaskRun> {
  const detail = reference.meta.detail;
  if (detail.kind !== "generation") throw new Error(`reference ${reference.meta.key} is not a generation reference`);
  const meter = new CacheMeter(engine.config);
  const matches: { matched: number; length: number }[] = [];
  const loop = new ItemLoop(control, prepared.prompts.length);
  for (const [i, prompt] of prepared.prompts.entries()) {
    const expected = detail.outputs[i]!;
    const evalCache = createEvalCache(engine, config, protocol);
    try {
      const run = greedyContinuation(engine, evalCache, prompt, expected.length, expected);
      meter.sample(evalCache.cache);
      matches.push({ matched: matchingPrefix(run, expected), length: expected.length });
    } finally {
      evalCache.dispose();
    }
    if (await loop.itemDone()) break;
  }
  const matched = meanWithError(matches.map((m) => m.matched));
  const referenceLength = meanWithError(matches.map((m) => m.length));
  return {
    metrics: {
      match_tokens: matched.mean,
      match_tokens_stderr: matched.stderr,
      full_match: matches.filter((m) => m.matched === m.length).length / matches.length,
      reference_tokens: referenceLength.mean,
      prompts: matches.length,
    },
    fp32: { match_tokens: referenceLength.mean, full_match: 1 },
    cache: meter.summary(),
    ...(loop.stopped ? { itemsDone: matches.length } : {}),
  };
}
