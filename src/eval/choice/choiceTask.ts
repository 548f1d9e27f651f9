/**
 * Multiple-choice tasks: the fp32 reference and the run of one cache against it.
 *
 * Metrics of a run (all over the same items):
 *   acc, acc_norm, acc_mean (choiceScoring.ts) with standard errors sqrt(p(1-p)/N);
 *   agreement, agreement_norm, agreement_mean: the fraction of items whose chosen answer equals the fp32 cache's;
 *   gold_loglik_delta: mean change of the correct choice's summed log-likelihood vs fp32 (nats; negative = worse);
 *   kl, top1: next-token divergence from fp32 at every scored choice token.
 * Scoring "paper" (prepareTask.ts) also replaces each choice's first-token log-likelihood by the fp32 one.
 */
import type { KVCacheConfig } from "../../cache/spec.js";
import type { Engine } from "../../engine/Engine.js";
import { CacheMeter } from "../cacheMeter.js";
import { DivergenceMeter, logSoftmaxInto } from "../divergence.js";
import type { PreparedTask, TokenizedChoice } from "../prepareTask.js";
import { createEvalCache, type EvalProtocol } from "../protocol/evalProtocol.js";
import type { ReferenceDetail, RowSink, TaskReference } from "../reference/TaskReference.js";
import { meanWithError, proportionWithError } from "../stats.js";
import type { Metrics, TaskRun } from "../resultLine.js";
import { CHOICE_RULES, predictChoice, sumOf, type ChoiceRule, type ScoredChoice } from "./choiceScoring.js";
import { scoreChoiceItem } from "./scoreChoiceItem.js";
import { ItemLoop, type RunControl } from "../runControl.js";

type PreparedChoice = Extract<PreparedTask, { kind: "choice" }>;

/** The fp32 pass over every item; `control`: progress, and Ctrl-C (an InterruptedError: nothing is scored yet). */
export async function choiceReference(engine: Engine, prepared: PreparedChoice, sink: RowSink, control?: RunControl): Promise<ReferenceDetail> {
  const evalCache = createEvalCache(engine, { kind: "fp32" }, "stream");
  const logProbs = new Float32Array(engine.config.vocabSize);
  const loop = new ItemLoop(control, prepared.items.length);
  try {
    const logliks: number[][][] = [];
    for (const item of prepared.items) {
      logliks.push(scoreChoiceItem(engine, evalCache, item, (logits) => {
        logSoftmaxInto(logits, logProbs);
        sink.write(logProbs);
      }, undefined).map((choice) => Array.from(choice)));
      await loop.referenceItemDone();
    }
    return { kind: "choice", logliks };
  } finally {
    evalCache.dispose();
  }
}

export async function runChoice(
  engine: Engine,
  prepared: PreparedChoice,
  reference: TaskReference,
  config: KVCacheConfig,
  protocol: EvalProtocol,
  control?: RunControl,
): Promise<TaskRun> {
  const detail = reference.meta.detail;
  if (detail.kind !== "choice") throw new Error(`reference ${reference.meta.key} is not a choice reference`);
  const paper = prepared.settings.scoring === "paper";
  const divergence = new DivergenceMeter(engine.config.vocabSize);
  const meter = new CacheMeter(engine.config);
  const runs: ScoredChoice[][] = [];
  let row = 0;
  const loop = new ItemLoop(control, prepared.items.length);
  for (const [index, item] of prepared.items.entries()) {
    // a fresh cache per item: its bytes then reflect this item alone, not the largest one before it
    const evalCache = createEvalCache(engine, config, protocol);
    try {
      const logliks = scoreChoiceItem(engine, evalCache, item, (logits) => divergence.add(reference.row(row++), logits), meter);
      if (paper) logliks.forEach((ll, c) => (ll[0] = detail.logliks[index]![c]![0]!));
      runs.push(scored(item, logliks));
    } finally {
      evalCache.dispose();
    }
    if (await loop.itemDone()) break;
  }
  // an interrupted run is scored on the items it finished, against fp32 on the same items
  const items = prepared.items.slice(0, runs.length);
  const fp32Runs = items.map((item, index) => scored(item, detail.logliks[index]!));
  const d = divergence.summary();
  const gold = meanWithError(items.map((item, i) => sumOf(runs[i]![item.gold]!.logliks) - sumOf(fp32Runs[i]![item.gold]!.logliks)));
  return {
    metrics: {
      ...accuracies(items, runs),
      ...agreements(runs, fp32Runs),
      gold_loglik_delta: gold.mean,
      gold_loglik_delta_stderr: gold.stderr,
      kl: d.kl.mean,
      kl_stderr: d.kl.stderr,
      top1: d.top1,
      positions: d.positions,
    },
    fp32: accuracies(items, fp32Runs),
    cache: meter.summary(),
    ...(loop.stopped ? { itemsDone: items.length } : {}),
  };
}

function scored(item: TokenizedChoice, logliks: readonly ArrayLike<number>[]): ScoredChoice[] {
  return logliks.map((ll, c) => ({ logliks: ll, chars: item.chars[c]! }));
}

function accuracies(items: readonly TokenizedChoice[], runs: readonly ScoredChoice[][]): Metrics {
  const out: Metrics = {};
  for (const rule of CHOICE_RULES) {
    const hits = items.filter((item, i) => predictChoice(runs[i]!, rule) === item.gold).length;
    const p = proportionWithError(hits, items.length);
    out[rule] = p.mean;
    out[`${rule}_stderr`] = p.stderr;
  }
  return out;
}

const AGREEMENT_NAMES: Readonly<Record<ChoiceRule, string>> = {
  acc: "agreement",
  acc_norm: "agreement_norm",
  acc_mean: "agreement_mean",
};

function agreements(runs: readonly ScoredChoice[][], fp32Runs: readonly ScoredChoice[][]): Metrics {
  const out: Metrics = {};
  for (const rule of CHOICE_RULES) {
    const same = runs.filter((run, i) => predictChoice(run, rule) === predictChoice(fp32Runs[i]!, rule)).length;
    out[AGREEMENT_NAMES[rule]] = runs.length > 0 ? same / runs.length : Number.NaN;
  }
  return out;
}
