import { test } from "node:test";
import assert from "node:assert/strict";
import { Sampler, argmax, type SamplerConfig } from "../../src/generate/sampler.js";
import { ConfigError } from "../../src/util/errors.js";

/**
 * The sampler against probabilities worked out by hand. Logits ln(1), ln(2), ln(3), ln(4) make softmax at
 * temperature T proportional to 1, 2^(1/T), 3^(1/T), 4^(1/T):
 *   T = 1    -> 1/10, 2/10, 3/10, 4/10
 *   T = 0.5  -> 1/30, 4/30, 9/30, 16/30
 *   top-k 2 (T = 1) keeps ids 3, 2 -> 4/7, 3/7
 *   top-p 0.65 (T = 1): sorted 0.4, 0.3 reach 0.7 >= 0.65 -> ids 3, 2 renormalised -> 4/7, 3/7
 *   top-p 0.35: 0.4 alone reaches it -> id 3 always (not 0.4 itself: f32 logits make that mass 0.39999...)
 * 20000 draws: the standard error of a frequency is at most sqrt(0.25 / 20000) = 0.0035, so 0.02 is > 5 sigma.
 */
const LOGITS = Float32Array.from([1, 2, 3, 4], Math.log);
const DRAWS = 20_000;

function frequencies(config: SamplerConfig, logits = LOGITS): number[] {
  const sampler = new Sampler(config);
  const counts = new Array<number>(logits.length).fill(0);
  for (let i = 0; i < DRAWS; i++) counts[sampler.sample(logits)]!++;
  return counts.map((c) => c / DRAWS);
}

function assertClose(actual: number[], expected: number[]): void {
  actual.forEach((p, i) => assert.ok(Math.abs(p - expected[i]!) < 0.02, `id ${i}: ${p} vs ${expected[i]} (${actual.join(", ")})`));
}

const sample = (temperature: number, topK = 0, topP = 1, seed = 1): SamplerConfig => ({ kind: "sample", temperature, topK, topP, seed });

test("temperature 1 samples the softmax; temperature 0.5 sharpens it to the squares", () => {
  assertClose(frequencies(sample(1)), [0.1, 0.2, 0.3, 0.4]);
  assertClose(frequencies(sample(0.5)), [1 / 30, 4 / 30, 9 / 30, 16 / 30]);
});

test("top-k keeps the k most likely and renormalises", () => {
  assertClose(frequencies(sample(1, 2)), [0, 0, 3 / 7, 4 / 7]);
  assertClose(frequencies(sample(1, 1)), [0, 0, 0, 1]);
});

test("top-p keeps the smallest most-likely set reaching p", () => {
  assertClose(frequencies(sample(1, 0, 0.65)), [0, 0, 3 / 7, 4 / 7]);
  assertClose(frequencies(sample(1, 0, 0.35)), [0, 0, 0, 1]);
});

test("the same seed gives the same draws, another seed other draws", () => {
  const draws = (seed: number) => {
    const sampler = new Sampler(sample(1, 0, 1, seed));
    return Array.from({ length: 64 }, () => sampler.sample(LOGITS));
  };
  assert.deepEqual(draws(7), draws(7));
  assert.notDeepEqual(draws(7), draws(8));
});

test("greedy is the argmax, the first index on ties", () => {
  assert.equal(new Sampler({ kind: "greedy" }).sample(LOGITS), 3);
  assert.equal(argmax(Float32Array.of(1, 5, 5, 2)), 1);
});

test("settings out of range are ConfigErrors naming the setting", () => {
  assert.throws(() => new Sampler(sample(0)), (e: unknown) => e instanceof ConfigError && e.field === "temperature");
  assert.throws(() => new Sampler(sample(1, -1)), (e: unknown) => e instanceof ConfigError && e.field === "top-k");
  assert.throws(() => new Sampler(sample(1, 0, 0)), (e: unknown) => e instanceof ConfigError && e.field === "top-p");
  assert.throws(() => new Sampler(sample(1, 0, 1, -3)), (e: unknown) => e instanceof ConfigError && e.field === "seed");
});
