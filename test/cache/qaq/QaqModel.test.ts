/**
 * QAQ on the bundled stories260K (perplexity of the TinyStories head, 1500 tokens, 512-token windows), against the
 * fp32 cache of the same engine in the same run. group=layer: with head size 8, a per-head group of 8 values costs
 * 9 ledger bytes, more than its codes, so per-token groups are the ones that compress this model.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Engine } from "../../../src/engine/Engine.js";
import { parseKvSpec } from "../../../src/cache/spec.js";
import { perplexity } from "../../../src/eval/perplexity.js";
import { paperBitsPerValue } from "../../../src/cache/paperBits.js";
import { QaqCache } from "../../../src/cache/qaq/QaqCache.js";
import { BUNDLED_MODEL, BUNDLED_TOKENIZER, SKIP_SHARED, TINYSTORIES } from "../../support/paths.js";

let engine: Engine;
let ids: Int32Array;
before(async () => {
  if (SKIP_SHARED) return;
  engine = await Engine.load(BUNDLED_MODEL, BUNDLED_TOKENIZER, 2);
  ids = engine.tokenizer.encode(readFileSync(TINYSTORIES, "utf8"), { addBos: true }).subarray(0, 1500);
});
after(() => engine?.dispose());

/** ppl, the paper's bits per value and QAQ's counters at the end of the run. */
function run(spec: string) {
  const cache = engine.createCache(parseKvSpec(spec));
  try {
    const result = perplexity(engine, cache, ids, engine.config.seqLen);
    const stats = cache instanceof QaqCache ? cache.stats() : null;
    return { ppl: result.ppl, paperBits: paperBitsPerValue(cache.paperBits()), stats };
  } finally {
    cache.dispose();
  }
}

test("stream QAQ at the default tolerances: within 1% of fp32 at under 6 paper bits, re-quantizing as it goes", { skip: SKIP_SHARED }, () => {
  const reference = run("fp32").ppl;
  for (const spec of ["qaq:group=layer", "qaq:group=layer,backing=none", "qaq:group=layer,sinks=2,outliers=0"]) {
    const { ppl, paperBits, stats } = run(spec);
    assert.ok(Math.abs(ppl / reference - 1) < 0.01, `${spec}: ppl ${ppl} vs fp32 ${reference}`);
    assert.ok(paperBits < 6, `${spec}: ${paperBits} paper bits per value`);
    assert.ok(stats!.quantized > 0 && stats!.requantized > 0, `${spec}: ${JSON.stringify(stats)}`);
  }
});

test("the authors' code variant spends fewer bits than the paper's at the same tolerances, at some cost", { skip: SKIP_SHARED }, () => {
  const reference = run("fp32").ppl;
  const paper = run("qaq:group=layer");
  const code = run("qaq:group=layer,variant=code");
  assert.ok(code.paperBits < paper.paperBits, `code ${code.paperBits} vs paper ${paper.paperBits} bits`);
  assert.ok(code.ppl < 1.1 * reference, `code variant ppl ${code.ppl} vs fp32 ${reference}`);
});

test("looser tolerances give fewer bits and a higher perplexity", { skip: SKIP_SHARED }, () => {
  const tight = run("qaq:group=layer,kTol=0.0005,vTol=0.01");
  const loose = run("qaq:group=layer,kTol=0.02,vTol=0.5");
  assert.ok(loose.paperBits < tight.paperBits, `paper bits ${loose.paperBits} vs ${tight.paperBits}`);
  assert.ok(loose.ppl > tight.ppl, `ppl ${loose.ppl} vs ${tight.ppl}`);
});

test("prompt mode quantizes each window's first block once and never re-quantizes", { skip: SKIP_SHARED }, () => {
  const { ppl, stats } = run("qaq:group=layer,mode=prompt");
  assert.equal(stats!.requantized, 0);
  assert.ok(stats!.quantized > 0);
  assert.ok(Number.isFinite(ppl));
});
