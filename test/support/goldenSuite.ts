import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { Engine } from "../../src/engine/Engine.js";
import { encodeParagraphs, negLogSoftmax, perplexity } from "../../src/eval/perplexity.js";
import { greedy } from "./greedy.js";
import { TINYSTORIES } from "./paths.js";

/**
 * The engine against a golden file of ../shared/golden (computed by an independent float64 implementation of the
 * llama2.c forward pass and tokenizer): tokenization, exact greedy ids and text, logits within 1e-4, the sentence
 * NLL within 1e-3, and the file perplexity of tinystories_val_head.txt (paragraph protocol, 20000 tokens, ctx 512,
 * fp32 cache) within 0.1%. One suite per (model, file format): `load` gives the engine, loaded once.
 */
interface Golden {
  tokenize: { text: string; ids: number[] }[];
  greedy_from_bos: { steps: number; ids: number[]; text: string };
  greedy_from_prompt: { prompt: string; prompt_ids: number[]; ids: number[]; continuation: string };
  nll: { ids: number[]; nll_sum: number };
  logits: { ids: number[]; positions: { pos: number; logits: number[] }[] };
  ppl_file: { tokens: number; ctx: number; scored: number; ppl: number };
}

export function goldenSuite(name: string, goldenPath: string, skip: string | false, load: () => Promise<Engine>): void {
  let engine: Engine;
  let golden: Golden;

  before(async () => {
    if (skip) return;
    golden = JSON.parse(readFileSync(goldenPath, "utf8")) as Golden;
    engine = await load();
  });
  after(() => engine?.dispose());

  test(`${name}: tokenizer ids equal the golden ones`, { skip }, () => {
    for (const { text, ids } of golden.tokenize) assert.deepEqual(Array.from(engine.tokenizer.encode(text, { addBos: true })), ids, text);
  });

  test(`${name}: greedy tokens from BOS equal the golden ids and text`, { skip }, () => {
    const ids = greedy(engine, [1], golden.greedy_from_bos.steps);
    assert.deepEqual(ids, golden.greedy_from_bos.ids);
    assert.equal(engine.tokenizer.decode(ids), golden.greedy_from_bos.text);
  });

  test(`${name}: greedy continuation of the golden prompt`, { skip }, () => {
    const g = golden.greedy_from_prompt;
    const prompt = Array.from(engine.tokenizer.encode(g.prompt, { addBos: true }));
    assert.deepEqual(prompt, g.prompt_ids);
    const ids = greedy(engine, prompt, g.ids.length - prompt.length);
    assert.deepEqual(ids, g.ids);
    assert.equal(engine.tokenizer.decode(ids.slice(prompt.length)).trim(), g.continuation.trim());
  });

  test(`${name}: logits at three positions within 1e-4 of the float64 reference`, { skip }, () => {
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

  test(`${name}: decode one token at a time gives the same logits as the batched prompt`, { skip }, () => {
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

  test(`${name}: sentence NLL within 1e-3 of the reference`, { skip }, () => {
    const ids = golden.nll.ids;
    const cache = engine.createCache({ kind: "fp32" });
    const logits = engine.model.forward(Int32Array.from(ids.slice(0, -1)), 0, cache, "all");
    const vocab = engine.config.vocabSize;
    let nll = 0;
    for (let p = 0; p + 1 < ids.length; p++) nll += negLogSoftmax(logits.subarray(p * vocab, (p + 1) * vocab), ids[p + 1]!);
    assert.ok(Math.abs(nll - golden.nll.nll_sum) < 1e-3, `nll ${nll} vs ${golden.nll.nll_sum}`);
    cache.dispose();
  });

  test(`${name}: file perplexity within 0.1% of the reference (paragraph protocol, fp32 cache)`, { skip }, async () => {
    const g = golden.ppl_file;
    const ids = encodeParagraphs(engine, await readFile(TINYSTORIES, "utf8"), g.tokens);
    const cache = engine.createCache({ kind: "fp32" });
    const result = perplexity(engine, cache, ids, g.ctx);
    cache.dispose();
    assert.equal(result.tokens, g.tokens);
    assert.equal(result.scored, g.scored);
    assert.ok(Math.abs(result.ppl / g.ppl - 1) < 1e-3, `ppl ${result.ppl} vs ${g.ppl}`);
  });
}
