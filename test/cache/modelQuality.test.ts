/**
 * Model-level evidence on the bundled stories260K (perplexity of the TinyStories head, 1500 tokens, windows of the
 * model's 512-token context), every cache against the fp32 cache of the same engine in the same run:
 * - 8-bit packed caches (uniform, q8_0) stay within 0.5% of fp32, KIVI-4 within 1%;
 * - eviction caches whose budget exceeds the window evict nothing and must equal fp16 exactly (same fp16 storage,
 *   same kernels, only the slot bookkeeping differs);
 * - QAQ's key/value asymmetry (QAQ-METHOD.md section 1): 2-bit keys hurt far more than 2-bit values.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Engine } from "../../src/engine/Engine.js";
import { parseKvSpec } from "../../src/cache/spec.js";
import { perplexity } from "../../src/eval/perplexity.js";
import { BUNDLED_MODEL, BUNDLED_TOKENIZER, SKIP_SHARED, TINYSTORIES } from "../support/paths.js";

let engine: Engine;
let ids: Int32Array;
before(async () => {
  if (SKIP_SHARED) return;
  engine = await Engine.load(BUNDLED_MODEL, BUNDLED_TOKENIZER, 2);
  ids = engine.tokenizer.encode(readFileSync(TINYSTORIES, "utf8"), { addBos: true }).subarray(0, 1500);
});
after(() => engine?.dispose());

function ppl(spec: string): number {
  const cache = engine.createCache(parseKvSpec(spec));
  try {
    return perplexity(engine, cache, ids, engine.config.seqLen).ppl;
  } finally {
    cache.dispose();
  }
}

test("8-bit caches stay within 0.5% of the fp32 perplexity, KIVI-4 within 1%", { skip: SKIP_SHARED }, () => {
  const reference = ppl("fp32");
  for (const spec of ["uniform:bits=8", "uniform:bits=8,group=layer", "blockq:q8_0"]) {
    const got = ppl(spec);
    assert.ok(Math.abs(got / reference - 1) < 0.005, `${spec}: ppl ${got} vs fp32 ${reference}`);
  }
  // KIVI-4: 4-bit blocks beyond a 128-token fp16 residual (windows of 512 tokens are mostly quantized)
  const kivi = ppl("kivi:bits=4");
  assert.ok(Math.abs(kivi / reference - 1) < 0.01, `kivi:bits=4: ppl ${kivi} vs fp32 ${reference}`);
});

test("eviction caches with a budget above the window equal fp16 exactly", { skip: SKIP_SHARED }, () => {
  const reference = ppl("fp16");
  for (const spec of ["h2o:budget=600", "streaming:budget=600", "uniform:bits=16"]) assert.equal(ppl(spec), reference, spec);
});

test("eviction at a small budget costs perplexity (it really evicts)", { skip: SKIP_SHARED }, () => {
  const reference = ppl("fp16");
  for (const spec of ["h2o:budget=32", "streaming:budget=32"]) assert.ok(ppl(spec) > reference * 1.05, spec);
});

test("2-bit keys hurt far more than 2-bit values (QAQ's key/value asymmetry)", { skip: SKIP_SHARED }, () => {
  const keys2 = ppl("uniform:k=2,v=16");
  const values2 = ppl("uniform:k=16,v=2");
  const reference = ppl("fp32");
  assert.ok(keys2 > 3 * reference, `2-bit keys: ${keys2}`);
  assert.ok(values2 < 1.1 * reference, `2-bit values: ${values2}`);
});
