import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Engine } from "../../src/engine/Engine.js";
import { greedy } from "../support/greedy.js";
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

test("file perplexity within 0.1% of 4.09126 with the fp32 cache (paragraph protocol, 20000 tokens, ctx 512)", { skip: SKIP_SHARED }, async () => {
  const { readFile } = await import("node:fs/promises");
  const { encodeParagraphs, perplexity } = await import("../../src/eval/perplexity.js");
  const { TINYSTORIES } = await import("../support/paths.js");
  const ids = encodeParagraphs(engine, await readFile(TINYSTORIES, "utf8"), 20000);
  const cache = engine.createCache({ kind: "fp32" });
  const result = perplexity(engine, cache, ids, 512);
  cache.dispose();
  assert.equal(result.tokens, 20000);
  assert.equal(result.scored, 19999);
  assert.ok(Math.abs(result.ppl / 4.09126 - 1) < 1e-3, `ppl ${result.ppl}`);
});
