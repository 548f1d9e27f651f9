import { test } from "node:test";
import assert from "node:assert/strict";
import { QueryNormQuantile } from "../../../src/cache/qaq/QueryNormQuantile.js";
import { Rng } from "../../../src/util/rng.js";
import { assertConfigError } from "../../quant/assertConfigError.js";

/** The estimator's guarantee: same log bin as the exact order statistic, bins 2^(1/16) wide. */
const BIN_RELATIVE_WIDTH = 2 ** (1 / 16) - 1;

/** Exact p-quantile by the estimator's definition: x_(k), k = max(1, ceil(p·N)), from a sorted copy. */
function exactQuantile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const k = Math.max(1, Math.ceil(p * sorted.length - 1e-9 * sorted.length));
  return sorted[k - 1]!;
}

function relativeError(estimate: number, exact: number): number {
  return Math.abs(estimate - exact) / exact;
}

test("the 0.9-quantile of 1..10 is the 9th value; estimate within one bin", () => {
  const estimator = new QueryNormQuantile(1, 1, 0.9);
  for (let x = 1; x <= 10; x++) estimator.observeNormSq(0, 0, x);
  // k = ceil(0.9·10) = 9 -> x_(9) = 9
  assert.equal(exactQuantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9), 9);
  assert.ok(relativeError(estimator.estimate(0, 0), 9) < BIN_RELATIVE_WIDTH, `${estimator.estimate(0, 0)}`);
  assert.equal(estimator.count(0, 0), 10);
});

test("large lognormal sample: estimate within 1% of the exact quantile", () => {
  const rng = new Rng(21);
  for (const p of [0.5, 0.9, 0.99]) {
    const estimator = new QueryNormQuantile(1, 1, p);
    const samples: number[] = [];
    for (let i = 0; i < 20000; i++) {
      const x = Math.exp(1.5 * rng.normal() + 0.5);
      samples.push(x);
      estimator.observeNormSq(0, 0, x);
    }
    const exact = exactQuantile(samples, p);
    assert.ok(relativeError(estimator.estimate(0, 0), exact) < 0.01, `p=${p}: ${estimator.estimate(0, 0)} vs ${exact}`);
  }
});

test("any sample size: estimate in the exact quantile's bin (relative error < 4.4%)", () => {
  const rng = new Rng(22);
  for (let trial = 0; trial < 300; trial++) {
    const n = 1 + Math.floor(rng.next() * 200);
    const p = rng.uniform(0.05, 1);
    const estimator = new QueryNormQuantile(1, 1, p);
    const samples: number[] = [];
    const scale = Math.exp(rng.uniform(-10, 10));
    for (let i = 0; i < n; i++) {
      const x = scale * rng.uniform(0.1, 3) ** 3;
      samples.push(x);
      estimator.observeNormSq(0, 0, x);
    }
    const exact = exactQuantile(samples, p);
    const estimate = estimator.estimate(0, 0);
    assert.ok(relativeError(estimate, exact) < BIN_RELATIVE_WIDTH, `n=${n} p=${p}: ${estimate} vs ${exact}`);
  }
});

test("p = 1 is the exact maximum; all-zero queries give 0; no sample gives NaN", () => {
  const estimator = new QueryNormQuantile(1, 2, 1);
  for (const x of [0.3, 7.25, 2]) estimator.observeNormSq(0, 0, x);
  assert.equal(estimator.estimate(0, 0), 7.25);
  assert.ok(Number.isNaN(estimator.estimate(0, 1)));
  estimator.observeNormSq(0, 1, 0);
  estimator.observeNormSq(0, 1, 0);
  assert.equal(estimator.estimate(0, 1), 0);
});

test("observe takes ‖q‖² of each query row; units are independent; estimateLayer is the max over heads", () => {
  const estimator = new QueryNormQuantile(2, 2, 1);
  // rows (3, 4) and (1, 2): squared norms 25 and 5
  estimator.observe(1, 0, new Float32Array([3, 4, 1, 2]), 2, 2);
  estimator.observe(1, 1, new Float32Array([0, 6]), 1, 2);
  assert.equal(estimator.estimate(1, 0), 25);
  assert.equal(estimator.estimate(1, 1), 36);
  assert.equal(estimator.estimateLayer(1), 36);
  assert.equal(estimator.count(0, 0), 0);
  assert.ok(Number.isNaN(estimator.estimateLayer(0)));
  estimator.reset();
  assert.equal(estimator.count(1, 0), 0);
});

test("counters cover only the observed span: a factor of 1000 costs under 1 KB per head", () => {
  const estimator = new QueryNormQuantile(4, 2, 0.9);
  const rng = new Rng(23);
  for (let i = 0; i < 5000; i++) estimator.observeNormSq(i % 4, i % 2, 0.1 * 1000 ** rng.next());
  // log2(1000) = 10 octaves x 16 bins + 2 x 16 headroom = 192 counters x 4 bytes = 768 bytes per head
  assert.ok(estimator.byteLength < 8 * 1024, `${estimator.byteLength} bytes`);
  estimator.observeNormSq(0, 0, 1e9);
  estimator.observeNormSq(0, 0, 0);
  // i % 4 and i % 2 pair layer 0 with head 0 for every 4th sample: 1250, plus the two extremes
  assert.equal(estimator.count(0, 0), 1252);
});

test("bad arguments fail with a ConfigError", () => {
  assertConfigError(() => new QueryNormQuantile(1, 1, 0), "quantile", "(0, 1]");
  assertConfigError(() => new QueryNormQuantile(0, 1, 0.9), "nLayers", "≥ 1");
  const estimator = new QueryNormQuantile(1, 1, 0.9);
  assertConfigError(() => estimator.observeNormSq(0, 0, Number.NaN), "query norm²", "finite");
  assertConfigError(() => estimator.observeNormSq(0, 1, 1), "kvHead", "0..0");
  assertConfigError(() => estimator.observe(0, 0, new Float32Array(3), 2, 2), "q", "2x2");
});
