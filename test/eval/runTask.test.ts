import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Engine } from "../../src/engine/Engine.js";
import { prepareTask, type PreparedTask, type TaskSettings } from "../../src/eval/prepareTask.js";
import { memoryReference } from "../../src/eval/reference/obtainReference.js";
import { runTask } from "../../src/eval/runTask.js";
import { defaultDataPath } from "../../src/eval/tasks/dataFiles.js";
import { TASKS } from "../../src/eval/tasks/taskTable.js";
import { BUNDLED_MODEL, BUNDLED_TOKENIZER, GOLDEN_PATH, SHARED, SKIP_SHARED } from "../support/paths.js";

let engine: Engine;
before(async () => {
  engine = await Engine.load(BUNDLED_MODEL, BUNDLED_TOKENIZER, 1);
});
after(() => engine.dispose());

function settings(task: string, limit: number, scoring: "lm-eval" | "paper" = "lm-eval"): TaskSettings {
  const definition = TASKS[task]!;
  return { task: definition, dataPath: defaultDataPath(definition, join(SHARED, "data"))!, limit, seed: 0, scoring, ctx: null };
}

test("the fp32 reference of TinyStories reproduces the golden perplexity (20000 tokens, paragraph protocol)", { skip: SKIP_SHARED }, async () => {
  const golden = JSON.parse(readFileSync(GOLDEN_PATH, "utf8")).ppl_file as { ppl: number; scored: number };
  const prepared = prepareTask(engine, settings("tinystories", 20000));
  const reference = await memoryReference(engine, prepared);
  assert.equal(reference.meta.detail.kind, "perplexity");
  if (reference.meta.detail.kind !== "perplexity") return;
  const nll = reference.meta.detail.nll;
  assert.equal(nll.length, golden.scored);
  const ppl = Math.exp(nll.reduce((a, b) => a + b, 0) / nll.length);
  assert.ok(Math.abs(ppl / golden.ppl - 1) < 1e-3, `ppl ${ppl} vs golden ${golden.ppl}`);
});

test("multiple choice: fp32 agrees with itself, a 2-bit cache does not, every field is filled", { skip: SKIP_SHARED }, async () => {
  const prepared = prepareTask(engine, settings("piqa", 3));
  const reference = await memoryReference(engine, prepared);
  const fp32 = await runTask(engine, prepared, reference, "fp32", "prompt");
  assert.equal(fp32.items, 3);
  assert.equal(fp32.metrics["agreement"], 1);
  assert.equal(fp32.metrics["gold_loglik_delta"], 0);
  // the reference stores log-probabilities as float32: the only KL left for the same cache is that rounding
  assert.ok(fp32.metrics["kl"]! < 1e-6);
  assert.equal(fp32.metrics["top1"], 1);
  assert.deepEqual(
    Object.fromEntries(["acc", "acc_norm", "acc_mean"].map((k) => [k, fp32.metrics[k]])),
    Object.fromEntries(["acc", "acc_norm", "acc_mean"].map((k) => [k, fp32.fp32[k]])),
  );
  const rough = await runTask(engine, prepared, reference, "uniform:bits=2", "stream");
  assert.ok(rough.metrics["kl"]! > 1e-2, `kl ${rough.metrics["kl"]}`);
  assert.ok(rough.metrics["top1"]! < 1);
  assert.equal(rough.protocol, "stream");
  assert.equal(rough.spec, "uniform:bits=2");
  assert.ok(rough.cache.ratioVsFp16 > 0 && rough.cache.paperRatio === 8, `paper ${rough.cache.paperRatio}`);
  assert.ok(rough.key.includes("piqa") && rough.key.includes("stream") && rough.key.includes("uniform:bits=2"));
});

test("QAQ runs under the protocol's mode; paper scoring drops BOS and takes the first token from fp32", { skip: SKIP_SHARED }, async () => {
  const lmEval = prepareTask(engine, settings("hellaswag", 2));
  const paper = prepareTask(engine, settings("hellaswag", 2, "paper"));
  const first = (p: PreparedTask) => (p.kind === "choice" ? p.items[0]!.context[0] : -1);
  assert.equal(first(lmEval), engine.tokenizer.bosId);
  assert.notEqual(first(paper), engine.tokenizer.bosId);
  const reference = await memoryReference(engine, paper);
  const line = await runTask(engine, paper, reference, "qaq:kTol=0.05,vTol=1", "prompt");
  assert.equal(line.runSpec, "qaq:kTol=0.05,vTol=1,mode=prompt");
  assert.equal((await runTask(engine, paper, reference, "qaq:kTol=0.05,vTol=1", "stream")).runSpec, "qaq:kTol=0.05,vTol=1");
  assert.equal(line.scoring, "paper");
});

test("generation: the fp32 cache matches its own greedy continuation to the end", { skip: SKIP_SHARED }, async () => {
  const prepared = prepareTask(engine, settings("generation", 2));
  const reference = await memoryReference(engine, prepared);
  const line = await runTask(engine, prepared, reference, "fp32", "stream");
  assert.equal(line.metrics["full_match"], 1);
  assert.equal(line.metrics["match_tokens"], line.fp32["match_tokens"]);
  const rough = await runTask(engine, prepared, reference, "uniform:k=2,v=16", "stream");
  assert.ok(rough.metrics["match_tokens"]! < line.metrics["match_tokens"]!);
});
