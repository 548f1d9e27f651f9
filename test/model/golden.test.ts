import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Engine } from "../../src/engine/Engine.js";
import { argmax } from "../../src/generate/sampler.js";
import { negLogSoftmax } from "../../src/eval/perplexity.js";
import { BUNDLED_MODEL, BUNDLED_TOKENIZER, GOLDEN_PATH, SKIP_SHARED } from "../support/paths.js";

/**
 * The engine against ../shared/golden/stories260K.json, computed by an independent float64 implementation of the
 * llama2.c forward pass: exact greedy ids and text, logits within 1e-4, the sentence NLL within 1e-3.
 */
interface Golden {
  greedy_from_bos: { steps: number; ids: number[]; text: string };
  greedy_from_prompt: { prompt: string; prompt_ids: number[]; ids: number[]; continuation: string };
  nll: { ids: number[]; nll_sum: number };
  logits: { ids: number[]; positions: { pos: number; logits: number[] }[] };
}

let engine: Engine;
let golden: Golden;

before(async () => {
  if (SKIP_SHARED) return;
  golden = JSON.parse(readFileSync(GOLDEN_PATH, "utf8")) as Golden;
  engine = await Engine.load(BUNDLED_MODEL, BUNDLED_TOKENIZER, 2);
});
after(() => engine?.dispose());

/** Greedy decoding with the fp32 cache, one token at a time after a batched prompt. */
export function greedy(e: Engine, prompt: readonly number[], steps: number): number[] {
  const cache = e.createCache({ kind: "fp32" });
  const ids = [...prompt];
  let logits = e.model.forward(Int32Array.from(prompt), 0, cache, "last");
  while (ids.length < prompt.length + steps) {
    const next = argmax(logits);
    ids.push(next);
    if (ids.length === prompt.length + steps) break;
    logits = e.model.forward(Int32Array.of(next), ids.length - 1, cache, "last");
  }
  cache.dispose();
  return ids;
}

test("greedy 200 tokens from BOS equal the golden ids and text", { skip: SKIP_SHARED }, () => {
  const ids = greedy(engine, [1], golden.greedy_from_bos.steps);
  assert.deepEqual(ids, golden.greedy_from_bos.ids);
  assert.equal(engine.tokenizer.decode(ids), golden.greedy_from_bos.text);
});

test("greedy continuation of the golden prompt", { skip: SKIP_SHARED }, () => {
  const g = golden.greedy_from_prompt;
  const prompt = Array.from(engine.tokenizer.encode(g.prompt, true));
  assert.deepEqual(prompt, g.prompt_ids);
  const ids = greedy(engine, prompt, g.ids.length - prompt.length);
  assert.deepEqual(ids, g.ids);
  assert.equal(engine.tokenizer.decode(ids.slice(prompt.length)).trim(), g.continuation.trim());
});

test("logits at three positions within 1e-4 of the float64 reference", { skip: SKIP_SHARED }, () => {
  const cache = engine.createCache({ kind: "fp32" });
  const all = engine.model.forward(Int32Array.from(golden.logits.ids), 0, cache, "all");
  const vocab = engine.config.vocabSize;
  for (const { pos, logits } of golden.logits.positions) {
    let worst = 0;
    for (let i = 0; i < vocab; i++) worst = Math.max(worst, Math.abs(all[pos * vocab + i]! - logits[i]!));
    assert.ok(worst < 1e-4, `position ${pos}: max |diff| ${worst}`);
  }
  cache.dispose();
});

test("decode one token at a time gives the same logits as the batched prompt", { skip: SKIP_SHARED }, () => {
  const ids = golden.logits.ids;
  const batched = engine.createCache({ kind: "fp32" });
  const all = engine.model.forward(Int32Array.from(ids), 0, batched, "all").slice();
  const stepwise = engine.createCache({ kind: "fp32" });
  const vocab = engine.config.vocabSize;
  for (let p = 0; p < ids.length; p++) {
    const logits = engine.model.forward(Int32Array.of(ids[p]!), p, stepwise, "last");
    for (let i = 0; i < vocab; i++) assert.ok(Math.abs(logits[i]! - all[p * vocab + i]!) < 1e-4);
  }
  batched.dispose();
  stepwise.dispose();
});

test("sentence NLL within 1e-3 of the reference", { skip: SKIP_SHARED }, () => {
  const ids = golden.nll.ids;
  const cache = engine.createCache({ kind: "fp32" });
  const logits = engine.model.forward(Int32Array.from(ids.slice(0, -1)), 0, cache, "all");
  const vocab = engine.config.vocabSize;
  let nll = 0;
  for (let p = 0; p + 1 < ids.length; p++) nll += negLogSoftmax(logits.subarray(p * vocab, (p + 1) * vocab), ids[p + 1]!);
  assert.ok(Math.abs(nll - golden.nll.nll_sum) < 1e-3, `nll ${nll} vs ${golden.nll.nll_sum}`);
  cache.dispose();
});
