import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Compute } from "../../src/kernels/Compute.js";
import { createCache } from "../../src/cache/createCache.js";
import { cacheReport } from "../../src/cache/cacheReport.js";
import { parseKvSpec } from "../../src/cache/spec.js";
import type { ModelConfig } from "../../src/model/config.js";
import { PLAIN_LLAMA } from "../../src/model/architectures/llama.js";
import { Rng } from "../../src/util/rng.js";
import { syntheticKv } from "./attentionHarness.js";

let compute: Compute;
before(async () => {
  compute = await Compute.create(1);
});
after(() => compute.dispose());

const config: ModelConfig = {
  dim: 128, hiddenDim: 256, nLayers: 2, nHeads: 4, nKvHeads: 2, headDim: 32, vocabSize: 10, seqLen: 128, ropeTheta: 10000, normEps: 1e-5, arch: PLAIN_LLAMA,
};
const kvDim = config.nKvHeads * config.headDim;

function filled(spec: string, tokens: number) {
  const cache = createCache(compute, { nLayers: 2, nKvHeads: 2, headDim: 32, maxTokens: 128 }, parseKvSpec(spec));
  const rng = new Rng(3);
  for (let l = 0; l < 2; l++) cache.append(l, 0, tokens, syntheticKv(rng, tokens, kvDim, new Float32Array(kvDim)), syntheticKv(rng, tokens, kvDim, new Float32Array(kvDim)));
  cache.endForward(0, tokens);
  return cache;
}

test("honest figures come from the measured bytes; the paper figure from code widths alone", () => {
  const cache = filled("uniform:k=4,v=2,outliers=0.1", 40);
  const report = cacheReport(cache, config);
  const bytes = cache.nbytes();
  const values = 40 * 2 * 2 * kvDim; // tokens × layers × (K, V) × kvDim
  assert.equal(report.tokens, 40);
  assert.equal(report.hotBytes, bytes.hot);
  assert.equal(report.bitsPerValue, (8 * bytes.hot) / values);
  assert.equal(report.ratioVsFp16, (2 * values) / bytes.hot);
  // groups of 32 with ratio 0.1: round(0.1·32) = 3 pooled outliers, α = 3/32
  const alpha = 3 / 32;
  const perValue = ((1 - alpha) * 4 + 16 * alpha + (1 - alpha) * 2 + 16 * alpha) / 2;
  assert.ok(Math.abs(report.paperBitsPerValue - perValue) < 1e-12);
  assert.ok(Math.abs(report.paperRatio - 16 / perValue) < 1e-12);
  assert.ok(report.ratioVsFp16 < report.paperRatio, "metadata and outlier positions cost real bytes");
  cache.dispose();
});

test("paper figures of the baselines: fp16 1x, fp32 0.5x, q4_0 4x, an eviction cache seen/kept", () => {
  const expected: Array<[string, number]> = [["fp16", 1], ["fp32", 0.5], ["blockq:q4_0", 4], ["streaming:budget=10,sinks=2", 4]];
  for (const [spec, ratio] of expected) {
    const cache = filled(spec, 40);
    assert.ok(Math.abs(cacheReport(cache, config).paperRatio - ratio) < 1e-12, spec);
    cache.dispose();
  }
});

test("an empty cache reports zeros, not NaN", () => {
  const cache = createCache(compute, { nLayers: 2, nKvHeads: 2, headDim: 32, maxTokens: 128 }, parseKvSpec("kivi:bits=2"));
  const report = cacheReport(cache, config);
  assert.deepEqual([report.bitsPerValue, report.ratioVsFp16, report.paperBitsPerValue, report.paperRatio], [0, 0, 0, 0]);
  cache.dispose();
});
