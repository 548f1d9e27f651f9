import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Engine } from "../../src/engine/Engine.js";
import { parseKvSpec } from "../../src/cache/spec.js";
import { createEvalCache } from "../../src/eval/protocol/evalProtocol.js";
import { scoreChoiceItem } from "../../src/eval/choice/scoreChoiceItem.js";
import { BUNDLED_MODEL, BUNDLED_TOKENIZER } from "../support/paths.js";

let engine: Engine;
before(async () => {
  engine = await Engine.load(BUNDLED_MODEL, BUNDLED_TOKENIZER, 1);
});
after(() => engine.dispose());

/** A context longer than the engine's 64-token forward block. */
function longContext(): Int32Array {
  const ids = engine.tokenizer.encode("Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her big red ball. One day, she saw a small dog near the tree. The dog was sad and alone, so Lily gave it some of her bread and they became good friends.", { addBos: true });
  assert.ok(ids.length > 70, `context has ${ids.length} tokens`);
  return ids;
}

function lastLogits(config: string, protocol: "prompt" | "stream", ids: Int32Array): { context: Float32Array; next: Float32Array } {
  const evalCache = createEvalCache(engine, parseKvSpec(config), protocol);
  const context = Float32Array.from(engine.model.forward(ids, 0, evalCache.cache, "last"));
  const next = Float32Array.from(engine.model.forward(Int32Array.of(ids[5]!), ids.length, evalCache.cache, "last"));
  evalCache.dispose();
  return { context, next };
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

test("prompt protocol: a context longer than one forward block is prefilled in full precision, then quantized", () => {
  const ids = longContext();
  const fp32 = lastLogits("fp32", "stream", ids);
  for (const spec of ["uniform:bits=2", "qaq:kTol=0.5,vTol=10,min=0"]) {
    const prompt = lastLogits(spec, "prompt", ids);
    // the context's logits come from the full-precision prefill: equal to fp32 (QAQ keeps its prefill tail in fp16)
    assert.ok(maxAbsDiff(prompt.context, fp32.context) < (spec.startsWith("qaq") ? 5e-2 : 1e-5), spec);
    // the next token reads the quantized context
    assert.ok(maxAbsDiff(prompt.next, fp32.next) > 1e-3, spec);
    // streaming quantizes during the prefill already
    assert.ok(maxAbsDiff(lastLogits(spec, "stream", ids).context, fp32.context) > 1e-3, spec);
  }
});

test("choices scored on one prefill (truncate between them) equal choices scored each on a fresh cache", () => {
  const ids = longContext();
  const item = {
    context: ids,
    continuations: [engine.tokenizer.encode(" She ran to the dog.", { addBos: false }), engine.tokenizer.encode(" The sun was hot.", { addBos: false })].map((c) => c.slice(1)),
    chars: [19, 16],
    gold: 0,
  };
  for (const protocol of ["prompt", "stream"] as const) {
    const shared = createEvalCache(engine, parseKvSpec("uniform:bits=3"), protocol);
    assert.equal(shared.cache.rollback.kind, "exact");
    const together = scoreChoiceItem(engine, shared, item, () => undefined, undefined);
    shared.dispose();
    item.continuations.forEach((continuation, c) => {
      const fresh = createEvalCache(engine, parseKvSpec("uniform:bits=3"), protocol);
      const [alone] = scoreChoiceItem(engine, fresh, { ...item, continuations: [continuation] }, () => undefined, undefined);
      fresh.dispose();
      assert.deepEqual([...together[c]!], [...alone!], `${protocol} choice ${c}`);
    });
  }
  for (const [spec, protocol, kind] of [
    ["h2o:budget=16", "stream", "none"],
    ["streaming:budget=16", "prompt", "none"],
    ["qaq", "stream", "none"],
    ["qaq", "prompt", "exact"],
    ["kivi:bits=2", "prompt", "exact"],
  ] as const) {
    const evalCache = createEvalCache(engine, parseKvSpec(spec), protocol);
    assert.equal(evalCache.cache.rollback.kind, kind, `${spec} under ${protocol}`);
    evalCache.dispose();
  }
});
